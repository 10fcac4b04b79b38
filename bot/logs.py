"""Log format of the Linli processes: ``LINLI_LOG_FORMAT=text`` (default) or ``json``.

``json`` writes one JSON object per line (python-json-logger) for journald/Loki/ELK:
``{"timestamp", "level", "logger", "message", "process", ...}``, with the exception as
``exc_info``. Rasa's own structured events (structlog renders them as a JSON string)
are merged in: their ``event`` becomes the message, their other fields go under ``rasa``.

Secrets stay out either way: the :class:`bot.settings.RedactingFilter` still runs on
every record, and this formatter redacts every string it writes (an exception formatted
here, ``extra=`` fields, Rasa's structured fields), which the filter alone cannot reach.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Iterable, Optional

from pythonjsonlogger.json import JsonFormatter

from bot.settings import Operations, redact

VARIABLE: str = Operations.variables()["log_format"].name  # LINLI_LOG_FORMAT
FORMATS: tuple = Operations.variables()["log_format"].choices  # text, json
#: The loggers whose handlers Linli's processes write through (as bot.settings.install_log_redaction).
SANIC_LOGGERS = ("sanic.error", "sanic.root", "sanic.access")
LOGGERS = ("", *SANIC_LOGGERS, "rasa", "rasa_sdk")


def log_format(value: Optional[str] = None) -> str:
    """The configured format; refuses (exit status 2) anything but ``text`` or ``json``."""
    return Operations.read("log_format") if value is None else Operations.parse("log_format", value)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


class LinliJsonFormatter(JsonFormatter):
    """One redacted JSON object per record (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            json_ensure_ascii=False,  # residents write Chinese: keep it readable
        )

    def process_log_record(self, log_data: Dict[str, Any]) -> Dict[str, Any]:
        message = log_data.get("message")
        if isinstance(message, str) and message.startswith("{") and message.endswith("}"):
            try:  # a structlog event from Rasa, already rendered as JSON
                event = json.loads(message)
            except ValueError:
                event = None
            if isinstance(event, dict):
                log_data["message"] = str(event.pop("event", ""))
                event.pop("level", None)  # the record has its own level
                if event:
                    log_data["rasa"] = event
        return log_data

    def jsonify_log_record(self, log_data: Dict[str, Any]) -> str:
        # Serialise once with the library's encoder (datetimes, exceptions, objects), then
        # redact every string of the result: nothing reaches the line unredacted.
        plain = json.loads(super().jsonify_log_record(log_data))
        return json.dumps(_redacted(plain), ensure_ascii=False, default=str)


def _handlers(names: Iterable[str]) -> Iterable[logging.Handler]:
    seen = set()
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if id(handler) not in seen:
                seen.add(id(handler))
                yield handler


def install_log_format(value: Optional[str] = None) -> str:
    """Apply ``LINLI_LOG_FORMAT`` to the root, Sanic and Rasa handlers; returns the format.

    Call after logging is configured (like ``install_log_redaction``, and again at server
    start: Rasa's app reconfigures Sanic's loggers). ``text`` leaves the formats as they are.
    """
    chosen = log_format(value)
    if chosen == "json":
        for handler in _handlers(LOGGERS):
            if not isinstance(handler.formatter, LinliJsonFormatter):
                handler.setFormatter(LinliJsonFormatter())
        for name in SANIC_LOGGERS:
            # Sanic's loggers have their own handler (Rasa's dictConfig) *and* propagate to the
            # root's: every record would be written twice, now as two identical JSON lines.
            sanic_logger = logging.getLogger(name)
            if sanic_logger.handlers and logging.getLogger().handlers:
                sanic_logger.propagate = False
    return chosen
