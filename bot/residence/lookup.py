"""Which buildings a resident lives in: the one question notices and incidents ask of residence.

Confirmed statements ("我住3栋2单元502" → "对") and units staff added come first (newest first),
then the buildings of the resident's own repair tickets inside a flat (not public places),
newest first, without the units staff removed. A database without ``resident_units`` (not
migrated yet) gives the tickets' buildings alone.
"""

from __future__ import annotations

from typing import List

from sqlalchemy.engine import Engine

from bot.residence.store import ResidenceStore


def buildings_of(engine: Engine, channel: str, sender_id: str) -> List[str]:
    """The resident's buildings (as stored on tickets, e.g. ``"3"``), no duplicates: stated and
    staff units first, then tickets', each group most recent first
    (:meth:`~bot.residence.store.ResidenceStore.units_of`, which leaves out the units staff removed)."""
    seen: List[str] = []
    for unit in ResidenceStore(engine, create=False).units_of(channel, sender_id):
        if unit.building not in seen:
            seen.append(unit.building)
    return seen
