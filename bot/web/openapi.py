"""The OpenAPI 3 document of the staff desk API (served at ``/api/openapi.json``).

The core routes (session, handoffs, tickets, dashboards, users, audit) are described
here. A feature module with its own blueprint describes its routes next to them and
registers the describer with :func:`describe` (at import time)::

    from bot.web.openapi import describe, op, obj, query, path_param, S, I

    @describe
    def _paths() -> Tuple[Dict[str, Any], Dict[str, Any]]:   # (paths, schemas)
        return {"/api/kb/faq": {"get": op("FAQ entries", obj(entries=...), tag="knowledge")}}, {}
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

#: Describers of feature routes: each returns ``(paths, schemas)`` to merge into the document.
_DESCRIBERS: List[Callable[[], Tuple[Dict[str, Any], Dict[str, Any]]]] = []


def describe(describer: Callable[[], Tuple[Dict[str, Any], Dict[str, Any]]]) -> Callable[[], Tuple[Dict[str, Any], Dict[str, Any]]]:
    """Register a feature's ``(paths, schemas)`` describer (a decorator; returns it unchanged)."""
    if describer not in _DESCRIBERS:
        _DESCRIBERS.append(describer)
    return describer

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: Dict[str, Any]) -> Dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: Dict[str, Any], *, params: Optional[List[Dict[str, Any]]] = None,
        request: Optional[Dict[str, Any]] = None, errors: tuple = (401,), public: bool = False,
        tag: str = "desk") -> Dict[str, Any]:
    responses: Dict[str, Any] = {"200": {"description": "OK", **_json(ok)}}
    for code in errors:
        responses[str(code)] = {"description": _ERROR_TEXT[code], **_json(_ERROR)}
    op: Dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = params
    if request:
        op["requestBody"] = {"required": True, **_json(request)}
    if public:
        op["security"] = []
    return op


_ERROR_TEXT = {
    400: "Invalid request (the message says what to send)",
    401: "No session, or it expired: log in",
    403: "The user's role may not do this (admin, or editor for the knowledge base)",
    404: "Not found",
    409: "Conflict with the current state (closed, taken by someone else, invalid status change)",
    413: "The upload is larger than the limit",
    415: "Cookie-authenticated writes must be application/json",
    429: "Too many login attempts for this username or from this address: wait",
    502: "The action server (which holds the knowledge base) could not be reached",
    503: "The assistant is still loading",
}


def _q(name: str, description: str, schema_type: str = "string") -> Dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": schema_type}}


def _p(name: str, schema_type: str = "string") -> Dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": schema_type}}


def _obj(**props: Any) -> Dict[str, Any]:
    return {"type": "object", "properties": props}


_S, _I, _N, _B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
_REF = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731


# Public names for feature describers (see the module docstring).
op, query, path_param, obj, ref = _op, _q, _p, _obj, _REF
S, I, N, B = _S, _I, _N, _B
ERROR = _ERROR


def openapi_document() -> Dict[str, Any]:
    """The whole document, built on each call (cheap, always in sync with this module)."""
    hid, number = _p("handoff_id", "integer"), _p("number")
    delivery = {"delivery": {"type": "string", "nullable": True, "enum": ["sent", "queued", "undeliverable", "dead"],
                             "description": "sent; queued (the outbox keeps trying); undeliverable (the channel "
                                            "cannot deliver proactively, e.g. REST); dead (every attempt failed)"},
                "outbox_id": {"type": "integer", "nullable": True}}
    handoff_result = _obj(handoff=_REF("Handoff"), delivered={"type": "boolean", "nullable": True},
                          error={"type": "string", "nullable": True}, **delivery)
    ticket = _obj(ticket=_REF("Ticket"))
    paths = {
        "/api/login": {"post": _op("Log in: sets the linli_session cookie and returns a bearer token",
                                   _obj(user=_REF("User"), token=_S, expires_at=_S),
                                   request=_obj(username=_S, password=_S), errors=(400, 401, 429), public=True,
                                   tag="session")},
        "/api/logout": {"post": _op("End the current session", _obj(ok=_B), tag="session")},
        "/api/me": {"get": _op("The logged-in user", _obj(user=_REF("User")), tag="session")},
        "/api/openapi.json": {"get": _op("This document", {"type": "object"}, tag="session")},
        "/api/handoffs": {"get": _op(
            "Live queue: queued and active handoffs, oldest first, with waiting time",
            _obj(handoffs={"type": "array", "items": _REF("Handoff")}, timeout_seconds=_N),
            params=[_q("status", "comma-separated statuses (queued, active, closed, timed_out)"),
                    _q("limit", "at most this many", "integer")], tag="handoffs")},
        "/api/handoffs/{handoff_id}": {"get": _op(
            "A handoff and the conversation's whole transcript",
            _obj(handoff=_REF("Handoff"), messages={"type": "array", "items": _REF("Message")}),
            params=[hid], errors=(401, 404, 503), tag="handoffs")},
        "/api/handoffs/{handoff_id}/messages": {"get": _op(
            "Messages newer than `after`; `wait` makes it a long poll that returns as soon as one arrives",
            _obj(handoff=_REF("Handoff"), messages={"type": "array", "items": _REF("Message")}),
            params=[hid, _q("after", "timestamp (seconds) of the last message seen", "number"),
                    _q("wait", "seconds to wait for a new message (max 30)", "number")],
            errors=(400, 401, 404, 503), tag="handoffs")},
        "/api/handoffs/{handoff_id}/take": {"post": _op(
            "Take a queued conversation; the resident is told who joined", handoff_result, params=[hid],
            request=_obj(force={"type": "boolean", "description": "admins: take over from another agent"}),
            errors=(401, 404, 409, 415, 503), tag="handoffs")},
        "/api/handoffs/{handoff_id}/reply": {"post": _op(
            "Send a message to the resident on their channel (logged in the Rasa tracker). "
            "`delivered` is false when the channel cannot deliver proactively (REST)",
            handoff_result, params=[hid], request=_obj(text=_S), errors=(400, 401, 404, 409, 415, 503),
            tag="handoffs")},
        "/api/handoffs/{handoff_id}/close": {"post": _op(
            "End the handoff: the bot resumes and says so", handoff_result, params=[hid],
            errors=(401, 404, 409, 415, 503), tag="handoffs")},
        "/api/tickets": {"get": _op(
            "Tickets, newest first: one page (`limit`, `offset`) and the `total` matching the filters",
            _obj(tickets={"type": "array", "items": _REF("Ticket")}, total=_I, limit=_I, offset=_I),
            params=[_q("status", "comma-separated: open, assigned, in_progress, resolved, closed"),
                    _q("category", "plumbing, electrical, elevator, doors_locks, public_area, appliance, other"),
                    _q("type", "repair or complaint"), _q("unit", "part of the unit, e.g. 3栋"),
                    _q("building", "building number or letter, e.g. 5"), _q("urgency", "urgent or normal"),
                    _q("since", "created on or after (YYYY-MM-DD or ISO time, UTC)"),
                    _q("until", "created up to this day, inclusive (YYYY-MM-DD)"),
                    _q("assignee", "me (my tickets) or a staff username"),
                    _q("limit", "max 500", "integer"), _q("offset", "for paging", "integer")],
            errors=(400, 401), tag="tickets")},
        "/api/tickets/{number}": {"get": _op("A ticket with history and attachments", ticket, params=[number],
                                             errors=(401, 404), tag="tickets")},
        "/api/tickets/{number}/assign": {"post": _op(
            "Assign to a member of staff: `assignee` is the username of an active account (GET /api/staff)",
            ticket, params=[number], request=_obj(assignee=_S, note=_S),
            errors=(400, 401, 404, 409, 415), tag="tickets")},
        "/api/tickets/{number}/status": {"post": _op(
            "Change the status with a note; the resident is notified", ticket, params=[number],
            request=_obj(status=_S, note=_S), errors=(400, 401, 404, 409, 415), tag="tickets")},
        "/api/tickets/{number}/notes": {"post": _op(
            "Add an internal note to the history", ticket, params=[number], request=_obj(note=_S),
            errors=(400, 401, 404, 415), tag="tickets")},
        "/api/tickets/{number}/attachments/{attachment_id}": {"get": {
            "summary": "A photo: redirect (URL) or the file (stored under var/)", "tags": ["tickets"],
            "parameters": [number, _p("attachment_id", "integer")],
            "responses": {"200": {"description": "the file"}, "302": {"description": "redirect to the URL"},
                          "401": {"description": _ERROR_TEXT[401], **_json(_ERROR)},
                          "404": {"description": _ERROR_TEXT[404], **_json(_ERROR)}}}},
        "/api/stats/tickets-per-day": {"get": _op(
            "Tickets opened and resolved per local day",
            _obj(timezone=_S, total_opened=_I, total_resolved=_I, days={"type": "array", "items": _obj(
                day=_S, opened=_I, resolved=_I)}),
            params=[_q("days", "how many days, default 30", "integer")], tag="dashboards")},
        "/api/stats/open-by-age": {"get": _op(
            "Open tickets by age bucket (lt_1d, 1_3d, 3_7d, 7_30d, gt_30d) and the oldest",
            _obj(total=_I, buckets={"type": "array", "items": _obj(bucket=_S, count=_I)},
                 oldest={"type": "array", "items": {"type": "object"}}), tag="dashboards")},
        "/api/stats/unanswered": {"get": _op(
            "Questions the knowledge base could not answer: latest and most frequent",
            _obj(latest={"type": "array", "items": {"type": "object"}},
                 top={"type": "array", "items": _obj(question=_S, count=_I)}),
            params=[_q("limit", "how many log entries to read (latest first)", "integer")], tag="dashboards")},
        "/api/users": {
            "get": _op("Staff accounts (admin)", _obj(users={"type": "array", "items": _REF("User")}),
                       errors=(401, 403), tag="users"),
            "post": _op("Create an account (admin)", _obj(user=_REF("User")),
                        request=_obj(username=_S, password=_S, role={"type": "string", "enum": ["agent", "editor", "admin"]},
                                     display_name=_S), errors=(400, 401, 403, 409, 415), tag="users"),
        },
        "/api/users/{username}/active": {"post": _op(
            "Enable or disable an account (admin); disabling ends its sessions", _obj(user=_REF("User")),
            params=[_p("username")], request=_obj(active=_B), errors=(401, 403, 404, 415), tag="users")},
        "/api/audit": {"get": _op(
            "Audit log (admin): which staff member viewed or exported which resident's data, newest first",
            _obj(entries={"type": "array", "items": _obj(id=_I, at=_S, actor=_S, action=_S, resident=_S,
                                                         subject=_S, detail=_S)}),
            params=[_q("limit", "at most this many (1-1000, default 100)", "integer"),
                    _q("offset", "skip this many", "integer"), _q("actor", "only this actor, e.g. staff:wang"),
                    _q("resident", "only this resident, e.g. wechat:o6_bmj...")],
            errors=(400, 401, 403), tag="users")},
        "/api/outbox": {"get": _op(
            "Messages sent outside a request (notifications, agent replies, late answers) by delivery status, "
            "newest first: dead letters by default",
            _obj(messages={"type": "array", "items": _REF("OutboxMessage")}, total=_I, limit=_I, offset=_I,
                 counts={"type": "object", "additionalProperties": _I}),
            params=[_q("status", "comma-separated: dead (default), pending, sending, sent, undeliverable"),
                    _q("limit", "at most this many (1-500, default 50)", "integer"),
                    _q("offset", "skip this many", "integer")],
            errors=(400, 401), tag="deliveries")},
        "/api/outbox/{message_id}/retry": {"post": _op(
            "Send a dead or undeliverable message again (admin); answers after the first attempt or 2.5 s",
            _obj(message=_REF("OutboxMessage"), delivered=_B, error={"type": "string", "nullable": True}, **delivery),
            params=[_p("message_id", "integer")], errors=(401, 403, 404, 409, 415), tag="deliveries")},
    }
    schemas = {
        "Error": _obj(error=_S, message=_S),
        "OutboxMessage": _obj(id=_I, channel=_S, resident=_S, platform_id=_S, kind=_S, text=_S,
                              status={"type": "string",
                                      "enum": ["pending", "sending", "sent", "dead", "undeliverable"]},
                              attempts=_I, last_error=_S, created_at=_S, age_seconds=_I, sent_at=_S,
                              next_attempt_at=_S, claimed_by=_S,
                              delivered_via={"type": "string", "nullable": True,
                                             "description": "the path that delivered it: customer_service or "
                                                            "template (WeChat), else the channel's name"}),
        "User": _obj(id=_I, username=_S, display_name=_S, role={"type": "string", "enum": ["agent", "editor", "admin"]},
                     active=_B),
        "Handoff": _obj(id=_I, sender_id=_S, channel=_S, language=_S,
                        reason={"type": "string", "enum": ["requested", "offer_accepted", "fallback", "complaint"]},
                        status={"type": "string", "enum": ["queued", "active", "closed", "timed_out"]},
                        agent=_S, agent_name=_S, created_at=_S, taken_at=_S, closed_at=_S, closed_by=_S,
                        last_resident_at=_S, last_message=_S, resident_messages=_I, waiting_seconds=_I,
                        callback_ticket=_S),
        "Message": _obj(ts=_N, text=_S, agent=_S, event={"type": "string", "enum": ["paused", "resumed"]},
                        **{"from": {"type": "string", "enum": ["resident", "bot", "agent", "system"]}}),
        "Ticket": _obj(number=_S, type=_S, status=_S, category=_S, urgency=_S, unit=_S, location=_S,
                       description=_S, phone=_S, assignee=_S, channel=_S, sender_id=_S, language=_S,
                       created_at=_S, updated_at=_S, labels={"type": "object"},
                       events={"type": "array", "items": _obj(at=_S, actor=_S, action=_S, from_status=_S,
                                                              to_status=_S, note=_S)},
                       attachments={"type": "array", "items": _obj(id=_I, kind=_S, ref=_S, url=_S,
                                                                   created_at=_S)}),
    }
    for describer in _DESCRIBERS:
        extra_paths, extra_schemas = describer()
        clash = (set(extra_paths) & set(paths)) | (set(extra_schemas) & set(schemas))
        if clash:
            raise ValueError(f"{describer.__module__} describes {sorted(clash)} again")
        paths.update(extra_paths)
        schemas.update(extra_schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Linli staff desk API", "version": "1.0.0",
                 "description": "JSON API behind /console. See docs/api.md."},
        "components": {
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "linli_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": schemas,
        },
        "security": [{"cookie": []}, {"bearer": []}],
        "paths": paths,
    }
