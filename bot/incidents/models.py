"""The incident tables: ``incidents``, ``incident_links`` and ``incident_alerts``.

- ``incidents``: an outage or works staff declared (kind, bilingual title and description, the
  buildings it affects or the whole community, start, expected end); ``active`` until resolved
  with a note. ``notified_at`` is set once the residents linked to it were queued their
  resolution message (a loop queues what a crash left out).
- ``incident_links``: a conversation that asked about an incident or reported the same problem
  (instead of a new ticket), or a ticket linked when staff declared the incident from an
  early-warning alert; one row per incident, conversation and kind of link.
- ``incident_alerts``: an early-warning cluster (same category and building within the window).
  ``open_key`` is ``"<category>:<building>"`` while the alert is open and NULL afterwards: its
  unique constraint lets one open alert exist per category and building, whichever replica
  finds the cluster first (NULLs never collide, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Dict, Optional, Tuple

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

metadata = MetaData()

#: What an incident is about, and the repair categories (bot/tickets/triage.py) of the reports it explains.
KIND_CATEGORIES: Dict[str, Tuple[str, ...]] = {
    "water": ("plumbing",),
    "power": ("electrical",),
    "lift": ("elevator",),
    "gas": ("appliance",),  # gas stoves, water heaters and boilers are reported as appliances
    "network": ("other",),
    "other": ("other",),
}
KINDS = tuple(KIND_CATEGORIES)
#: The kind proposed when a cluster of one category raises an alert.
CATEGORY_KIND: Dict[str, str] = {"plumbing": "water", "electrical": "power", "elevator": "lift"}

ACTIVE, RESOLVED = "active", "resolved"
STATUSES = (ACTIVE, RESOLVED)
REPORTED, ASKED = "reported", "asked"
LINK_TYPES = (REPORTED, ASKED)
OPEN, DISMISSED, DECLARED = "open", "dismissed", "declared"
ALERT_STATUSES = (OPEN, DISMISSED, DECLARED)

MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE = 200, 2000, 2000

incidents_table = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False, default=ACTIVE),
    Column("title_zh", String(MAX_TITLE), nullable=True),
    Column("title_en", String(MAX_TITLE), nullable=True),
    Column("description_zh", Text, nullable=True),
    Column("description_en", Text, nullable=True),
    Column("community_wide", Boolean, nullable=False, default=False),
    Column("buildings", Text, nullable=True),  # JSON list of building numbers ("3", "B"); NULL: the whole community
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expected_end_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolution_note", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("resolved_by", String(64), nullable=True),
    Column("alert_id", Integer, nullable=True),  # declared from this early-warning alert
    Column("notified_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_incidents_status", "status"),
)

links_table = Table(
    "incident_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("link_type", String(16), nullable=False),  # reported | asked
    Column("conversation_id", String(160), nullable=False),  # "<channel>:<platform id>"
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False),  # the platform id
    Column("language", String(8), nullable=False),
    Column("ticket_number", String(32), nullable=True),  # a ticket linked from an alert
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("incident_id", "conversation_id", "link_type", name="uq_incident_link"),
    Index("ix_incident_links_incident", "incident_id"),
)

alerts_table = Table(
    "incident_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("category", String(32), nullable=False),
    Column("building", String(16), nullable=False),
    Column("status", String(16), nullable=False, default=OPEN),
    Column("open_key", String(64), nullable=True),
    Column("ticket_count", Integer, nullable=False),
    Column("ticket_numbers", Text, nullable=False),  # JSON list, oldest first
    Column("first_ticket_at", DateTime(timezone=True), nullable=False),
    Column("last_ticket_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("handled_by", String(64), nullable=True),
    Column("handled_at", DateTime(timezone=True), nullable=True),
    Column("incident_id", Integer, nullable=True),
    UniqueConstraint("open_key", name="uq_incident_alert_open"),
    Index("ix_incident_alerts_pair", "category", "building"),
)


def utcnow() -> datetime:
    """Timezone-aware current time (stored as UTC)."""
    return datetime.now(timezone.utc)


def as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """A stored time as an aware UTC datetime (SQLite gives naive ones back)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
