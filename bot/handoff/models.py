"""SQLAlchemy table of handoffs (one row per time a conversation is handed to staff)."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from sqlalchemy import Column, DateTime, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    """Timezone-aware current time; stored as UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """SQLite returns naive datetimes: read them back as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class HandoffStatus(str, enum.Enum):
    """queued (waiting for an agent) → active (an agent took it) → closed; queued → timed_out."""

    QUEUED = "queued"
    ACTIVE = "active"
    CLOSED = "closed"
    TIMED_OUT = "timed_out"


#: While a handoff is in one of these, the bot stays silent in its conversation.
ACTIVE_STATUSES = (HandoffStatus.QUEUED.value, HandoffStatus.ACTIVE.value)

#: Metadata value (``linli_handoff``) of the bot message that offers a callback after a timeout;
#: ``action_handoff`` files a callback ticket when the resident says yes to it.
CALLBACK_OFFER = "callback_offer"

#: Why a conversation was handed off.
REASONS = ("requested", "offer_accepted", "fallback", "complaint", "emergency")

#: Queue priority: ``urgent`` (emergencies) is shown first, with an alert on the desk.
PRIORITIES = ("urgent", "normal")


class Handoff(Base):
    """A conversation (Rasa sender id) handed to staff."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False, default="zh")
    reason = Column(String(32), nullable=False, default="requested")
    status = Column(String(16), nullable=False, default=HandoffStatus.QUEUED.value, index=True)
    agent = Column(String(64))  # username of the agent who took it
    agent_name = Column(String(128))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    taken_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    closed_by = Column(String(64))
    last_resident_at = Column(DateTime(timezone=True))
    last_message = Column(Text)
    resident_messages = Column(Integer, nullable=False, default=0)
    callback_ticket = Column(String(32))
    priority = Column(String(16), nullable=False, default="normal", server_default="normal", index=True)

    def as_dict(self, now: Optional[datetime] = None) -> Dict[str, Any]:
        """JSON form for the desk, with the waiting time in seconds."""
        now = now or utcnow()
        created = as_utc(self.created_at)
        waited_until = as_utc(self.taken_at) or as_utc(self.closed_at) or now
        return {
            "id": self.id,
            "sender_id": self.sender_id,
            "channel": self.channel,
            "language": self.language,
            "reason": self.reason,
            "status": self.status,
            "agent": self.agent,
            "agent_name": self.agent_name,
            "created_at": created.isoformat(),
            "taken_at": _iso(self.taken_at),
            "closed_at": _iso(self.closed_at),
            "closed_by": self.closed_by,
            "last_resident_at": _iso(self.last_resident_at),
            "last_message": self.last_message,
            "resident_messages": self.resident_messages,
            "waiting_seconds": max(0, int((waited_until - created).total_seconds())),
            "callback_ticket": self.callback_ticket,
            "priority": self.priority or "normal",
        }


def _iso(value: Optional[datetime]) -> Optional[str]:
    value = as_utc(value)
    return value.isoformat() if value else None
