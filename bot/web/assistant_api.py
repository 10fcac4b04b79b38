"""The staff assistant's routes: chat with Linli as staff, in the desk or embedded in an intranet.

- ``POST /api/assistant/messages`` ``{"text", "language"?}``: one staff message, answered by
  :func:`bot.staff_assistant.assistant.respond` (a repair card to confirm, ticket look-ups,
  counts, regulation / FAQ answers with the source first).
- ``POST /api/assistant/repairs`` ``{"draft_id", "description", "place", "phone", "urgency",
  "category", "visit_time", "channel", "language"}``: file the confirmed card; 400
  ``invalid_repair`` with ``errors`` per field (the resident form's parsers), 403 for roles
  that may not file; the ticket carries the channel ``phone`` / ``walk-in`` and the staff
  member as creator.
- ``GET /console/assistant``: the panel alone (login included), for an intranet page to
  link or frame from the same site.

Every route needs a staff session (a resident's widget or REST session has none) and every
action lands in the audit log.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.staff_assistant import repair
from bot.staff_assistant.assistant import FILING_ROLES, respond
from bot.staff_assistant.texts import text as staff_text
from bot.web.api import audit, authenticated, body, user_of
from bot.web.console import STATIC
from bot.web.http import error
from bot.web.openapi import I, S, describe, obj, op, ref
from bot.web.serialize import ticket_dict

blueprint = Blueprint("linli_assistant_api")

#: Longest staff message read.
MAX_MESSAGE = 1000
#: The standalone panel may be framed by pages of its own origin only (an intranet proxies it there).
PAGE_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@blueprint.get("/console/assistant")
async def assistant_page(request: Request) -> HTTPResponse:
    """The staff assistant alone (it shows a login form until ``/api/me`` answers)."""
    return await response.file(str(STATIC / "assistant.html"), headers=PAGE_HEADERS)


@blueprint.post("/api/assistant/messages")
@authenticated()
async def assistant_message(request: Request) -> HTTPResponse:
    """Answer one staff message."""
    data = body(request)
    message, language = data.get("text"), data.get("language")
    if not isinstance(message, str) or not message.strip():
        return error(400, "missing_text", 'Send {"text": "...", "language": "zh"|"en"} as JSON.')
    if len(message) > MAX_MESSAGE:
        return error(400, "too_long", f"Messages have at most {MAX_MESSAGE} characters.")
    if language not in (None, "", "zh", "en"):
        return error(400, "bad_language", 'language must be "zh" or "en".')
    agent = getattr(request.app.ctx, "agent", None)
    answer = await respond(message, user_of(request), request.app.ctx.ticket_store, agent, language or None)
    entry = answer.pop("audit", None) or {"action": "assistant_message"}
    await audit(request, entry["action"], entry.get("resident"), entry.get("subject"),
                f"{answer['intent']}: {entry.get('detail') or ''}".strip(": ")[:500])
    return response.json(answer)


@blueprint.post("/api/assistant/repairs")
@authenticated()
async def assistant_file_repair(request: Request) -> HTTPResponse:
    """File a confirmed repair card for a caller or walk-in."""
    user = user_of(request)
    if not user.has_role(*FILING_ROLES):
        await audit(request, "assistant_refused", None, None, "file_repair")
        return error(403, "forbidden", "Filing tickets needs the agent or admin role; ask an admin.")
    data = body(request)
    draft_id = data.get("draft_id")
    if draft_id is not None and (not isinstance(draft_id, str) or not draft_id.isalnum() or len(draft_id) > 32):
        return error(400, "bad_draft_id", "draft_id is the card's id from POST /api/assistant/messages.")
    fields, errors = repair.validate(data)
    if errors:
        return response.json({"error": "invalid_repair", "message": "Some fields need correcting.", "errors": errors},
                             status=400)
    try:
        ticket = await asyncio.to_thread(repair.file, request.app.ctx.ticket_store, fields,
                                         f"staff:{user.username}", draft_id)
    except SQLAlchemyError:
        return error(503, "database_unavailable", "The ticket could not be stored; try again.")
    lang = fields["language"] if data.get("reply_language") not in ("zh", "en") else data["reply_language"]
    reply = staff_text("filed", lang, number=ticket.number, channel=staff_text(f"channel_{ticket.channel}", lang),
                       creator=user.display_name or user.username)
    await audit(request, "assistant_file_repair", f"{ticket.channel}:{ticket.sender_id}", ticket.number,
                f"{ticket.channel}, {fields.get('location') or ''}")
    return response.json({"ticket": ticket_dict(ticket), "reply": reply, "created_by": f"staff:{user.username}"},
                         status=201)


@describe
def _paths() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    card = obj(draft_id=S, description=S, place=S, phone=S, urgency={"type": "string", "enum": ["urgent", "normal"]},
               category=S, visit_time=S, channel={"type": "string", "enum": list(repair.CHANNELS)},
               language={"type": "string", "enum": ["zh", "en"]})
    answer = obj(
        intent={"type": "string", "enum": ["file_repair", "open_in_building", "ticket_status", "count", "question",
                                           "help"]},
        language=S, reply=S, tickets={"type": "array", "items": ref("Ticket")}, total=I, building=S,
        draft={"allOf": [card], "description": "file_repair: the pre-filled card, with missing and errors"},
        counts=obj(ticket_type=S, period=S, since=S, until=S, count=I, open=I),
        answer=obj(abstained={"type": "boolean"}, sources={"type": "array", "items": S}, text=S,
                   confidence={"type": "number"}, passages={"type": "array", "items": {"type": "object"}}))
    paths = {
        "/api/assistant/messages": {"post": op(
            "Staff assistant: one message (file a repair for a caller, open tickets of a building, a ticket's "
            "status, counts, regulation / FAQ questions); audited", answer,
            request=obj(text=S, language={"type": "string", "enum": ["zh", "en"]}), errors=(400, 401, 415),
            tag="assistant")},
        "/api/assistant/repairs": {"post": op(
            "File the confirmed repair card for a caller (channel phone or walk-in, the staff member as creator); "
            "400 invalid_repair with errors per field", obj(ticket=ref("Ticket"), reply=S, created_by=S),
            request=card, errors=(400, 401, 403, 415), tag="assistant")},
    }
    return paths, {}
