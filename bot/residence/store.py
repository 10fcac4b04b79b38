"""The units of a resident: confirmed statements, staff edits and their repair tickets.

All methods are synchronous (SQLAlchemy); async callers use ``asyncio.to_thread``.
A resident is ``(channel, platform id)``, as on tickets.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import inspect, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.identity import resident_id
from bot.db import get_engine
from bot.nlu.patterns import Unit
from bot.residence.models import ACTIVE, REMOVED, STAFF, STATED, TICKET, metadata, resident_units as t, unit_key
from bot.tickets.models import Ticket


@dataclass(frozen=True)
class ResidentUnit:
    """One unit of a resident, wherever Linli learnt it."""

    key: str
    building: str
    entrance: Optional[str]
    room: str
    source: str  # stated | staff | ticket
    at: float  # when it was stated/added, or when the (latest) ticket was filed
    ticket: Optional[str] = None  # the latest ticket's number (source ticket)
    created_by: Optional[str] = None

    @property
    def unit(self) -> Unit:
        """As a :class:`~bot.nlu.patterns.Unit`."""
        return Unit(building=self.building, room=self.room, entrance=self.entrance)

    def as_dict(self) -> Dict[str, Any]:
        """For the desk API, with the Chinese and English displays."""
        return {**asdict(self), "unit": self.unit.canonical(), "unit_en": self.unit.english()}


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class ResidenceStore:
    """``resident_units`` (and the flat tickets) on one engine."""

    def __init__(self, engine: Engine, create: bool = True) -> None:
        self.engine = engine
        if create:
            metadata.create_all(engine)

    # ------------------------------------------------------------ reading
    def _rows(self, resident: str) -> List[Any]:
        if not inspect(self.engine).has_table(t.name):
            return []
        with self.engine.connect() as conn:
            return list(conn.execute(select(t).where(t.c.resident == resident).order_by(t.c.updated_at.desc())))

    def units_of(self, channel: str, sender_id: str) -> List[ResidentUnit]:
        """Stated and staff units (newest first), then those of the resident's flat tickets (newest
        first) that are not listed already and that staff did not remove; each unit once."""
        rows = self._rows(resident_id(channel, sender_id))
        removed: Set[str] = {r.unit_key for r in rows if r.status == REMOVED}
        units = [ResidentUnit(r.unit_key, r.building, r.entrance, r.room, r.source, r.updated_at,
                              created_by=r.created_by) for r in rows if r.status == ACTIVE]
        seen = {u.key for u in units} | removed
        query = (select(Ticket.building, Ticket.entrance, Ticket.room, Ticket.number, Ticket.created_at)
                 .where(Ticket.channel == channel, Ticket.sender_id == sender_id, Ticket.building.is_not(None),
                        Ticket.room.is_not(None), or_(Ticket.area.is_(None), Ticket.area == ""))
                 .order_by(Ticket.created_at.desc(), Ticket.id.desc()))
        with self.engine.connect() as conn:
            tickets = list(conn.execute(query)) if inspect(self.engine).has_table(Ticket.__tablename__) else []
        for building, entrance, room, number, created in tickets:
            key = unit_key(building, entrance, room)
            if key not in seen:
                seen.add(key)
                units.append(ResidentUnit(key, building, entrance, room, TICKET, _epoch(created), ticket=number))
        return units

    def removed_keys(self, channel: str, sender_id: str) -> Set[str]:
        """Units staff removed (tombstones)."""
        return {r.unit_key for r in self._rows(resident_id(channel, sender_id)) if r.status == REMOVED}

    def has(self, channel: str, sender_id: str, unit: Unit) -> bool:
        """Whether the resident already has ``unit`` stated or added by staff."""
        key = unit_key(unit.building, unit.entrance, unit.room)
        return any(r.unit_key == key and r.status == ACTIVE for r in self._rows(resident_id(channel, sender_id)))

    # ------------------------------------------------------------ writing
    def _upsert(self, channel: str, sender_id: str, building: str, entrance: Optional[str], room: str,
                source: str, status: str, actor: str, now: Optional[float]) -> None:
        now = time.time() if now is None else now
        resident = resident_id(channel, sender_id)
        key = unit_key(building, entrance, room)
        values = dict(source=source, status=status, created_by=actor[:80], updated_at=now)
        for _ in range(2):  # a concurrent insert of the same unit: update it instead
            with self.engine.begin() as conn:
                done = conn.execute(update(t).where(t.c.resident == resident, t.c.unit_key == key).values(**values))
                if done.rowcount:
                    return
                try:
                    conn.execute(insert(t).values(resident=resident[:160], channel=channel[:32],
                                                  sender_id=sender_id[:128], building=building, entrance=entrance,
                                                  room=room, unit_key=key, created_at=now, **values))
                    return
                except IntegrityError:
                    continue

    def confirm(self, channel: str, sender_id: str, unit: Unit, source: str = STATED, actor: str = "resident",
                now: Optional[float] = None) -> ResidentUnit:
        """Record ``unit`` as the resident's (``stated`` once they confirmed, or ``staff``); idempotent."""
        if source not in (STATED, STAFF):
            raise ValueError(f"source must be {STATED} or {STAFF}, not {source!r}")
        self._upsert(channel, sender_id, unit.building, unit.entrance, unit.room, source, ACTIVE, actor, now)
        key = unit_key(unit.building, unit.entrance, unit.room)
        return next(u for u in self.units_of(channel, sender_id) if u.key == key)

    def remove(self, channel: str, sender_id: str, key: str, actor: str, now: Optional[float] = None) -> bool:
        """Remove a unit (any source: a ticket's gets a tombstone); ``False`` when the resident has no such unit."""
        unit = next((u for u in self.units_of(channel, sender_id) if u.key == key), None)
        if unit is None:
            return False
        self._upsert(channel, sender_id, unit.building, unit.entrance, unit.room, unit.source, REMOVED, actor, now)
        return True


@lru_cache(maxsize=1)
def residence_store() -> ResidenceStore:
    """The process-wide store on ``DATABASE_URL``."""
    return ResidenceStore(get_engine())
