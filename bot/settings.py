"""Security-relevant settings of the Linli server, read once from the environment.

Every value has a closed default (README "Security"); ``.env.example`` lists them.

- ``LINLI_ENABLE_API`` (``false``): Rasa's HTTP API (``/conversations``, ``/model``...).
  Enabling it without ``RASA_AUTH_TOKEN`` (or ``RASA_JWT_SECRET``) refuses to start.
- ``LINLI_REST_TOKEN`` (empty = the REST channel is closed): the bearer token of
  ``/webhooks/rest/webhook``; its conversations are always ``rest:<sender>``.
- ``ACTION_SERVER_TOKEN``: shared secret between Rasa and the action server
  (``Authorization: Bearer``); empty = the action server refuses every call.
- ``LINLI_SECRET_KEY``: signs the web widget's sessions; empty = a random key kept in
  ``var/secret_key`` (fine for one machine; set it when several machines serve).
- ``LINLI_CORS_ORIGINS`` (empty = same origin only): comma-separated origins allowed to
  call Linli from a browser, never with credentials.
- ``LINLI_COOKIE_SECURE`` (``true``): ``false`` only for development over plain HTTP on a
  host other than localhost.
- ``LINLI_PROXIES_COUNT`` (0), ``LINLI_FORWARDED_SECRET``, ``LINLI_REAL_IP_HEADER``: which
  reverse proxy is trusted for the client address and scheme (Sanic's forwarded settings).
- ``LINLI_MAX_BODY_BYTES`` (1 MiB): larger request bodies get 413.
- ``LINLI_RETENTION_DAYS`` (365; 0 = keep forever) and ``LINLI_RETENTION_INTERVAL_SECONDS``
  (86400): transcripts and residents' personal data older than that are deleted or anonymised.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Tuple

from bot import ROOT


class ConfigurationError(SystemExit):
    """A setting is unsafe or invalid: the server refuses to start (exit status 2)."""

    def __init__(self, message: str) -> None:
        self.message = f"Linli refuses to start: {message}"
        super().__init__(self.message)


def is_true(value: str) -> bool:
    """A boolean setting's text: 1/true/yes/on."""
    return value.strip().lower() in ("1", "true", "yes", "on")


def flag(name: str, default: bool = False) -> bool:
    """A boolean environment variable (1/true/yes/on); ``default`` when unset or empty."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return is_true(value)


def _int(name: str, default: int) -> int:
    value = (os.environ.get(name) or "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from exc


def _secret_file(path: Path) -> str:
    """A random secret kept in ``path`` (created once, readable by this user only)."""
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return value


@lru_cache(maxsize=1)
def secret_key() -> bytes:
    """``LINLI_SECRET_KEY``, else the machine's random key in ``var/secret_key`` (read once per process)."""
    value = os.environ.get("LINLI_SECRET_KEY", "").strip()
    if not value:
        path = Path(os.environ.get("LINLI_SECRET_KEY_FILE") or ROOT / "var" / "secret_key")
        try:
            value = _secret_file(path)
        except FileExistsError:  # another process created it meanwhile
            value = path.read_text().strip()
    return value.encode()


@dataclass(frozen=True)
class Settings:
    """The server's security settings (see the module docstring)."""

    enable_api: bool = False
    auth_token: Optional[str] = None
    jwt_secret: Optional[str] = None
    rest_token: str = ""
    action_token: str = ""
    cors_origins: Tuple[str, ...] = ()
    cookie_secure: bool = True
    proxies_count: int = 0
    forwarded_secret: str = ""
    real_ip_header: str = ""
    max_body_bytes: int = 1024 * 1024
    retention_days: int = 365
    retention_interval: int = 86400

    @classmethod
    def from_env(cls) -> "Settings":
        """Read and check the settings; raises :class:`ConfigurationError` when unsafe."""
        origins = tuple(o.strip().rstrip("/") for o in os.environ.get("LINLI_CORS_ORIGINS", "").split(",") if o.strip())
        if "*" in origins:
            raise ConfigurationError("LINLI_CORS_ORIGINS may not be '*': list the sites that embed Linli")
        settings = cls(
            enable_api=flag("LINLI_ENABLE_API"),
            auth_token=os.environ.get("RASA_AUTH_TOKEN", "").strip() or None,
            jwt_secret=os.environ.get("RASA_JWT_SECRET", "").strip() or None,
            rest_token=os.environ.get("LINLI_REST_TOKEN", "").strip(),
            action_token=os.environ.get("ACTION_SERVER_TOKEN", "").strip(),
            cors_origins=origins,
            cookie_secure=flag("LINLI_COOKIE_SECURE", True),
            proxies_count=_int("LINLI_PROXIES_COUNT", 0),
            forwarded_secret=os.environ.get("LINLI_FORWARDED_SECRET", "").strip(),
            real_ip_header=os.environ.get("LINLI_REAL_IP_HEADER", "").strip(),
            max_body_bytes=_int("LINLI_MAX_BODY_BYTES", 1024 * 1024),
            retention_days=_int("LINLI_RETENTION_DAYS", 365),
            retention_interval=_int("LINLI_RETENTION_INTERVAL_SECONDS", 86400),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unsafe combinations."""
        if self.enable_api and not (self.auth_token or self.jwt_secret):
            raise ConfigurationError(
                "LINLI_ENABLE_API=true needs RASA_AUTH_TOKEN (or RASA_JWT_SECRET): "
                "Rasa's HTTP API reads and rewrites every conversation"
            )
        for name, value in (("RASA_AUTH_TOKEN", self.auth_token), ("LINLI_REST_TOKEN", self.rest_token),
                            ("ACTION_SERVER_TOKEN", self.action_token)):
            if value and len(value) < 16:
                raise ConfigurationError(f"{name} is too short: use at least 16 random characters "
                                         "(e.g. `openssl rand -hex 32`)")
        if self.proxies_count < 0:
            raise ConfigurationError("LINLI_PROXIES_COUNT must be 0 or more")
        if self.max_body_bytes < 1024:
            raise ConfigurationError("LINLI_MAX_BODY_BYTES must be at least 1024")

    def configure_sanic(self, app) -> None:  # type: ignore[no-untyped-def]
        """Sanic's proxy and size settings: forwarded headers are trusted only as configured."""
        app.config.PROXIES_COUNT = self.proxies_count or None
        app.config.FORWARDED_SECRET = self.forwarded_secret or None
        app.config.REAL_IP_HEADER = self.real_ip_header or None
        app.config.REQUEST_MAX_SIZE = self.max_body_bytes


# ---------------------------------------------------------------- redaction
#: Environment variables whose values never appear in an error shown, stored or logged.
SECRET_VARIABLES = (
    "WECHAT_APP_SECRET", "WECHAT_TOKEN", "WECHAT_ENCODING_AES_KEY", "TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
    "RASA_AUTH_TOKEN", "RASA_JWT_SECRET", "LINLI_REST_TOKEN", "ACTION_SERVER_TOKEN", "LINLI_SECRET_KEY",
    "LINLI_ADMIN_PASSWORD", "LINLI_STAFF_PASSWORD", "LINLI_FORWARDED_SECRET", "LLM_API_KEY", "OPENAI_API_KEY",
    "LINLI_METRICS_TOKEN",
)
_QUERY_SECRET = re.compile(
    r"(?i)\b(secret|appsecret|app_secret|access_token|token|password|passwd|api_key|apikey|key|signature"
    r"|msg_signature)=([^&\s'\"<>]+)")
_TELEGRAM_BOT = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+):([^@\s]+)@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact(text: object) -> str:
    """``text`` with secrets replaced by ``***``: query parameters like ``secret=``, bot tokens
    in Telegram URLs, passwords in database URLs, bearer tokens and every configured secret."""
    value = str(text)
    for name in SECRET_VARIABLES:
        secret = os.environ.get(name, "")
        if len(secret) >= 6:
            value = value.replace(secret, "***")
    value = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}=***", value)
    value = _TELEGRAM_BOT.sub("/bot***", value)
    value = _URL_PASSWORD.sub(r"\1:***@", value)
    return _BEARER.sub(r"\1 ***", value)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts messages and tracebacks (installed on the root handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction() -> None:
    """Redact every record that reaches a root handler (call after logging is configured)."""
    flt = RedactingFilter()
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    for name in ("sanic.error", "sanic.root", "sanic.access", "rasa", "rasa_sdk"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(flt)
