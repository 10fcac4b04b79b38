"""Every Linli setting: its environment variable and its default, written once.

Each area is a frozen dataclass whose fields are declared with :func:`env_field`
(variable, default, checks). ``.env.example`` lists every variable with the same
default and ``tests/test_settings.py`` keeps the two in step; ``scripts/env.sh`` sets
only what the shell scripts and Rasa's own ``${VAR}`` substitution in ``endpoints.yml``
need. An empty variable counts as unset: the default applies. A value Linli cannot use
raises :class:`SettingError` naming the variable (the servers refuse to start, exit status 2).

Two ways to read them, through the same declarations:

- :func:`settings`: every area, parsed and checked once per process (cached). The
  servers call it first thing, so every bad value is reported before anything loads;
  tests that change the environment call :func:`reload` (``tests/conftest.py`` does
  before each test).
- ``Area.from_env()`` / ``Area.read("field")``: the environment as it is now, for values
  that code consults on every call (the database URL, ``REDIS_URL``, handoff and
  knowledge-base settings, the channels' fallbacks to ``credentials.yml``).

Security (:class:`Settings`, alias :class:`Security`): every value has a closed default
(README "Security").

- ``LINLI_ENABLE_API`` (``false``): Rasa's HTTP API (``/conversations``, ``/model``...).
  Enabling it without ``RASA_AUTH_TOKEN`` (or ``RASA_JWT_SECRET``) refuses to start.
- ``LINLI_REST_TOKEN`` (empty = the REST channel is closed): the bearer token of
  ``/webhooks/rest/webhook``; its conversations are always ``rest:<sender>``.
- ``ACTION_SERVER_TOKEN``: shared secret between Rasa and the action server
  (``Authorization: Bearer``); empty = the action server refuses every call.
- ``LINLI_SECRET_KEY``: signs the web widget's sessions; empty = a random key kept in
  ``var/secret_key`` (``LINLI_SECRET_KEY_FILE``; fine for one machine; set the key when
  several machines serve).
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
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar

from bot import ROOT

#: Key of a field's :class:`Variable` in its dataclass metadata.
ENV = "linli_env"


class ConfigurationError(SystemExit):
    """A setting is unsafe or invalid: the server refuses to start (exit status 2)."""

    def __init__(self, message: str) -> None:
        self.message = f"Linli refuses to start: {message}"
        super().__init__(self.message)


class SettingError(ConfigurationError, ValueError):
    """One variable has a value Linli cannot use (a ``ValueError`` too, for callers that catch that)."""


# ---------------------------------------------------------------- parsing
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def exit_on_refusal(main: "Callable[[Optional[List[str]]], None]", argv: "Optional[List[str]]" = None) -> None:
    """Run a server's ``main``; a refusal (unsafe settings, out-of-date database) goes to stderr, exit 2."""
    import sys

    try:
        main(argv)
    except ConfigurationError as exc:
        print(exc.message, file=sys.stderr)
        raise SystemExit(2) from None


def is_true(value: str) -> bool:
    """A boolean setting's text: 1/true/yes/on."""
    return value.strip().lower() in _TRUE


# Each parser gets the stripped, non-empty text and raises ValueError("<what it must be>").
def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise ValueError("true or false")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("a whole number") from None


def _count(text: str) -> int:
    """A whole number, also written as a float (``12.0``), as the outbox always accepted."""
    try:
        return int(float(text))
    except ValueError:
        raise ValueError("a whole number") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("a number") from None


def _text(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


def _origins(text: str) -> Tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())


def _timezone(text: str) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(text)
    except Exception:  # ZoneInfoNotFoundError, or a malformed key (ValueError)
        raise ValueError("an IANA time zone such as Asia/Shanghai") from None
    return text


def _parser_for(default: Any) -> Callable[[str], Any]:
    if isinstance(default, bool):
        return _bool
    if isinstance(default, int):
        return _int
    if isinstance(default, float):
        return _float
    if default is None or isinstance(default, str):
        return _text
    raise TypeError(f"no parser for a default of type {type(default).__name__}: pass parse=")


# ---------------------------------------------------------------- declaring
@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, default (used when unset or empty) and checks."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    minimum: Optional[float] = None
    choices: Tuple[str, ...] = ()
    secret: bool = False
    strip: bool = True

    def value(self, raw: Optional[str], label: str = "") -> Any:
        """``raw`` parsed and checked (``label`` names where it came from in errors)."""
        text = "" if raw is None else str(raw)
        if not text.strip():
            return self.default
        text = text.strip() if self.strip else text
        label = label or self.name
        shown = "its value" if self.secret else repr(text)  # a secret is never echoed
        try:
            value = self.parse(text)
        except ValueError as exc:
            raise SettingError(f"{label} must be {exc}, not {shown}") from None
        if self.choices and value not in self.choices:
            raise SettingError(f"{label} must be {' or '.join(map(repr, self.choices))}, not {shown}")
        if self.minimum is not None and value < self.minimum:
            raise SettingError(f"{label} must be at least {self.minimum:g}, not {shown}")
        return value


def env_field(name: str, default: Any, *, parse: Optional[Callable[[str], Any]] = None,
              minimum: Optional[float] = None, choices: Tuple[str, ...] = (), secret: bool = False,
              strip: bool = True) -> Any:
    """A dataclass field read from the environment variable ``name`` (``default`` when unset or empty).

    ``parse`` defaults to the type of ``default`` (bool: 1/true/yes/on or 0/false/no/off,
    int, float, str); ``minimum`` and ``choices`` refuse other values; ``secret`` keeps the
    value out of ``repr``, error messages and logs (:func:`redact`); ``strip=False`` keeps
    surrounding spaces (passwords).
    """
    variable = Variable(name, default, parse or _parser_for(default), minimum, tuple(choices), secret, strip)
    return field(default=default, repr=not secret, metadata={ENV: variable})


A = TypeVar("A", bound="Area")
_VARIABLES: Dict[type, Dict[str, Variable]] = {}


class Area:
    """Base of the settings dataclasses: reading their :func:`env_field` fields."""

    @classmethod
    def variables(cls) -> Dict[str, Variable]:
        """Field name → its variable."""
        if cls not in _VARIABLES:
            _VARIABLES[cls] = {f.name: f.metadata[ENV] for f in fields(cls) if ENV in f.metadata}  # type: ignore[arg-type]
        return _VARIABLES[cls]

    @classmethod
    def from_env(cls: Type[A], overrides: Optional[Mapping[str, Any]] = None) -> A:
        """The area from the environment as it is now, then :meth:`check`.

        ``overrides`` (by field name, e.g. a channel's ``credentials.yml`` keys) win over the
        environment unless they are ``None`` or empty.
        """
        given = overrides or {}
        area = cls(**{name: cls.read(name, given.get(name)) for name in cls.variables()})  # type: ignore[call-arg]
        area.check()
        return area

    @classmethod
    def read(cls, name: str, override: Any = None) -> Any:
        """One field from the environment as it is now (``override`` wins unless ``None`` or empty)."""
        variable = cls.variables()[name]
        if override is None or (isinstance(override, str) and not override.strip()):
            return variable.value(os.environ.get(variable.name))
        return variable.value(str(override), label=f"{name} (which replaces {variable.name})")

    @classmethod
    def parse(cls, name: str, text: Optional[str]) -> Any:
        """``text`` parsed and checked as field ``name``'s variable would be (empty: the default)."""
        return cls.variables()[name].value(text)

    def check(self) -> None:
        """Refuse unsafe combinations of this area's values (raise :class:`ConfigurationError`)."""


# ---------------------------------------------------------------- the areas
@dataclass(frozen=True)
class Network(Area):
    """Where the servers listen (scripts/run.sh passes the same values on the command line)."""

    host: str = env_field("LINLI_HOST", "127.0.0.1")
    rasa_port: int = env_field("RASA_PORT", 5005)
    action_port: int = env_field("ACTION_PORT", 5055)


@dataclass(frozen=True)
class Paths(Area):
    """Files the servers load; relative paths are taken from the repository root."""

    model: str = env_field("LINLI_MODEL", "models/rasa/current.tar.gz")
    credentials: str = env_field("LINLI_CREDENTIALS", "credentials.yml")
    models_dir: str = env_field("LINLI_MODELS_DIR", "models/pretrained")  # provisioned pretrained models


@dataclass(frozen=True)
class Databases(Area):
    """Linli's tables (any SQLAlchemy URL) and Rasa's conversations (``endpoints.yml``)."""

    url: str = env_field("DATABASE_URL", "sqlite:///var/linli.db")
    tracker_url: str = env_field("TRACKER_STORE_URL", "")  # empty: the SQLite file tracker_db
    tracker_db: str = env_field("TRACKER_STORE_DB", "var/tracker.db")


@dataclass(frozen=True)
class Redis(Area):
    """Shared state of several server processes (``None``: one process, everything local)."""

    url: Optional[str] = env_field("REDIS_URL", None)


@dataclass(frozen=True)
class Settings(Area):
    """The server's security settings (see the module docstring)."""

    enable_api: bool = env_field("LINLI_ENABLE_API", False)
    auth_token: Optional[str] = env_field("RASA_AUTH_TOKEN", None, secret=True)
    jwt_secret: Optional[str] = env_field("RASA_JWT_SECRET", None, secret=True)
    rest_token: str = env_field("LINLI_REST_TOKEN", "", secret=True)
    action_token: str = env_field("ACTION_SERVER_TOKEN", "", secret=True)
    cors_origins: Tuple[str, ...] = env_field("LINLI_CORS_ORIGINS", (), parse=_origins)
    cookie_secure: bool = env_field("LINLI_COOKIE_SECURE", True)
    proxies_count: int = env_field("LINLI_PROXIES_COUNT", 0)
    forwarded_secret: str = env_field("LINLI_FORWARDED_SECRET", "", secret=True)
    real_ip_header: str = env_field("LINLI_REAL_IP_HEADER", "")
    max_body_bytes: int = env_field("LINLI_MAX_BODY_BYTES", 1024 * 1024)
    retention_days: int = env_field("LINLI_RETENTION_DAYS", 365)
    retention_interval: int = env_field("LINLI_RETENTION_INTERVAL_SECONDS", 86400)
    secret_key: str = env_field("LINLI_SECRET_KEY", "", secret=True)  # empty: secret_key_file
    secret_key_file: str = env_field("LINLI_SECRET_KEY_FILE", "var/secret_key")

    def check(self) -> None:
        """Refuse unsafe combinations."""
        if "*" in self.cors_origins:
            raise ConfigurationError("LINLI_CORS_ORIGINS may not be '*': list the sites that embed Linli")
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
        """Sanic's proxy and size settings: forwarded headers are trusted only as configured.

        ``REQUEST_MAX_SIZE`` holds for every route but the knowledge-base uploads, which stream
        their bodies and apply ``LINLI_KB_MAX_UPLOAD_MB`` themselves (bot/web/kb_api.py)."""
        app.config.PROXIES_COUNT = self.proxies_count or None
        app.config.FORWARDED_SECRET = self.forwarded_secret or None
        app.config.REAL_IP_HEADER = self.real_ip_header or None
        app.config.REQUEST_MAX_SIZE = self.max_body_bytes


#: The security area under its area name (``Settings`` is the name callers have always used).
Security = Settings


@dataclass(frozen=True)
class Handoff(Area):
    """``HANDOFF_TIMEOUT_SECONDS``: how long a handoff may wait for an agent before the
    resident is offered a callback (0 disables). ``LINLI_COMPLAINTS_TO_HUMAN``: complaints
    go straight to staff instead of the complaint form. ``HANDOFF_AFTER_FALLBACKS``: hand
    off after this many misunderstood messages in a row (0 disables)."""

    timeout_seconds: float = env_field("HANDOFF_TIMEOUT_SECONDS", 300.0)
    complaints_to_human: bool = env_field("LINLI_COMPLAINTS_TO_HUMAN", False)
    after_fallbacks: int = env_field("HANDOFF_AFTER_FALLBACKS", 2)


@dataclass(frozen=True)
class Staff(Area):
    """The staff desk's logins (``python -m bot.staff`` reads the passwords, else prompts)."""

    session_ttl_seconds: int = env_field("LINLI_SESSION_TTL_SECONDS", 8 * 3600)
    login_max_failures: int = env_field("LINLI_LOGIN_MAX_FAILURES", 5)
    login_window_seconds: float = env_field("LINLI_LOGIN_WINDOW_SECONDS", 300.0)
    admin_password: str = env_field("LINLI_ADMIN_PASSWORD", "", secret=True, strip=False)  # create-admin
    staff_password: str = env_field("LINLI_STAFF_PASSWORD", "", secret=True, strip=False)  # other commands


@dataclass(frozen=True)
class Outbox(Area):
    """How the outbox worker delivers and retries (``bot.outbox``)."""

    #: Seconds between polls for messages other processes queued (a local enqueue wakes at once).
    interval: float = env_field("LINLI_OUTBOX_INTERVAL", 2.0, minimum=0.05)
    #: Attempts before a message becomes a dead letter.
    max_attempts: int = env_field("LINLI_OUTBOX_MAX_ATTEMPTS", 12, parse=_count, minimum=1)
    #: First retry delay (seconds); each further retry doubles it, up to ``max_backoff``.
    backoff: float = env_field("LINLI_OUTBOX_BACKOFF", 5.0, minimum=0.01)
    max_backoff: float = env_field("LINLI_OUTBOX_MAX_BACKOFF", 600.0, minimum=0.01)
    #: A claim older than this (seconds) belongs to a crashed worker: the message goes back to pending.
    lease: float = env_field("LINLI_OUTBOX_LEASE", 120.0, minimum=1)
    #: Messages delivered at the same time (to different residents) by one process.
    concurrency: int = env_field("LINLI_OUTBOX_CONCURRENCY", 4, parse=_count, minimum=1)
    #: How long the desk waits for the first attempt before answering "queued" (at most 3 s).
    wait: float = env_field("LINLI_OUTBOX_WAIT", 2.5, minimum=0)
    #: Days sent and undeliverable messages are kept (dead letters stay until retried).
    keep_days: float = env_field("LINLI_OUTBOX_KEEP_DAYS", 30.0, minimum=0.001)

    @classmethod
    def from_env(cls: Type[A], overrides: Optional[Mapping[str, Any]] = None) -> A:
        """As :meth:`Area.from_env`, with ``wait`` capped at 3 seconds."""
        area = super().from_env(overrides)  # type: ignore[misc]
        return replace(area, wait=min(3.0, area.wait))


@dataclass(frozen=True)
class Notifications(Area):
    """Ticket status notifications (``bot.notifications``)."""

    interval: float = env_field("LINLI_NOTIFY_INTERVAL", 3.0)  # seconds between checks for changes


@dataclass(frozen=True)
class Incidents(Area):
    """Incidents and early warning (``bot.incidents``): a cluster is ``cluster_size`` repair tickets
    of one category in one building within ``cluster_hours``; the server looks every ``check_interval``."""

    cluster_size: int = env_field("LINLI_INCIDENT_CLUSTER_SIZE", 3, parse=_count, minimum=2)
    cluster_hours: float = env_field("LINLI_INCIDENT_CLUSTER_HOURS", 2.0, minimum=0.01)
    check_interval: float = env_field("LINLI_INCIDENT_CHECK_INTERVAL", 30.0, minimum=0.1)


@dataclass(frozen=True)
class Satisfaction(Area):
    """Satisfaction ratings (``bot.satisfaction``): residents are asked for a 1–5 rating when a
    handoff ends and when a ticket is resolved; a request unanswered for ``expiry_hours`` lapses."""

    enabled: bool = env_field("LINLI_SATISFACTION", True)
    expiry_hours: float = env_field("LINLI_RATING_EXPIRY_HOURS", 72.0, minimum=0.01)


@dataclass(frozen=True)
class Community(Area):
    """The community's own facts: its time zone (ticket numbers, statistics) and emergency playbook."""

    timezone: str = env_field("LINLI_TIMEZONE", "Asia/Shanghai", parse=_timezone)
    duty_phone: str = env_field("LINLI_DUTY_PHONE", "")  # empty: the playbook's duty_phone
    emergency_playbook: str = env_field("LINLI_EMERGENCY_PLAYBOOK", "")  # empty: bot/emergency/playbook.yml


@dataclass(frozen=True)
class WeChat(Area):
    """The WeChat Official Account; a key in ``credentials.yml`` (same name) wins over its variable."""

    token: str = env_field("WECHAT_TOKEN", "", secret=True)  # empty: the channel is closed
    app_id: str = env_field("WECHAT_APP_ID", "")
    app_secret: str = env_field("WECHAT_APP_SECRET", "", secret=True)
    encoding_aes_key: str = env_field("WECHAT_ENCODING_AES_KEY", "", secret=True)  # safe mode only
    api_base_url: str = env_field("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
    reply_timeout: float = env_field("WECHAT_REPLY_TIMEOUT", 4.0)
    dedupe_ttl: float = env_field("WECHAT_DEDUPE_TTL", 3600.0)  # WeChat retries within ~15 s
    timestamp_window: float = env_field("WECHAT_TIMESTAMP_WINDOW", 300.0)
    # Delivery rules (bot/channels/wechat_delivery.py): customer-service messages within the window
    # after a resident's message, at most cs_quota of them; template messages (模板消息) otherwise.
    cs_window_hours: float = env_field("WECHAT_CS_WINDOW_HOURS", 48.0, minimum=0.01)
    cs_quota: int = env_field("WECHAT_CS_QUOTA", 20, parse=_count, minimum=0)
    templates: str = env_field("WECHAT_TEMPLATES", "")  # YAML file of template messages; empty: none

    def check(self) -> None:
        """A ``WECHAT_TEMPLATES`` file that cannot be used refuses start-up, naming the problem."""
        if self.templates:
            from bot.channels.wechat_delivery import load_templates

            try:
                load_templates(self.templates)
            except ValueError as exc:
                raise SettingError(str(exc)) from None


@dataclass(frozen=True)
class Telegram(Area):
    """The Telegram bot; a key in ``credentials.yml`` (same name) wins over its variable."""

    token: str = env_field("TELEGRAM_TOKEN", "", secret=True)
    webhook_secret: str = env_field("TELEGRAM_WEBHOOK_SECRET", "", secret=True)  # empty: webhook closed
    webhook_url: str = env_field("TELEGRAM_WEBHOOK_URL", "")
    api_base_url: str = env_field("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
    polling: bool = env_field("TELEGRAM_POLLING", False)


@dataclass(frozen=True)
class Media(Area):
    """Photos and voice messages Linli keeps (``bot.media``): where, how large, how long a download may take.
    The allowed types are fixed in ``bot.media.sniff`` (recognised by their bytes, never the declared type)."""

    dir: str = env_field("LINLI_MEDIA_DIR", "var/media")  # the folder backend's root
    max_image_mb: float = env_field("LINLI_MEDIA_MAX_IMAGE_MB", 10.0, minimum=0.01)
    max_voice_mb: float = env_field("LINLI_MEDIA_MAX_VOICE_MB", 2.0, minimum=0.01)
    download_timeout: float = env_field("LINLI_MEDIA_DOWNLOAD_TIMEOUT", 10.0, minimum=0.1)  # seconds


@dataclass(frozen=True)
class Channels:
    """The channels whose settings fall back to the environment (REST: ``Settings.rest_token``)."""

    wechat: WeChat
    telegram: Telegram

    @classmethod
    def from_env(cls) -> "Channels":
        """Both channels from the environment alone (without ``credentials.yml``)."""
        return cls(WeChat.from_env(), Telegram.from_env())


@lru_cache(maxsize=1)
def knowledge_variables() -> Dict[str, Variable]:
    """``KNOWLEDGE_<KEY>`` for every key of ``knowledge/config.yml`` (unset: the file's value)."""
    from knowledge.config import KnowledgeConfig  # knowledge imports this module only inside functions

    return {f.name: Variable(f"KNOWLEDGE_{f.name.upper()}", None, _parser_for(f.default))
            for f in fields(KnowledgeConfig)}


@dataclass(frozen=True)
class Knowledge(Area):
    """The knowledge base: where its settings come from and the environment's overrides of them."""

    config_file: str = env_field("KNOWLEDGE_CONFIG", "")  # empty: the packaged knowledge/config.yml
    #: Load the knowledge base when the action server starts (knowledge.warmup; /ready waits):
    #: full (index, embedder and generator), index (no generator), 0 (on the first question).
    warm_up: str = env_field("KNOWLEDGE_WARM_UP", "full", parse=_lower)
    #: Seconds between two checks for another active version (``python -m knowledge activate``).
    reload_seconds: float = env_field("LINLI_KB_RELOAD_SECONDS", 5.0)
    #: Largest document or FAQ table staff may upload in the desk (MB; sent base64, ~4/3 larger).
    max_upload_mb: float = env_field("LINLI_KB_MAX_UPLOAD_MB", 20.0, minimum=0.01)
    #: ``KNOWLEDGE_<KEY>`` values that replace ``config.yml``'s (:func:`knowledge_variables`), typed.
    config_overrides: Dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls: Type[A], overrides: Optional[Mapping[str, Any]] = None) -> A:
        """As :meth:`Area.from_env`, with the ``KNOWLEDGE_<KEY>`` overrides that are set."""
        area = super().from_env(overrides)  # type: ignore[misc]
        found = {key: var.value(os.environ.get(var.name)) for key, var in knowledge_variables().items()}
        return replace(area, config_overrides={key: value for key, value in found.items() if value is not None})


@dataclass(frozen=True)
class Operations(Area):
    """Logs and metrics (docs/deploy.md)."""

    log_format: str = env_field("LINLI_LOG_FORMAT", "text", parse=_lower, choices=("text", "json"))
    #: Bearer token for ``GET /metrics`` from another machine; empty: this machine only.
    metrics_token: str = env_field("LINLI_METRICS_TOKEN", "", secret=True)
    #: ``/metrics`` reads tickets, handoffs and the outbox from the database at most this often.
    metrics_cache_seconds: float = env_field("LINLI_METRICS_CACHE_SECONDS", 15.0)

    def check(self) -> None:
        """A metrics token must be long enough to resist guessing."""
        if self.metrics_token and len(self.metrics_token) < 16:
            raise ConfigurationError("LINLI_METRICS_TOKEN is too short: use at least 16 random characters "
                                     "(e.g. `openssl rand -hex 32`)")


#: Every area, by its name in :class:`LinliSettings`.
AREAS: Dict[str, Type[Area]] = {
    "network": Network, "paths": Paths, "databases": Databases, "redis": Redis, "security": Settings,
    "handoff": Handoff, "staff": Staff, "outbox": Outbox, "notifications": Notifications, "incidents": Incidents,
    "satisfaction": Satisfaction, "community": Community, "wechat": WeChat, "telegram": Telegram,
    "knowledge": Knowledge, "operations": Operations, "media": Media,
}


@dataclass(frozen=True)
class LinliSettings:
    """Every area at once (see :data:`AREAS`)."""

    network: Network
    paths: Paths
    databases: Databases
    redis: Redis
    security: Settings
    handoff: Handoff
    staff: Staff
    outbox: Outbox
    notifications: Notifications
    incidents: Incidents
    satisfaction: Satisfaction
    community: Community
    wechat: WeChat
    telegram: Telegram
    knowledge: Knowledge
    operations: Operations
    media: Media

    @property
    def channels(self) -> Channels:
        """The channels' environment settings (``credentials.yml`` keys win where a channel reads it)."""
        return Channels(self.wechat, self.telegram)


@lru_cache(maxsize=1)
def settings() -> LinliSettings:
    """Every setting, parsed and checked once per process; raises :class:`ConfigurationError`."""
    return LinliSettings(**{name: area.from_env() for name, area in AREAS.items()})  # type: ignore[arg-type]


def reload() -> None:
    """Forget what :func:`settings` and :func:`secret_key` read: the next call reads the environment again."""
    settings.cache_clear()
    secret_key.cache_clear()


def declared_variables() -> Dict[str, Variable]:
    """Every variable Linli reads, by name (the areas' fields and the knowledge-base overrides)."""
    found: Dict[str, Variable] = {}
    for area in AREAS.values():
        for variable in area.variables().values():
            if variable.name in found:
                raise RuntimeError(f"{variable.name} is declared twice")
            found[variable.name] = variable
    for variable in knowledge_variables().values():
        if variable.name in found:
            raise RuntimeError(f"{variable.name} is declared twice")
        found[variable.name] = variable
    return found


def named_secret(name: str) -> str:
    """The value of a secret whose variable's *name* is configured (knowledge's ``llm_api_key_env``)."""
    return os.environ.get(name, "").strip()


# ---------------------------------------------------------------- the widget's signing key
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
    value = Settings.read("secret_key")
    if not value:
        path = Path(Settings.read("secret_key_file"))
        path = path if path.is_absolute() else ROOT / path
        try:
            value = _secret_file(path)
        except FileExistsError:  # another process created it meanwhile
            value = path.read_text().strip()
    return value.encode()


# ---------------------------------------------------------------- redaction
#: Environment variables whose values never appear in an error shown, stored or logged: every
#: setting declared ``secret=True`` above, and API keys a configuration may name.
SECRET_VARIABLES = tuple(var.name for area in AREAS.values() for var in area.variables().values() if var.secret) + (
    "KNOWLEDGE_LLM_API_KEY", "LLM_API_KEY", "OPENAI_API_KEY")
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
