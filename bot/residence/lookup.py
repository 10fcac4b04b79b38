"""Which buildings a resident lives in: the one question notices and incidents ask of residence.

Confirmed statements ("我住3栋2单元502" → "对") and units staff added come first (newest first),
then the buildings of the resident's own repair tickets inside a flat (not public places),
newest first, without the units staff removed. A database without ``resident_units`` (not
migrated yet) gives the tickets' buildings alone.
"""

from __future__ import annotations

from typing import List

from sqlalchemy import inspect, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.residence.models import unit_key
from bot.residence.store import ResidenceStore
from bot.tickets.models import Ticket


def buildings_of(engine: Engine, channel: str, sender_id: str) -> List[str]:
    """The resident's buildings (as stored on tickets, e.g. ``"3"``), no duplicates: stated and
    staff units first, then tickets', each group most recent first."""
    seen: List[str] = []
    store = ResidenceStore(engine, create=False)
    removed = set()
    if inspect(engine).has_table("resident_units"):
        for unit in store.units_of(channel, sender_id):
            if unit.source != "ticket" and unit.building not in seen:
                seen.append(unit.building)
        removed = store.removed_keys(channel, sender_id)
    query = (select(Ticket.building, Ticket.entrance, Ticket.room)
             .where(Ticket.channel == channel, Ticket.sender_id == sender_id, Ticket.building.is_not(None),
                    or_(Ticket.area.is_(None), Ticket.area == ""))
             .order_by(Ticket.created_at.desc()))
    with Session(engine) as session:
        for building, entrance, room in session.execute(query):
            if room and unit_key(building, entrance, room) in removed:
                continue
            if building and building not in seen:
                seen.append(building)
    return seen
