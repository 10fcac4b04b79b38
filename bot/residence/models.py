"""The ``resident_units`` table: the flats a resident lives in, beyond their tickets.

A row is a unit the resident **stated and confirmed** ("我住3栋2单元502" → "对"), source
``stated``, or one a member of staff added on the desk, source ``staff``. Units of the
resident's own repair tickets are read from ``tickets`` directly (source ``ticket``) and are
not copied here; when staff remove one, a row with status ``removed`` hides it (a tombstone),
so a ticket filed years ago stops counting once the resident has moved. ``unit_key``
(``"3-2-502"``, ``"5--1203"`` without an entrance) identifies a unit per resident. Times are
epoch seconds, as in the outbox.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

STATED, STAFF, TICKET = "stated", "staff", "ticket"
SOURCES = (STATED, STAFF, TICKET)
ACTIVE, REMOVED = "active", "removed"

resident_units = Table(
    "resident_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resident", String(160), nullable=False),  # conversation id "<channel>:<platform id>"
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False),  # platform id, as on tickets
    Column("building", String(16), nullable=False),
    Column("entrance", String(16), nullable=True),
    Column("room", String(16), nullable=False),
    Column("unit_key", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(80), nullable=False),  # "resident" or "staff:<username>"
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("resident", "unit_key", name="uq_resident_units_unit"),
    Index("ix_resident_units_building", "building", "status"),
)


def unit_key(building: str, entrance: Optional[str], room: str) -> str:
    """``"3-2-502"`` (``"5--1203"`` without an entrance): one unit of one resident."""
    return f"{building}-{entrance or ''}-{room}"
