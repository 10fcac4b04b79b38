"""Tickets staff filed for a resident (a phone call, a walk-in: bot/staff_assistant) that the
resident may see from their own channel.

Such a ticket has no channel identity of the resident: it carries the unit and the phone the
caller gave. A resident is linked to it when **both** match what Linli knows of them: the unit is
one of theirs (stated and confirmed, added by staff, or from their own flat tickets:
:meth:`bot.residence.store.ResidenceStore.units_of`) and the phone is one they gave on a ticket
of their own. One without the other is not enough: a neighbour knows the flat, a wrong number
is easy to type.
"""

from __future__ import annotations

from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from bot.residence.models import unit_key
from bot.residence.store import ResidenceStore
from bot.staff_assistant.repair import CHANNELS as STAFF_CHANNELS
from bot.tickets.models import Ticket


def _phones(session: Session, channel: str, sender_id: str) -> List[str]:
    query = select(Ticket.phone).where(Ticket.channel == channel, Ticket.sender_id == sender_id,
                                       Ticket.phone.is_not(None)).distinct()
    return [p for p in session.scalars(query) if p]


def linked_tickets(engine: Engine, channel: str, sender_id: str, limit: int = 5) -> List[Ticket]:
    """Staff-filed tickets for this resident's units and phones, newest first (see the module docstring)."""
    keys = {u.key for u in ResidenceStore(engine, create=False).units_of(channel, sender_id)}
    if not keys:
        return []
    with Session(engine, expire_on_commit=False) as session:
        phones = _phones(session, channel, sender_id)
        if not phones:
            return []
        query = (select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.attachments))
                 .where(Ticket.channel.in_(STAFF_CHANNELS), Ticket.phone.in_(phones))
                 .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(200))
        found = [t for t in session.scalars(query)
                 if t.building and t.room and unit_key(t.building, t.entrance, t.room) in keys]
        session.expunge_all()
    return found[:limit]


def linked_ticket(engine: Engine, channel: str, sender_id: str, number: str) -> Optional[Ticket]:
    """The staff-filed ticket ``number`` if this resident is linked to it, else ``None``."""
    return next((t for t in linked_tickets(engine, channel, sender_id, limit=200) if t.number == number.upper()), None)
