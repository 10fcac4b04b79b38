"""WeChat's delivery rules for proactive messages: the customer-service window, its quota,
template messages (模板消息) and the order Linli tries them in.

WeChat accepts a customer-service message (``message/custom/send``) only within 48 hours of
the resident's last message (error 45015 after that) and only so many since it (45047).
Outside that, an Official Account reaches a follower with a *template message*
(``message/template/send``): a template the account chose in the WeChat admin console,
whose fields Linli fills in.

- :class:`ServiceWindow`: each resident's last inbound message (texts, voice, images,
  and the events WeChat counts: subscribe, scan, menu clicks) and how many
  customer-service messages were sent since, in the shared key/value store
  (:func:`bot.channels.state.kv_store`: the database or Redis, so every replica sees the
  same window). ``WECHAT_CS_WINDOW_HOURS`` (48) and ``WECHAT_CS_QUOTA`` (20 messages per
  resident message; WeChat's figure, configurable should it change); each new resident
  message opens a fresh window with a fresh count.
- Templates: ``WECHAT_TEMPLATES`` names a YAML file (``deploy/wechat_templates.example.yml``)
  mapping Linli's template names (:data:`TEMPLATE_FIELDS`: a contract other code writes
  payloads against) to a WeChat template id, an optional link and the WeChat fields, each an
  expression over Linli's fields (``"{number}"``, ``"{note:.20}"`` keeps 20 characters).
- :class:`WeChatDelivery` decides, per outbox message: within the window and the quota →
  customer service (``customer_service``); outside it, quota used up, or WeChat answering
  45015/45047 → the message's template (its payload's ``{"template": {"name", "fields"}}``),
  else ``generic`` with the text (``template``); no template configured → a permanent
  :class:`~bot.outbound.DeliveryError` (the outbox marks the row ``undeliverable`` with the
  reason). Other WeChat errors are temporary (the outbox retries); an invalid or expired
  access token (40001/40014/42001) is refreshed once per call.

A resident the store knows nothing about (no message recorded within
:data:`RECORD_TTL`, e.g. before this module was deployed) is tried by customer service
first: WeChat decides, and 45015 falls back to the template.
"""

from __future__ import annotations

import json
import logging
import re
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import quote

import requests
import yaml

from bot import ROOT
from bot.channels.state import KeyValueStore, kv_store
from bot.outbound import DeliveryError
from bot.settings import Community, WeChat

logger = logging.getLogger(__name__)

#: What :class:`WeChatDelivery` reports as the path that delivered (``outbox.delivered_via``).
CUSTOMER_SERVICE, TEMPLATE = "customer_service", "template"

#: Linli's template names and the fields a caller may pass for each (a contract: do not rename).
#: ``generic`` carries any message kind without a template of its own (agent replies, late answers...).
TEMPLATE_FIELDS: Dict[str, Tuple[str, ...]] = {
    "ticket_update": ("number", "type", "status", "note", "time"),
    "notice": ("title", "body", "time"),
    "incident": ("title", "status", "body", "time"),
    "generic": ("text", "time"),
}
GENERIC = "generic"

#: How long a resident's last message is remembered: long enough to tell "the window closed"
#: from "never heard of them" (who are tried by customer service first).
RECORD_TTL = 30 * 86400.0

# WeChat error codes (https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
OUT_OF_TIME = 45015  # response out of time limit or subscription is canceled
OUT_OF_COUNT = 45047  # out of response count limit
TOKEN_ERRORS = (40001, 40014, 42001)  # invalid credential / access token, token expired: refresh once
#: Errors a retry cannot mend: unknown or unfollowed resident, blacklisted, the template itself is wrong.
PERMANENT_ERRORS = (40003, 43004, 43019, 40037, 47003, 43101)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------- templates
@dataclass(frozen=True)
class Template:
    """One configured template message: WeChat's template id, an optional link, the field mapping."""

    name: str
    template_id: str
    url: str = ""
    #: WeChat field → (expression over Linli's fields, colour or "").
    fields: Mapping[str, Tuple[str, str]] = field(default_factory=dict)


class _Expression(string.Formatter):
    """``str.format`` over named Linli fields only: no attribute or index access, missing → ""."""

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Tuple[Any, str]:
        if not _IDENTIFIER.match(field_name):
            raise ValueError(f"{{{field_name}}} is not a plain field name")
        return kwargs.get(field_name, ""), field_name


_FORMATTER = _Expression()


def placeholders(expression: str) -> Tuple[str, ...]:
    """The Linli fields ``expression`` refers to; ``ValueError`` for anything but ``{name}``/``{name:spec}``."""
    names = []
    for _literal, name, _spec, conversion in string.Formatter().parse(expression):
        if name is None:
            continue
        if not _IDENTIFIER.match(name):
            raise ValueError(f"{{{name}}} is not a plain field name")
        if conversion not in (None, "s"):
            raise ValueError(f"{{{name}!{conversion}}}: only !s is allowed")
        names.append(name)
    return tuple(names)


def _expression(name: str, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be text, not {type(value).__name__}")
    known = TEMPLATE_FIELDS.get(name)
    used = placeholders(value)
    unknown = [p for p in used if known is not None and p not in known]
    if unknown:
        raise ValueError(f"{where} uses {{{unknown[0]}}}; {name} has {', '.join(known or ())}")
    _FORMATTER.format(value, **{p: "x" for p in used})  # a bad format spec fails now, not at delivery
    return value


def parse_templates(data: Any, source: str = "WECHAT_TEMPLATES") -> Dict[str, Template]:
    """Templates from the YAML structure ``data``; ``ValueError`` naming the first problem."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{source} must map template names to templates")
    templates: Dict[str, Template] = {}
    for name, entry in data.items():
        where = f"{source}: {name}"
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"{source}: {name!r} is not a template name (letters, digits, _)")
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must have template_id and fields")
        unknown_keys = set(entry) - {"template_id", "url", "fields"}
        if unknown_keys:
            raise ValueError(f"{where} has unknown key {sorted(unknown_keys)[0]!r} (template_id, url, fields)")
        template_id = entry.get("template_id")
        if not isinstance(template_id, str) or not template_id.strip():
            raise ValueError(f"{where} needs a template_id (from the WeChat admin console: 模板消息)")
        url = entry.get("url") or ""
        url = _expression(name, f"{where}.url", url) if url else ""
        fields_in = entry.get("fields")
        if not isinstance(fields_in, dict) or not fields_in:
            raise ValueError(f"{where} needs fields (WeChat field: expression over {', '.join(TEMPLATE_FIELDS.get(name, ('its fields',)))})")
        mapped: Dict[str, Tuple[str, str]] = {}
        for wechat_field, spec in fields_in.items():
            spot = f"{where}.fields.{wechat_field}"
            if not isinstance(wechat_field, str) or not wechat_field.strip():
                raise ValueError(f"{where}.fields: {wechat_field!r} is not a WeChat field name")
            color = ""
            if isinstance(spec, dict):  # {value: "...", color: "#173177"} (older templates show colours)
                color = spec.get("color") or ""
                if not isinstance(color, str):
                    raise ValueError(f"{spot}.color must be text such as '#173177'")
                spec = spec.get("value")
            mapped[wechat_field] = (_expression(name, spot, spec), color)
        templates[name] = Template(name, template_id.strip(), url, mapped)
    return templates


def load_templates(path: str) -> Dict[str, Template]:
    """The templates in the YAML file ``path`` (relative paths: from the repository); ``ValueError``."""
    file = Path(path)
    file = file if file.is_absolute() else ROOT / file
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"WECHAT_TEMPLATES names {path}, which does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"WECHAT_TEMPLATES ({path}) cannot be read: {exc}") from None
    return parse_templates(data, f"WECHAT_TEMPLATES ({path})")


_cache: Dict[str, Tuple[int, Dict[str, Template]]] = {}


def configured_templates(path: Optional[str] = None) -> Dict[str, Template]:
    """The templates of ``path`` (default ``WECHAT_TEMPLATES``; empty: none), re-read when the file changes."""
    path = WeChat.read("templates") if path is None else path
    if not path:
        return {}
    file = Path(path) if Path(path).is_absolute() else ROOT / path
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        stamp = -1
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    templates = load_templates(path)
    _cache[path] = (stamp, templates)
    return templates


def format_time(at: Optional[Any] = None) -> str:
    """``at`` (epoch seconds or a datetime; default now) as ``2026-12-01 14:30`` in the community's time zone."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(Community.read("timezone"))
    if isinstance(at, datetime):
        moment = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(time.time() if at is None else float(at), timezone.utc)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def requested(payload: Any, text: str) -> Tuple[str, Dict[str, Any]]:
    """The template name and fields an outbox payload asks for (``generic`` with the text otherwise)."""
    wanted = payload.get("template") if isinstance(payload, dict) else None
    if isinstance(wanted, dict) and isinstance(wanted.get("name"), str) and wanted["name"]:
        fields_in = wanted.get("fields")
        return wanted["name"], dict(fields_in) if isinstance(fields_in, dict) else {}
    return GENERIC, {"text": text}


def render(template: Template, openid: str, values: Mapping[str, Any]) -> Dict[str, Any]:
    """The ``message/template/send`` body for ``openid`` (``time`` defaults to now)."""
    given = {k: ("" if v is None else str(v)) for k, v in values.items()}
    given.setdefault("time", format_time())
    data: Dict[str, Dict[str, str]] = {}
    for wechat_field, (expression, color) in template.fields.items():
        data[wechat_field] = {"value": _FORMATTER.format(expression, **given)}
        if color:
            data[wechat_field]["color"] = color
    body: Dict[str, Any] = {"touser": openid, "template_id": template.template_id, "data": data}
    if template.url:
        body["url"] = _FORMATTER.format(template.url, **{k: quote(v, safe="") for k, v in given.items()})
    return body


# ---------------------------------------------------------------- the customer-service window
@dataclass(frozen=True)
class WindowState:
    """What the store knows of one resident's customer-service window at ``now``."""

    known: bool  # a message (or a 45015) was recorded within RECORD_TTL
    last_inbound: Optional[float]  # epoch seconds of their last message
    closed_by_wechat: bool  # WeChat answered 45015 since that message
    sent: int  # customer-service messages sent since it
    window: float  # seconds
    quota: int
    now: float

    @property
    def open(self) -> bool:
        """Within the window and not closed by WeChat (unknown residents: not known to be open)."""
        return (self.last_inbound is not None and not self.closed_by_wechat
                and self.now - self.last_inbound < self.window)

    @property
    def exhausted(self) -> bool:
        """As many customer-service messages were sent since the last message as WeChat allows."""
        return self.sent >= self.quota


class ServiceWindow:
    """Each WeChat resident's last inbound message and the customer-service messages sent since,
    in the shared key/value store (keys ``wechat:cs:last:<openid>`` and ``wechat:cs:sent:<openid>:<ms>``:
    a new message gets a new counter, so the count resets)."""

    def __init__(self, store: Optional[KeyValueStore] = None, window_hours: Optional[float] = None,
                 quota: Optional[int] = None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.window = 3600.0 * (WeChat.read("cs_window_hours") if window_hours is None else window_hours)
        self.quota = int(WeChat.read("cs_quota") if quota is None else quota)
        self.clock = clock

    @property
    def store(self) -> KeyValueStore:
        """The store, opened on first use."""
        if self._store is None:
            self._store = kv_store()
        return self._store

    @staticmethod
    def _last_key(openid: str) -> str:
        return f"wechat:cs:last:{openid}"

    @staticmethod
    def _count_key(openid: str, last: float) -> str:
        return f"wechat:cs:sent:{openid}:{int(last * 1000)}"

    def record_inbound(self, openid: str, at: Optional[float] = None) -> None:
        """The resident wrote (or followed, scanned, clicked a menu): a fresh window and quota."""
        at = self.clock() if at is None else at
        self.store.set(self._last_key(openid), json.dumps({"last": at}), RECORD_TTL)

    def state(self, openid: str) -> WindowState:
        """The resident's window as the store knows it now."""
        now = self.clock()
        raw = self.store.get(self._last_key(openid))
        record: Dict[str, Any] = {}
        if raw:
            try:
                record = json.loads(raw)
            except ValueError:
                logger.warning("Unreadable customer-service window record for %s ignored", openid)
        last = record.get("last")
        last = float(last) if isinstance(last, (int, float)) else None
        sent = 0
        if last is not None:
            sent = int(self.store.get(self._count_key(openid, last)) or 0)
        return WindowState(bool(record), last, bool(record.get("closed")), sent, self.window, self.quota, now)

    def take(self, openid: str, state: WindowState) -> bool:
        """Count one customer-service message; ``False`` if the quota ran out meanwhile (another replica)."""
        if state.last_inbound is None:
            return True  # nothing known to count against: WeChat decides
        return self.store.incr(self._count_key(openid, state.last_inbound), self.window) <= self.quota

    def give_back(self, openid: str, state: WindowState) -> None:
        """Uncount a message WeChat did not take (a temporary error)."""
        if state.last_inbound is not None:
            self.store.incr(self._count_key(openid, state.last_inbound), self.window, -1)

    def used_up(self, openid: str, state: WindowState) -> None:
        """WeChat answered 45047: no more customer-service messages until the resident writes."""
        if state.last_inbound is not None:
            self.store.set(self._count_key(openid, state.last_inbound), str(self.quota), self.window)

    def closed(self, openid: str, state: WindowState) -> None:
        """WeChat answered 45015: the window is closed until the resident writes again."""
        current = self.state(openid)
        if current.last_inbound != state.last_inbound:
            return  # they wrote meanwhile: that message opened a new window
        record = {"last": state.last_inbound, "closed": True}
        self.store.set(self._last_key(openid), json.dumps(record), RECORD_TTL)


# ---------------------------------------------------------------- WeChat's API
class WeChatApiError(RuntimeError):
    """WeChat answered a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode


def call_api(client: Any, endpoint: str, body: Mapping[str, Any], session: Optional[requests.Session] = None,
             timeout: float = 10.0) -> Dict[str, Any]:
    """POST ``body`` to ``{API base}/cgi-bin/<endpoint>?access_token=...``; WeChat's answer.

    An invalid or expired token (40001/40014/42001) is fetched anew once; any other
    ``errcode`` raises :class:`WeChatApiError`, HTTP and network errors raise as they are
    (their text never carries the token: this message names the endpoint, not the URL).
    """
    http = session or requests
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    for attempt in range(2):
        token = client.access_token  # cached in the shared store; fetched when missing or expiring
        try:
            answer = http.post(client.API_BASE_URL + endpoint, params={"access_token": token}, data=data,
                               headers={"Content-Type": "application/json; charset=utf-8"}, timeout=timeout)
        except requests.RequestException as exc:
            raise ConnectionError(f"{endpoint}: {type(exc).__name__}") from None
        if answer.status_code >= 400:
            raise ConnectionError(f"{endpoint} answered HTTP {answer.status_code}")
        try:
            result = answer.json()
        except ValueError:
            raise ConnectionError(f"{endpoint} answered something other than JSON") from None
        errcode = int(result.get("errcode") or 0) if isinstance(result, dict) else 0
        if errcode in TOKEN_ERRORS and attempt == 0:
            logger.info("WeChat access token refused (%s); fetching a new one", errcode)
            client.fetch_access_token()
            continue
        if errcode:
            raise WeChatApiError(errcode, str(result.get("errmsg") or ""))
        return result if isinstance(result, dict) else {}
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- the decision
class WeChatDelivery:
    """Sends one proactive message by the path WeChat allows; returns the path that delivered."""

    def __init__(self, client: Any, window: ServiceWindow, templates_path: Optional[str] = None) -> None:
        self.client = client
        self.window = window
        self.templates_path = templates_path  # None: WECHAT_TEMPLATES as it is at each delivery
        self.http = requests.Session()

    def templates(self) -> Dict[str, Template]:
        """The configured templates; a file broken since start-up is a temporary failure (fix, then it goes)."""
        try:
            return configured_templates(self.templates_path)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None

    def send(self, openid: str, text: str, payload: Any = None) -> str:
        """Deliver ``text`` (blocking: run it in a thread); ``customer_service`` or ``template``."""
        state = self.window.state(openid)
        hours = f"{self.window.window / 3600:g}"
        if state.known and not state.open:
            reason = f"outside WeChat's {hours}-hour window"
        elif state.open and state.exhausted:
            reason = f"WeChat's customer-service quota ({state.quota} messages since the resident's last message) is used up"
        elif not self.window.take(openid, state):
            reason = f"WeChat's customer-service quota ({state.quota} messages since the resident's last message) is used up"
        else:
            try:
                call_api(self.client, "message/custom/send",
                         {"touser": openid, "msgtype": "text", "text": {"content": text}}, self.http)
                return CUSTOMER_SERVICE
            except WeChatApiError as exc:
                if exc.errcode == OUT_OF_TIME:
                    self.window.closed(openid, state)
                    reason = f"outside WeChat's {hours}-hour window (WeChat answered {exc})"
                elif exc.errcode == OUT_OF_COUNT:
                    self.window.used_up(openid, state)
                    reason = f"WeChat's customer-service quota is used up (WeChat answered {exc})"
                else:
                    self.window.give_back(openid, state)
                    raise DeliveryError(f"WeChat could not deliver to {openid}: {exc}",
                                        permanent=exc.errcode in PERMANENT_ERRORS) from None
            except Exception as exc:  # network, HTTP, the token endpoint: temporary
                self.window.give_back(openid, state)
                raise DeliveryError(f"WeChat could not deliver to {openid}: {exc}") from None
        return self._template(openid, text, payload, reason)

    def _template(self, openid: str, text: str, payload: Any, reason: str) -> str:
        name, values = requested(payload, text)
        templates = self.templates()
        template = templates.get(name)
        if template is None and name != GENERIC and GENERIC in templates:
            template, values = templates[GENERIC], {"text": text, "time": values.get("time") or format_time()}
        if template is None:
            also = "" if name == GENERIC else f" (nor {GENERIC})"
            raise DeliveryError(f"{reason} and no template configured for {name}{also}", permanent=True)
        body = render(template, openid, values)
        try:
            call_api(self.client, "message/template/send", body, self.http)
        except WeChatApiError as exc:
            raise DeliveryError(f"{reason}; WeChat refused template message {template.name} "
                                f"({template.template_id}) to {openid}: {exc}",
                                permanent=exc.errcode in PERMANENT_ERRORS) from None
        except Exception as exc:
            raise DeliveryError(f"{reason}; WeChat could not deliver template message {template.name} "
                                f"to {openid}: {exc}") from None
        logger.info("WeChat message to %s sent as template message %s (%s)", openid, template.name, reason)
        return TEMPLATE


#: Events that open a customer-service window (WeChat's list: following, scanning a QR code,
#: the click and scan menu buttons); a VIEW menu link, a location report or unfollowing do not.
WINDOW_EVENTS = frozenset({"subscribe", "subscribe_scan", "scan", "click", "scancode_push", "scancode_waitmsg"})


def opens_window(message_type: str, event: str = "") -> bool:
    """Whether a message of ``message_type`` (``event``: its event) opens a customer-service window."""
    if message_type != "event":
        return True
    return (event or "").lower() in WINDOW_EVENTS
