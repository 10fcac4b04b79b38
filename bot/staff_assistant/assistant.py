"""One staff message in, one answer out: the staff assistant's turn.

:func:`respond` reads the message (:func:`bot.staff_assistant.intents.parse`) and answers it:
a repair draft to confirm (nothing is filed before staff confirm the card,
:mod:`bot.staff_assistant.repair`), open tickets of a building, a ticket's status or counts
(:mod:`bot.staff_assistant.lookup`), or a regulation / FAQ answer with its source first
(:mod:`bot.staff_assistant.knowledge`). Each answer says what to audit; the API records it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from bot.staff_assistant import intents, lookup, repair
from bot.staff_assistant.knowledge import KbUnavailable, hit_test
from bot.staff_assistant.suggest import answer_text
from bot.staff_assistant.texts import text
from bot.tickets.labels import label

#: Roles that may file tickets for a caller (editors keep the knowledge base; admins pass every check).
FILING_ROLES = ("agent",)
#: Passages listed under a staff answer, for reference.
MAX_PASSAGES = 3


def _place(ticket: Dict[str, Any], lang: str) -> str:
    return ticket.get("location") or ticket.get("unit") or "-"


def _audit(action: str, resident: Optional[str] = None, subject: Any = None, detail: Optional[str] = None) -> Dict[str, Any]:
    return {"action": action, "resident": resident, "subject": subject, "detail": detail}


def _kind(ticket_type: Optional[str]) -> str:
    return f"kind_{ticket_type}" if ticket_type in ("repair", "complaint") else "kind_all"


def _file_reply(user: Any, parsed: intents.StaffIntent) -> Dict[str, Any]:
    lang = parsed.language
    if not user.has_role(*FILING_ROLES):
        return {"reply": text("not_allowed", lang, role=user.role), "allowed": False,
                "audit": _audit("assistant_refused", detail="file_repair")}
    card = repair.draft(parsed.text, lang)
    reply = text("draft", lang)
    if card["missing"]:
        reply += " " + text("draft_missing", lang, fields="、".join(text(f"field_{f}", lang) for f in card["missing"])
                            if lang == "zh" else ", ".join(text(f"field_{f}", lang) for f in card["missing"]))
    return {"reply": reply, "draft": card, "audit": _audit("assistant_draft_repair", detail=card["draft_id"])}


def _building_reply(store: Any, parsed: intents.StaffIntent) -> Dict[str, Any]:
    lang, building = parsed.language, parsed.building or ""
    found = lookup.open_in_building(store, building, parsed.ticket_type)
    kind = text(_kind(parsed.ticket_type), lang)
    if not found["total"]:
        reply = text("none_in_building", lang, building=found["building"], kind=kind)
    else:
        reply = text("open_in_building", lang, building=found["building"], kind=kind, count=found["total"])
        if found["total"] > len(found["tickets"]):
            reply += " " + text("more", lang, shown=len(found["tickets"]))
    return {"reply": reply, "tickets": found["tickets"], "total": found["total"], "building": found["building"],
            "audit": _audit("assistant_list_tickets", subject=f"building {found['building']}",
                            detail=f"{found['total']} open {parsed.ticket_type or 'tickets'}")}


def _status_reply(store: Any, parsed: intents.StaffIntent) -> Dict[str, Any]:
    lang, number = parsed.language, parsed.ticket_id or ""
    ticket = lookup.status_of(store, number)
    if ticket is None:
        return {"reply": text("no_ticket", lang, number=number), "tickets": [],
                "audit": _audit("assistant_ticket_status", subject=number, detail="not found")}
    reply = text("status", lang, number=ticket["number"], status=label("status", ticket["status"], lang),
                 kind=label("type", ticket["type"], lang), category=label("category", ticket["category"], lang),
                 place=_place(ticket, lang), assignee=ticket["assignee"] or text("unassigned", lang),
                 updated=(ticket["updated_at"] or "")[:16].replace("T", " "))
    return {"reply": reply, "tickets": [ticket],
            "audit": _audit("assistant_ticket_status", f"{ticket['channel']}:{ticket['sender_id']}", ticket["number"])}


def _count_reply(store: Any, parsed: intents.StaffIntent) -> Dict[str, Any]:
    lang = parsed.language
    found = lookup.counts(store, parsed.ticket_type, parsed.period)
    reply = text("count", lang, period=text(parsed.period, lang), kind=text(_kind(parsed.ticket_type), lang),
                 count=found["count"], open=found["open"])
    return {"reply": reply, "counts": found,
            "audit": _audit("assistant_count", subject=parsed.ticket_type or "tickets", detail=parsed.period)}


def staff_answer(hit: Dict[str, Any], lang: str) -> Dict[str, Any]:
    """A hit test phrased for staff: the source (article) first, then the answer; or why it abstains."""
    passages = [{"citation": h.get("citation"), "score": h.get("score"), "kind": h.get("kind"), "text": h.get("text")}
                for h in (hit.get("hits") or [])[:MAX_PASSAGES]]
    thresholds = hit.get("thresholds") or {}
    if hit.get("decision") == "abstain":
        best = max((float(h.get("score") or 0) for h in hit.get("hits") or []), default=0.0)
        reply = text("kb_abstain", lang, score=f"{best:.2f}", threshold=f"{float(thresholds.get('abstain_below') or 0):.2f}")
        return {"reply": reply, "answer": {"abstained": True, "sources": [], "passages": passages,
                                           "confidence": hit.get("confidence")}}
    citations: List[Dict[str, Any]] = hit.get("citations") or []
    sources = list(dict.fromkeys(c.get("citation") for c in citations if c.get("citation")))
    answer = answer_text(hit.get("reply", ""))
    joined = ("；" if lang == "zh" else "; ").join(sources)
    reply = text("kb_answer", lang, sources=joined, answer=answer) if sources else answer
    return {"reply": reply, "answer": {"abstained": False, "sources": sources, "text": answer, "passages": passages,
                                       "confidence": hit.get("confidence"), "decision": hit.get("decision"),
                                       "language": hit.get("language")}}


async def _question_reply(agent: Any, parsed: intents.StaffIntent) -> Dict[str, Any]:
    lang = parsed.language
    try:
        hit = await hit_test(agent, parsed.text, lang)
    except KbUnavailable as exc:
        return {"reply": text("kb_down", lang, message=exc.message), "error": exc.code,
                "audit": _audit("assistant_question", detail="kb unavailable")}
    answered = staff_answer(hit, lang)
    answered["audit"] = _audit("assistant_question", detail="abstained" if answered["answer"]["abstained"] else
                               ", ".join(answered["answer"]["sources"])[:200])
    return answered


async def respond(message: str, user: Any, store: Any, agent: Any, language: Optional[str] = None) -> Dict[str, Any]:
    """The assistant's answer to one staff message: ``{"intent", "language", "reply", ...}`` plus ``audit``."""
    parsed = intents.parse(message, language)
    if parsed.name == intents.FILE_REPAIR:
        result = _file_reply(user, parsed)
    elif parsed.name == intents.OPEN_IN_BUILDING:
        result = await asyncio.to_thread(_building_reply, store, parsed)
    elif parsed.name == intents.TICKET_STATUS:
        result = await asyncio.to_thread(_status_reply, store, parsed)
    elif parsed.name == intents.COUNT:
        result = await asyncio.to_thread(_count_reply, store, parsed)
    elif parsed.name == intents.QUESTION:
        result = await _question_reply(agent, parsed)
    else:
        result = {"reply": text("help", parsed.language), "audit": _audit("assistant_help")}
    return {"intent": parsed.name, "language": parsed.language, **result}
