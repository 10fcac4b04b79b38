"""The resident panel next to a conversation: who is this, where do they live, what came before.

A resident is a conversation id ``"<channel>:<platform id>"`` (:mod:`bot.channels.identity`).
The profile gathers, read-only, what Linli's own tables know about them: the units and
places of their tickets, their phone numbers **masked** (the ticket page shows them in
full), their tickets and their handoffs, newest first, and where they live (``residence``: the
units they stated and confirmed, staff added, or their tickets name; :mod:`bot.residence`) with
whether they receive non-urgent notices. The route that serves it records ``view_resident`` in
the audit log (:mod:`bot.web.desk_api`); staff add and remove units there too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.handoff.models import Handoff
from bot.notices.store import NoticeStore
from bot.residence.store import ResidenceStore
from bot.privacy import mask_phone, mask_phones
from bot.tickets.labels import label
from bot.tickets.models import Ticket
from bot.web.serialize import iso

#: Most tickets and handoffs listed (the totals count all of them).
LIMIT = 20
#: Tickets still being worked on.
OPEN_STATUSES = ("open", "assigned", "in_progress")
#: Longest resident id accepted (the audit log keeps 255 characters).
MAX_ID = 255


def parse_resident(resident: str) -> Tuple[str, str]:
    """``(channel, platform id)`` of ``"<channel>:<platform id>"``; ValueError says what is wrong."""
    channel, sep, platform = (resident or "").partition(":")
    if not sep or not channel or not platform or len(resident) > MAX_ID or not resident.isprintable():
        raise ValueError("A resident id is \"<channel>:<platform id>\", e.g. wechat:o6_bmj… "
                         "(a handoff's sender_id), at most 255 printable characters.")
    return channel, platform


def _ticket_row(ticket: Ticket) -> Dict[str, Any]:
    return {"number": ticket.number, "type": ticket.type, "status": ticket.status, "category": ticket.category,
            "urgency": ticket.urgency, "unit": ticket.unit, "location": ticket.location,
            "summary": mask_phones((ticket.description or "")[:80]), "assignee": ticket.assignee,
            "created_at": iso(ticket.created_at), "updated_at": iso(ticket.updated_at),
            "labels": {kind: {lang: label(kind, getattr(ticket, kind), lang) for lang in ("zh", "en")}
                       for kind in ("type", "status", "category")}}


def _handoff_row(handoff: Handoff) -> Dict[str, Any]:
    data = handoff.as_dict()
    return {key: data[key] for key in ("id", "status", "reason", "priority", "language", "agent", "agent_name",
                                       "created_at", "taken_at", "closed_at", "resident_messages",
                                       "callback_ticket")}


def _distinct(values: List[Optional[str]]) -> List[str]:
    seen: List[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def resident_profile(tickets_engine: Engine, handoffs_engine: Engine, resident: str,
                     limit: int = LIMIT) -> Optional[Dict[str, Any]]:
    """The panel's data for ``resident``, or ``None`` when Linli has no ticket and no handoff of theirs."""
    channel, platform = parse_resident(resident)
    mine = (Ticket.channel == channel, Ticket.sender_id == platform)
    newest = (Ticket.created_at.desc(), Ticket.id.desc())
    with Session(tickets_engine, future=True) as session:
        # Units, places and phones of every ticket (not only the listed ones), each once.
        places = session.execute(select(Ticket.unit, Ticket.location, Ticket.phone).where(*mine)
                                 .order_by(*newest)).all()
        open_count = session.scalar(select(func.count()).select_from(Ticket).where(
            *mine, Ticket.status.in_(OPEN_STATUSES)))
        tickets = [_ticket_row(t) for t in session.scalars(select(Ticket).where(*mine).order_by(*newest)
                                                           .limit(limit))]
    with Session(handoffs_engine, future=True) as session:
        handoffs = [_handoff_row(h) for h in session.scalars(
            select(Handoff).where(Handoff.sender_id == resident).order_by(Handoff.id.desc()).limit(limit))]
        handoff_total = session.scalar(select(func.count()).select_from(Handoff)
                                       .where(Handoff.sender_id == resident))
    residence = [unit.as_dict() for unit in ResidenceStore(tickets_engine).units_of(channel, platform)]
    if not places and not handoff_total and not residence:
        return None
    return {
        "id": resident,
        "channel": channel,
        "platform_id": platform,
        "language": handoffs[0]["language"] if handoffs else None,
        "units": _distinct([unit or location for unit, location, _ in places]),
        "phones": _distinct([mask_phone(phone) for _, _, phone in places]),
        "tickets": tickets,
        "tickets_total": len(places),
        "open_tickets": int(open_count or 0),
        "handoffs": handoffs,
        "handoffs_total": int(handoff_total or 0),
        "residence": residence,
        "notices_subscribed": NoticeStore(tickets_engine).subscribed(channel, platform),
    }
