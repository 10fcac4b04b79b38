"""Agent assist on the desk: suggested replies during a handoff, and how often agents use them.

- ``GET /api/handoffs/<id>/suggestions``: for the resident's latest message, up to three
  replies from the knowledge base in the resident's language, each with its source and
  confidence (:mod:`bot.staff_assistant.suggest`, from the action server's hit test).
  None, with the ``reason``, when there is no resident message, when it is not a question
  (``not_question``), when the knowledge base abstains (``abstained``) or cannot answer now
  (``kb_unavailable``). Nothing is ever sent: the desk puts a suggestion in the reply box.
- ``POST /api/handoffs/<id>/suggestions/used`` ``{"event": "inserted"|"sent", "suggestion",
  "text"?}``: counts an insertion, or a sent reply that still contains the suggestion.
- ``GET /api/stats/assist?days=30``: shown / inserted / sent per day (the dashboard's card).

Any staff session may use them (agents answer handoffs); the counters are
:mod:`bot.staff_assistant.counters`; the panel is ``console_static/assist.js``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.conversations import full_tracker
from bot.handoff.conversation import transcript
from bot.handoff.store import HandoffNotFound
from bot.nlu.questions import is_question
from bot.staff_assistant import counters
from bot.staff_assistant.knowledge import KbUnavailable, hit_test
from bot.staff_assistant.suggest import MAX_SUGGESTIONS, still_contains, suggestions
from bot.web.api import authenticated, body, desk_of, int_arg, valid_id
from bot.web.http import error
from bot.web.openapi import B, I, N, S, describe, obj, op, path_param, query

blueprint = Blueprint("linli_assist_api", url_prefix="/api")

#: Longest suggestion or reply text the usage route reads.
MAX_TEXT = 4000


def _not_found(handoff_id: int) -> HTTPResponse:
    return error(404, "not_found", f"No handoff {handoff_id}; GET /api/handoffs lists them.")


@blueprint.get("/handoffs/<handoff_id:int>/suggestions")
@authenticated()
async def handoff_suggestions(request: Request, handoff_id: int) -> HTTPResponse:
    """Suggested replies to the resident's latest message of this handoff (never sent by themselves)."""
    if not valid_id(handoff_id):
        return _not_found(handoff_id)
    try:
        handoff = await asyncio.to_thread(request.app.ctx.handoff_store.get, handoff_id)
    except HandoffNotFound:
        return _not_found(handoff_id)
    desk = desk_of(request)
    if desk is None:
        return error(503, "loading", "The assistant is still loading; retry in a moment.")
    messages = transcript(await full_tracker(desk.agent, handoff.sender_id))
    latest = next((m for m in reversed(messages) if m["from"] == "resident" and m.get("text")), None)
    result: Dict[str, Any] = {"handoff_id": handoff_id, "message": None, "language": handoff.language,
                              "suggestions": [], "reason": None}
    if latest is None:
        result["reason"] = "no_message"
        return response.json(result)
    result["message"] = {"ts": latest["ts"], "text": latest["text"]}
    if not is_question(latest["text"]):
        result["reason"] = "not_question"
        return response.json(result)
    try:
        hit = await hit_test(desk.agent, latest["text"], handoff.language)
    except KbUnavailable as exc:
        result.update(reason="kb_unavailable", message_text=exc.message)
        return response.json(result)
    result["language"] = hit.get("language") or handoff.language
    result["decision"] = hit.get("decision")
    result["suggestions"] = suggestions(hit, latest["text"], MAX_SUGGESTIONS)
    if not result["suggestions"]:
        result["reason"] = "abstained"
    elif await asyncio.to_thread(counters.first_showing, handoff_id, latest["ts"]):
        await asyncio.to_thread(counters.record, "shown", request.app.ctx.ticket_store.timezone)
    return response.json(result)


def _usage_input(data: Dict[str, Any]) -> Tuple[str, str, str]:
    event, suggestion, sent = data.get("event"), data.get("suggestion"), data.get("text")
    if event not in ("inserted", "sent"):
        raise ValueError('event must be "inserted" or "sent"')
    if not isinstance(suggestion, str) or not suggestion.strip():
        raise ValueError("suggestion must be the suggested text that was inserted")
    if event == "sent" and not isinstance(sent, str):
        raise ValueError("text must be the reply that was sent")
    if len(suggestion) > MAX_TEXT or len(sent or "") > MAX_TEXT:
        raise ValueError(f"texts have at most {MAX_TEXT} characters")
    return event, suggestion, sent or ""


@blueprint.post("/handoffs/<handoff_id:int>/suggestions/used")
@authenticated()
async def suggestion_used(request: Request, handoff_id: int) -> HTTPResponse:
    """Count a suggestion put in the reply box, or a sent reply that still contains it."""
    if not valid_id(handoff_id):
        return _not_found(handoff_id)
    try:
        event, suggestion, sent = _usage_input(body(request))
    except ValueError as exc:
        return error(400, "bad_request", str(exc))
    try:
        await asyncio.to_thread(request.app.ctx.handoff_store.get, handoff_id)
    except HandoffNotFound:
        return _not_found(handoff_id)
    contained = True if event == "inserted" else still_contains(sent, suggestion)
    if contained:
        await asyncio.to_thread(counters.record, event, request.app.ctx.ticket_store.timezone)
    return response.json({"event": event, "counted": contained, "contained": contained})


@blueprint.get("/stats/assist")
@authenticated()
async def assist_stats(request: Request) -> HTTPResponse:
    """Suggested replies shown, inserted and sent per local day over ``?days=`` (default 30)."""
    try:
        days = int_arg(request, "days", 30, 1, 366)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    return response.json(await asyncio.to_thread(counters.daily, request.app.ctx.ticket_store.timezone, days))


@describe
def _paths() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    hid = path_param("handoff_id", "integer")
    suggestion = obj(id=S, kind={"type": "string", "enum": ["answer", "faq", "regulation"]}, text=S, source=S, title=S,
                     confidence=N, language=S)
    paths = {
        "/api/handoffs/{handoff_id}/suggestions": {"get": op(
            "Up to three suggested replies from the knowledge base to the resident's latest message, in the "
            "resident's language, with source and confidence; none (and the reason) when it is not a question or "
            "the knowledge base abstains. Nothing is sent",
            obj(handoff_id=I, message={"type": "object", "nullable": True, "properties": {"ts": N, "text": S}},
                language=S, decision=S, suggestions={"type": "array", "items": suggestion},
                reason={"type": "string", "nullable": True,
                        "enum": ["no_message", "not_question", "abstained", "kb_unavailable", None]}),
            params=[hid], errors=(401, 404, 503), tag="handoffs")},
        "/api/handoffs/{handoff_id}/suggestions/used": {"post": op(
            "Count a suggestion inserted into the reply box (event inserted), or a sent reply that still contains "
            "it (event sent, with the sent text)", obj(event=S, counted=B, contained=B), params=[hid],
            request=obj(event={"type": "string", "enum": ["inserted", "sent"]}, suggestion=S, text=S),
            errors=(400, 401, 404, 415), tag="handoffs")},
        "/api/stats/assist": {"get": op(
            "Suggested replies shown (messages with suggestions), inserted and sent per local day",
            obj(days={"type": "array", "items": obj(day=S, shown=I, inserted=I, sent=I)},
                totals=obj(shown=I, inserted=I, sent=I), insert_rate={"type": "number", "nullable": True}),
            params=[query("days", "how many days, default 30", "integer")], errors=(400, 401), tag="dashboards")},
    }
    return paths, {}
