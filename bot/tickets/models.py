"""SQLAlchemy schema for tickets, their history and their attachments."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import List, Optional

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    """Timezone-aware current time; stored as UTC."""
    return datetime.now(timezone.utc)


class TicketType(str, enum.Enum):
    """What a ticket is about; decides its number prefix."""

    REPAIR = "repair"
    COMPLAINT = "complaint"

    @property
    def prefix(self) -> str:
        """Number prefix: BX (报修) for repairs, TS (投诉) for complaints."""
        return {"repair": "BX", "complaint": "TS"}[self.value]


class TicketStatus(str, enum.Enum):
    """Life cycle: open → assigned → in_progress → resolved → closed."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


#: Allowed status changes. Staff may skip steps forward, reopen a resolved
#: ticket, or close an open one as a duplicate; a closed ticket is final.
TRANSITIONS = {
    TicketStatus.OPEN: {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.ASSIGNED: {TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.IN_PROGRESS: {TicketStatus.ASSIGNED, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.RESOLVED: {TicketStatus.IN_PROGRESS, TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
}

REPAIR_CATEGORIES = ("plumbing", "electrical", "elevator", "doors_locks", "public_area", "appliance", "other")
URGENCIES = ("urgent", "normal")


class Ticket(Base):
    """One resident request, identified by a readable number like BX-20261124-0007."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("day", "type", "seq", name="uq_ticket_day_seq"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(32), unique=True, nullable=False, index=True)
    type = Column(String(16), nullable=False)
    day = Column(String(8), nullable=False)  # YYYYMMDD of creation, part of the number
    seq = Column(Integer, nullable=False)  # per day and type
    status = Column(String(16), nullable=False, default=TicketStatus.OPEN.value, index=True)
    # Who reported it: a resident is identified by channel + sender id.
    channel = Column(String(32), nullable=False)
    sender_id = Column(String(128), nullable=False, index=True)
    language = Column(String(8), nullable=False, default="zh")
    unit = Column(String(64))
    category = Column(String(32), index=True)
    urgency = Column(String(16))
    description = Column(Text, nullable=False)
    # Where: `location` is the display text ("3栋2单元502", "5号楼电梯"); a flat also
    # keeps `unit`, and every place its structured parts, so staff can filter by building.
    location = Column(String(255))
    building = Column(String(16), index=True)
    entrance = Column(String(16))
    room = Column(String(16))
    area = Column(String(64))  # public place ("电梯", "地下车库B区"); empty for a flat
    visit_time = Column(String(128))  # when the resident prefers the technician to come
    phone = Column(String(32))
    assignee = Column(String(64))
    # A retried request (same conversation turn) must not create a second ticket.
    idempotency_key = Column(String(128), unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    events: List["TicketEvent"] = relationship(
        "TicketEvent", back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    attachments: List["TicketAttachment"] = relationship(
        "TicketAttachment", back_populates="ticket", order_by="TicketAttachment.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"


class TicketCounter(Base):
    """The last sequence number given out per day and ticket type.

    Allocating a number updates this row, which locks it until the transaction
    ends: concurrent writers (several action servers on PostgreSQL) queue up
    instead of racing for the same number.
    """

    __tablename__ = "ticket_counters"

    day = Column(String(8), primary_key=True)
    type = Column(String(16), primary_key=True)
    last_seq = Column(Integer, nullable=False)


class TicketEvent(Base):
    """One entry of a ticket's history: creation, status change, assignment, note."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor = Column(String(128), nullable=False)
    action = Column(String(32), nullable=False)  # created | status | assigned | note | attachment | location
    from_status = Column(String(16))
    to_status = Column(String(16))
    note = Column(Text)

    ticket = relationship("Ticket", back_populates="events")


class TicketAttachment(Base):
    """A photo or file a resident sent for a ticket (stored by reference)."""

    __tablename__ = "ticket_attachments"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False, default="image")
    ref = Column(Text, nullable=False)  # URL, media id or path under var/
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="attachments")


def ticket_number(ticket_type: str, day: str, seq: int) -> str:
    """Format a readable ticket number: ``BX-20261124-0007``."""
    return f"{TicketType(ticket_type).prefix}-{day}-{seq:04d}"


def optional(value: Optional[str]) -> Optional[str]:
    """Empty strings are stored as NULL."""
    return value or None
