"""The staff desk's JSON API under ``/api`` (documented in docs/api.md and /api/openapi.json).

Every route except ``POST /api/login`` needs a session: the ``linli_session``
cookie the login sets (HttpOnly, SameSite=Strict) or ``Authorization: Bearer
<token>``. Cookie-authenticated writes must be JSON, which a cross-site form
cannot send.

The stores it uses (``app.ctx.staff_store``, ``handoff_store``, ``ticket_store``,
``login_throttle``, ``linli_desk``) are created by the server process (bot/server.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import partial, wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import ROOT
from bot.handoff.desk import Desk
from bot.handoff.hub import hub
from bot.conversations import full_tracker
from bot.handoff.conversation import transcript
from bot.handoff.store import HandoffConflict, HandoffNotFound
from bot.staff.store import AuthError, Identity, UserExists
from bot.staff.passwords import MAX_LENGTH as MAX_PASSWORD
from bot.privacy import audit_log, mask_phones
from bot.channels.identity import resident_id
from bot.tickets import InvalidTransition, TicketNotFound
from bot.web import stats
from bot.web.http import bearer_token, error
from bot.web.openapi import openapi_document
from bot.web.serialize import ticket_dict

logger = logging.getLogger(__name__)

COOKIE = "linli_session"
# scrypt costs 128 MiB and a noticeable CPU slice per hash: at most two at a time, on their
# own threads, so parallel logins never take the threads the chat paths use (DB lookups).
_HASH_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")


async def _hashing(function: Any, *args: Any) -> Any:
    """Run a password-hashing store call on the hashing threads."""
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, partial(function, *args))
#: Longest a client may ask a long poll to wait (seconds).
MAX_WAIT = 30.0

blueprint = Blueprint("linli_api", url_prefix="/api")

Handler = Callable[..., Awaitable[HTTPResponse]]


# ---------------------------------------------------------------- helpers
def _token(request: Request) -> tuple:
    """``(token, from_cookie)``: a bearer token, else the session cookie."""
    bearer = bearer_token(request)
    return (bearer, False) if bearer else (request.cookies.get(COOKIE), True)


def authenticated(admin: bool = False, roles: Tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Require a valid session (the admin role when ``admin``, one of ``roles`` when given: admins
    pass every role check); sets ``request.ctx.user``."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            token, from_cookie = _token(request)
            user = await asyncio.to_thread(request.app.ctx.staff_store.identity, token)
            if user is None:
                return error(401, "unauthenticated", "Not logged in or the session expired: POST /api/login.")
            if admin and not user.is_admin:
                return error(403, "forbidden", "This needs the admin role; ask an admin.")
            if roles and not user.has_role(*roles):
                return error(403, "forbidden", f"This needs the {' or '.join(('admin',) + roles)} role; ask an admin.")
            if from_cookie and request.method in ("POST", "PUT", "PATCH", "DELETE") and \
                    not (request.content_type or "").startswith("application/json"):
                return error(415, "json_required", "Send the body as application/json.")
            request.ctx.user = user
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorator


def body(request: Request) -> Dict[str, Any]:
    """The JSON body as a dict (empty when there is none)."""
    try:
        data = request.json
    except Exception:  # sanic raises InvalidUsage on malformed JSON
        return {}
    return data if isinstance(data, dict) else {}


def user_of(request: Request) -> Identity:
    """The authenticated staff member."""
    return request.ctx.user


def desk_of(request: Request) -> Optional[Desk]:
    """The desk bound to the running Rasa agent (None while the model loads)."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.processor is None:
        return None
    return Desk(agent, request.app.ctx.handoff_store)


def valid_id(value: int) -> bool:
    """Row ids the databases can hold (a larger one would overflow SQLite/PostgreSQL integers)."""
    return 0 < value < 2**31


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter clamped to [low, high]; ValueError names the parameter."""
    try:
        return min(high, max(low, int(request.args.get(name, default))))
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number") from exc


def _parse_date(value: Optional[str], name: str) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a date like 2026-11-24") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- session
def client_address(request: Request) -> str:
    """The client's address: from the trusted proxy's headers when LINLI_PROXIES_COUNT is set
    (Sanic's ``remote_addr``), else the connection's peer."""
    return request.remote_addr or request.ip or "-"


def cookie_secure(request: Request) -> bool:
    """Session cookies are ``Secure`` unless LINLI_COOKIE_SECURE=false (development over plain HTTP)."""
    security = getattr(request.app.ctx, "linli_security", None)
    return request.scheme == "https" or security is None or security.cookie_secure


@blueprint.post("/login")
async def login(request: Request) -> HTTPResponse:
    """Check username and password; open a session (cookie + token)."""
    data = body(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        return error(400, "missing_credentials", "Send {\"username\": ..., \"password\": ...} as JSON.")
    if len(username) > 64 or len(password) > MAX_PASSWORD:
        return error(400, "too_long", f"Usernames have at most 64 and passwords at most {MAX_PASSWORD} characters.")
    throttle, address = request.app.ctx.login_throttle, client_address(request)
    # Counted before the password is checked: parallel guesses cannot outrun the limit.
    wait = await asyncio.to_thread(throttle.attempt, address, username)
    if wait:
        return error(429, "too_many_attempts", f"Too many login attempts; try again in {wait} seconds.")
    try:
        # scrypt is deliberately slow: keep it off the event loop.
        token, user, expires_at = await _hashing(request.app.ctx.staff_store.login, username, password)
    except AuthError:
        return error(401, "wrong_credentials", "Wrong username or password.")
    await asyncio.to_thread(throttle.succeeded, address, username)
    resp = response.json({"user": user.public(), "token": token, "expires_at": expires_at.isoformat()},
                         headers={"Cache-Control": "no-store"})
    resp.cookies[COOKIE] = token
    cookie = resp.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = int(request.app.ctx.staff_store.ttl.total_seconds())
    if cookie_secure(request):
        cookie["secure"] = True
    return resp


@blueprint.post("/logout")
@authenticated()
async def logout(request: Request) -> HTTPResponse:
    """End the current session."""
    await asyncio.to_thread(request.app.ctx.staff_store.logout, _token(request)[0])
    resp = response.json({"ok": True})
    del resp.cookies[COOKIE]
    return resp


@blueprint.get("/me")
@authenticated()
async def me(request: Request) -> HTTPResponse:
    """Who is logged in."""
    return response.json({"user": user_of(request).public()})


@blueprint.get("/openapi.json")
@authenticated()
async def openapi(request: Request) -> HTTPResponse:
    """The OpenAPI 3 description of this API."""
    return response.json(openapi_document())


# ---------------------------------------------------------------- handoffs
@blueprint.get("/handoffs")
@authenticated()
async def list_handoffs(request: Request) -> HTTPResponse:
    """The live queue (queued + active, oldest first) or handoffs with ``?status=a,b``."""
    statuses = [s for s in (request.args.get("status") or "").split(",") if s]
    try:
        limit = int_arg(request, "limit", 100, 1, 500)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    rows = await asyncio.to_thread(request.app.ctx.handoff_store.list, statuses or None, limit=limit)
    now = datetime.now(timezone.utc)
    return response.json({"handoffs": [_masked_handoff(h.as_dict(now)) for h in rows],
                          "timeout_seconds": request.app.ctx.linli_settings.timeout_seconds})


def _masked_handoff(data: Dict[str, Any]) -> Dict[str, Any]:
    """A handoff for the queue: phone numbers in the message preview masked."""
    data["last_message"] = mask_phones(data.get("last_message"))
    return data


async def audit(request: Request, action: str, resident: Optional[str], subject: Any = None,
                detail: Optional[str] = None) -> None:
    """Record that the logged-in staff member saw a resident's data."""
    try:
        await asyncio.to_thread(audit_log().record, f"staff:{user_of(request).username}", action, resident,
                                None if subject is None else str(subject), detail)
    except Exception:  # never hide data the desk needs because the log failed; do shout
        logger.exception("Could not write the audit log (%s %s)", action, subject)


async def _handoff_and_desk(request: Request, handoff_id: int) -> Union[Tuple[Any, Desk], HTTPResponse]:
    """The handoff and the desk for a conversation view, or the error response (404 / 503)."""
    if not valid_id(handoff_id):
        return error(404, "not_found", f"No handoff {handoff_id}; GET /api/handoffs lists them.")
    try:
        handoff = await asyncio.to_thread(request.app.ctx.handoff_store.get, handoff_id)
    except HandoffNotFound:
        return error(404, "not_found", f"No handoff {handoff_id}; GET /api/handoffs lists them.")
    desk = desk_of(request)
    if desk is None:
        return error(503, "loading", "The assistant is still loading; retry in a moment.")
    return handoff, desk


@blueprint.get("/handoffs/<handoff_id:int>")
@authenticated()
async def get_handoff(request: Request, handoff_id: int) -> HTTPResponse:
    """One handoff with the conversation's whole transcript (bot, resident and agent messages)."""
    found = await _handoff_and_desk(request, handoff_id)
    if isinstance(found, HTTPResponse):
        return found
    handoff, desk = found
    tracker = await full_tracker(desk.agent, handoff.sender_id)
    await audit(request, "view_transcript", handoff.sender_id, f"handoff {handoff_id}")
    return response.json({"handoff": handoff.as_dict(), "messages": transcript(tracker)})


@blueprint.get("/handoffs/<handoff_id:int>/messages")
@authenticated()
async def handoff_messages(request: Request, handoff_id: int) -> HTTPResponse:
    """Messages newer than ``?after=<ts>``; with ``?wait=<s>`` waits (long poll) until one arrives."""
    found = await _handoff_and_desk(request, handoff_id)
    if isinstance(found, HTTPResponse):
        return found
    handoff, desk = found
    try:
        after = float(request.args.get("after", 0))
        wait = min(MAX_WAIT, max(0.0, float(request.args.get("wait", 0))))
    except ValueError:
        return error(400, "bad_parameter", "after and wait must be numbers (seconds).")
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        woken = hub.event(handoff.sender_id)
        messages = transcript(await full_tracker(desk.agent, handoff.sender_id), after)
        remaining = deadline - asyncio.get_running_loop().time()
        if messages or remaining <= 0:
            break
        await hub.wait(handoff.sender_id, remaining, woken)
    handoff = await asyncio.to_thread(request.app.ctx.handoff_store.get, handoff_id)
    return response.json({"handoff": handoff.as_dict(), "messages": messages})


async def _desk_action(request: Request, handoff_id: int, run: Callable[[Desk], Awaitable[Dict[str, Any]]]) -> HTTPResponse:
    if not valid_id(handoff_id):
        return error(404, "not_found", f"No handoff {handoff_id}; GET /api/handoffs lists them.")
    desk = desk_of(request)
    if desk is None:
        return error(503, "loading", "The assistant is still loading; retry in a moment.")
    try:
        return response.json(await run(desk))
    except HandoffNotFound:
        return error(404, "not_found", f"No handoff {handoff_id}; GET /api/handoffs lists them.")
    except HandoffConflict as exc:
        return error(409, "conflict", f"{exc}. Reload the queue.")
    except ValueError as exc:
        return error(400, "bad_request", str(exc))


@blueprint.post("/handoffs/<handoff_id:int>/take")
@authenticated()
async def take_handoff(request: Request, handoff_id: int) -> HTTPResponse:
    """Take a queued conversation (admins may take over with ``{"force": true}``)."""
    user = user_of(request)
    force = bool(body(request).get("force")) and user.is_admin
    return await _desk_action(request, handoff_id,
                              lambda desk: desk.take(handoff_id, user.username, user.display_name, force))


@blueprint.post("/handoffs/<handoff_id:int>/reply")
@authenticated()
async def reply_handoff(request: Request, handoff_id: int) -> HTTPResponse:
    """Send ``{"text": ...}`` to the resident on their channel (and into the transcript)."""
    user = user_of(request)
    message = str(body(request).get("text") or "")
    if len(message) > 4000:
        return error(400, "too_long", "Messages are limited to 4000 characters.")
    return await _desk_action(request, handoff_id, lambda desk: desk.reply(
        handoff_id, user.username, user.display_name, message, user.is_admin))


@blueprint.post("/handoffs/<handoff_id:int>/close")
@authenticated()
async def close_handoff(request: Request, handoff_id: int) -> HTTPResponse:
    """End the handoff: the bot resumes and tells the resident."""
    user = user_of(request)
    return await _desk_action(request, handoff_id, lambda desk: desk.close(handoff_id, user.username, user.is_admin))


# ---------------------------------------------------------------- tickets
def _assignee_names(request: Request, wanted: str) -> list:
    """The names an ``assignee`` filter matches: ``me`` or a username, and that account's display
    name (tickets assigned as free text before the staff picker carry it)."""
    if len(wanted) > 64 or not wanted.isprintable():
        raise ValueError("assignee must be me or a staff username (GET /api/staff lists them)")
    if wanted == "me":
        names = [user_of(request).username, user_of(request).display_name]
    else:
        found = request.app.ctx.staff_store.get_user(wanted)
        names = [wanted] if found is None else [found.username, found.display_name]
    return list(dict.fromkeys(n for n in names if n))


async def ticket_filters(request: Request) -> Dict[str, Any]:
    """The ticket filters in a request's query string (``GET /api/tickets`` and its export), as
    keyword arguments of ``TicketStore.search``/``count``; ValueError names a malformed one."""
    args = request.args
    since = _parse_date(args.get("since"), "since")
    until = _parse_date(args.get("until"), "until")
    if until is not None and len(args.get("until", "")) <= 10:
        until += timedelta(days=1)  # a date means "up to the end of that day"
    filters: Dict[str, Any] = {
        "status": [s for s in (args.get("status") or "").split(",") if s] or None,
        "ticket_type": args.get("type") or None, "category": args.get("category") or None,
        "unit": args.get("unit") or None, "building": args.get("building") or None,
        "urgency": args.get("urgency") or None, "since": since, "until": until}
    wanted = (args.get("assignee") or "").strip()
    if wanted:
        filters["assignee"] = await asyncio.to_thread(_assignee_names, request, wanted)
    return filters


@blueprint.get("/tickets")
@authenticated()
async def list_tickets(request: Request) -> HTTPResponse:
    """Tickets filtered by ``status`` (comma-separated), ``category``, ``type``, ``unit``, ``building``, ``urgency``,
    ``since``, ``until``, ``assignee`` (``me`` or a username); a page of them with the ``total``."""
    try:
        filters = await ticket_filters(request)
        limit, offset = int_arg(request, "limit", 100, 1, 500), int_arg(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    store = request.app.ctx.ticket_store
    tickets = await asyncio.to_thread(store.search, limit=limit, offset=offset, **filters)
    total = await asyncio.to_thread(store.count, **filters)
    return response.json({"tickets": [ticket_dict(t, full=False) for t in tickets], "total": total,
                          "limit": limit, "offset": offset})


def _ticket_error(exc: Exception, number: str) -> HTTPResponse:
    if isinstance(exc, TicketNotFound):
        return error(404, "not_found", f"No ticket {number}; GET /api/tickets lists them.")
    if isinstance(exc, InvalidTransition):
        return error(409, "invalid_transition", str(exc))
    return error(400, "bad_request", str(exc))


@blueprint.get("/tickets/<number:str>")
@authenticated()
async def get_ticket(request: Request, number: str) -> HTTPResponse:
    """One ticket with its history and attachments."""
    try:
        ticket = await asyncio.to_thread(request.app.ctx.ticket_store.get, number)
    except TicketNotFound as exc:
        return _ticket_error(exc, number)
    await audit(request, "view_ticket", resident_id(ticket.channel, ticket.sender_id), ticket.number)
    return response.json({"ticket": ticket_dict(ticket)})


@blueprint.post("/tickets/<number:str>/assign")
@authenticated()
async def assign_ticket(request: Request, number: str) -> HTTPResponse:
    """Assign to ``{"assignee": <username>, "note": ...}``, an active staff account (an open ticket becomes assigned)."""
    data = body(request)
    assignee = str(data.get("assignee") or "").strip()
    if not assignee:
        return error(400, "missing_assignee", "Send {\"assignee\": \"username\"} (GET /api/staff lists them).")
    # Only an active staff account: "my tickets" and the staff list rely on real usernames.
    staff = None if len(assignee) > 64 or not assignee.isprintable() else \
        await asyncio.to_thread(request.app.ctx.staff_store.get_user, assignee)
    if staff is None or not staff.active:
        return error(400, "unknown_assignee",
                     f"{assignee[:64]!r} is not an active staff account; GET /api/staff lists the usernames.")
    try:
        ticket = await asyncio.to_thread(request.app.ctx.ticket_store.assign, number, staff.username,
                                         f"staff:{user_of(request).username}", data.get("note") or None)
    except (TicketNotFound, InvalidTransition) as exc:
        return _ticket_error(exc, number)
    return response.json({"ticket": ticket_dict(ticket)})


@blueprint.post("/tickets/<number:str>/status")
@authenticated()
async def change_ticket_status(request: Request, number: str) -> HTTPResponse:
    """Move to ``{"status": ..., "note": ...}``; the resident is notified on their channel."""
    data = body(request)
    try:
        ticket = await asyncio.to_thread(
            request.app.ctx.ticket_store.change_status, number, str(data.get("status") or ""), f"staff:{user_of(request).username}", data.get("note") or None)
    except (TicketNotFound, InvalidTransition, ValueError) as exc:
        return _ticket_error(exc, number)
    return response.json({"ticket": ticket_dict(ticket)})


@blueprint.post("/tickets/<number:str>/notes")
@authenticated()
async def add_ticket_note(request: Request, number: str) -> HTTPResponse:
    """Add ``{"note": ...}`` to the history (internal, not sent to the resident)."""
    note = str(body(request).get("note") or "").strip()
    if not note:
        return error(400, "missing_note", "Send {\"note\": \"text\"}.")
    try:
        ticket = await asyncio.to_thread(request.app.ctx.ticket_store.add_note, number,
                                         f"staff:{user_of(request).username}", note)
    except TicketNotFound as exc:
        return _ticket_error(exc, number)
    return response.json({"ticket": ticket_dict(ticket)})


@blueprint.get("/tickets/<number:str>/attachments/<attachment_id:int>")
@authenticated()
async def ticket_attachment(request: Request, number: str, attachment_id: int) -> HTTPResponse:
    """A ticket's photo: the file for ``media:<id>`` (the media store) and paths under ``var/``, a redirect for URLs."""
    if not valid_id(attachment_id):
        return error(404, "not_found", f"Ticket {number} has no attachment {attachment_id}.")
    try:
        ticket = await asyncio.to_thread(request.app.ctx.ticket_store.get, number)
    except TicketNotFound as exc:
        return _ticket_error(exc, number)
    attachment = next((a for a in ticket.attachments if a.id == attachment_id), None)
    if attachment is None:
        return error(404, "not_found", f"Ticket {number} has no attachment {attachment_id}.")
    ref = attachment.ref
    await audit(request, "view_attachment", resident_id(ticket.channel, ticket.sender_id), ticket.number, f"attachment {attachment_id}")
    from bot.media import media_id_of

    if media_id_of(ref):  # kept in the media store (bot/media): served from here, same origin
        from bot.web.media_api import serve_media

        return await serve_media(request, media_id_of(ref) or "", audited=False)  # audited above
    if ref.startswith(("http://", "https://")):
        return response.redirect(ref)
    var = (ROOT / "var").resolve()
    path = (ROOT / ref).resolve() if not os.path.isabs(ref) else Path(ref).resolve()
    if var in path.parents and path.is_file():
        return await response.file(str(path))
    return error(404, "not_stored", f"Attachment {ref!r} is a channel media id or missing file; "
                                    "open it in the channel's own admin tool.")


# ---------------------------------------------------------------- dashboards
@blueprint.get("/stats/tickets-per-day")
@authenticated()
async def tickets_per_day(request: Request) -> HTTPResponse:
    """Tickets opened and resolved per local day over ``?days=`` (default 30)."""
    try:
        days = int_arg(request, "days", 30, 1, 366)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    return response.json(await asyncio.to_thread(stats.tickets_per_day, request.app.ctx.ticket_store, days))


@blueprint.get("/stats/open-by-age")
@authenticated()
async def open_by_age(request: Request) -> HTTPResponse:
    """Open tickets bucketed by age, and the oldest ones."""
    return response.json(await asyncio.to_thread(stats.open_by_age, request.app.ctx.ticket_store))


@blueprint.get("/stats/unanswered")
@authenticated()
async def unanswered(request: Request) -> HTTPResponse:
    """Questions the knowledge base could not answer: latest and most frequent."""
    try:
        limit = int_arg(request, "limit", 200, 1, 1000)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    return response.json(await asyncio.to_thread(stats.unanswered, limit))


# ---------------------------------------------------------------- users (admin)
@blueprint.get("/users")
@authenticated(admin=True)
async def list_users(request: Request) -> HTTPResponse:
    """Every staff account (admin only)."""
    users = await asyncio.to_thread(request.app.ctx.staff_store.list_users)
    return response.json({"users": [u.public() for u in users]})


@blueprint.post("/users")
@authenticated(admin=True)
async def create_user(request: Request) -> HTTPResponse:
    """Create ``{"username", "password", "role", "display_name"}`` (admin only)."""
    data = body(request)
    fields = {"username": "", "password": "", "role": "agent", "display_name": None}
    wrong = [name for name in fields if data.get(name) is not None and not isinstance(data.get(name), str)]
    if wrong:
        return error(400, "bad_request", f"{', '.join(wrong)} must be text.")
    values = {name: data.get(name) or default for name, default in fields.items()}
    try:
        user = await _hashing(request.app.ctx.staff_store.create_user, values["username"], values["password"],
                              values["role"], values["display_name"])
    except UserExists as exc:
        return error(409, "user_exists", str(exc))
    except ValueError as exc:
        return error(400, "bad_request", str(exc))
    return response.json({"user": user.public()}, status=201)


@blueprint.post("/users/<username:str>/active")
@authenticated(admin=True)
async def set_user_active(request: Request, username: str) -> HTTPResponse:
    """Enable or disable an account with ``{"active": bool}`` (admin only)."""
    try:
        user = await asyncio.to_thread(request.app.ctx.staff_store.set_active, username,
                                       bool(body(request).get("active")))
    except LookupError:
        return error(404, "not_found", f"No user {username!r}.")
    return response.json({"user": user.public()})


# ---------------------------------------------------------------- audit log (admin)
@blueprint.get("/audit")
@authenticated(admin=True)
async def list_audit(request: Request) -> HTTPResponse:
    """Who viewed or exported which resident's data, newest first (admin only)."""
    try:
        limit, offset = int_arg(request, "limit", 100, 1, 1000), int_arg(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    actor = request.args.get("actor") or None
    resident = request.args.get("resident") or None
    entries = await asyncio.to_thread(audit_log().list, limit, offset, actor, resident)
    return response.json({"entries": entries})
