"""Handoff state in the database, shared by the action server and the Linli server."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import case, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.channels.identity import CHANNELS, channel_of, conversation_id
from bot.db import get_engine
from bot.handoff.models import ACTIVE_STATUSES, Base, Handoff, HandoffStatus, utcnow

logger = logging.getLogger(__name__)


def namespaced(sender_id: str, channel: Optional[str]) -> Tuple[str, str]:
    """``(conversation id, channel)`` of a resident (see :mod:`bot.channels.identity`)."""
    known = channel_of(sender_id)
    if known:
        return sender_id, known
    if channel in CHANNELS:
        return conversation_id(channel, sender_id), channel
    return sender_id, channel or "unknown"


class HandoffNotFound(LookupError):
    """No handoff has that id."""


class HandoffConflict(RuntimeError):
    """The handoff is not in a state that allows this (closed, or taken by someone else)."""


class HandoffStore:
    """Open, take, close and list handoffs. Every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        Base.metadata.create_all(engine)

    @classmethod
    def from_env(cls) -> "HandoffStore":
        """A store on ``DATABASE_URL``."""
        return cls(get_engine())

    def open(self, sender_id: str, channel: str, language: str = "zh", reason: str = "requested",
             message: Optional[str] = None, priority: str = "normal") -> Handoff:
        """Queue a conversation for staff; returns the open handoff if there already is one.

        ``sender_id`` is the conversation id (``"wechat:<openid>"``) or a platform id with
        its ``channel``; the row always stores the namespaced conversation id.
        """
        sender_id, channel = namespaced(sender_id, channel)
        with self._sessions.begin() as session:
            existing = session.scalar(self._active_query(sender_id))
            if existing is not None:
                # An emergency raises a handoff that is already waiting to the top of the queue.
                if priority == "urgent" and existing.priority != "urgent":
                    existing.priority, existing.reason = "urgent", reason
                return existing
            handoff = Handoff(sender_id=sender_id, channel=channel or "unknown", language=language or "zh",
                              reason=reason, status=HandoffStatus.QUEUED.value, last_message=message,
                              resident_messages=0, priority=priority)
            session.add(handoff)
        logger.info("Handoff %s opened for %s:%s (%s)", handoff.id, channel, sender_id, reason)
        return handoff

    @staticmethod
    def _active_query(sender_id: str):  # type: ignore[no-untyped-def]
        return (select(Handoff).where(Handoff.sender_id == sender_id, Handoff.status.in_(ACTIVE_STATUSES))
                .order_by(Handoff.id.desc()).limit(1))

    def active_for(self, sender_id: str) -> Optional[Handoff]:
        """The queued or active handoff of a conversation, if any."""
        with self._sessions() as session:
            return session.scalar(self._active_query(sender_id))

    def latest_for(self, sender_id: str) -> Optional[Handoff]:
        """The newest handoff of a conversation, whatever its status."""
        with self._sessions() as session:
            return session.scalar(
                select(Handoff).where(Handoff.sender_id == sender_id).order_by(Handoff.id.desc()).limit(1))

    def get(self, handoff_id: int) -> Handoff:
        """The handoff with this id; raises :class:`HandoffNotFound`."""
        with self._sessions() as session:
            handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        return handoff

    def list(self, statuses: Optional[Sequence[str]] = None, limit: int = 100) -> List[Handoff]:
        """Handoffs with these statuses (default: queued and active), oldest first so the queue is fair."""
        statuses = list(statuses or ACTIVE_STATUSES)
        query = select(Handoff).where(Handoff.status.in_(statuses))
        if set(statuses) <= set(ACTIVE_STATUSES):
            # Urgent handoffs (emergencies) first, then oldest first.
            urgent_first = case((Handoff.priority == "urgent", 0), else_=1)
            query = query.order_by(urgent_first, Handoff.created_at, Handoff.id)
        else:
            query = query.order_by(Handoff.id.desc())
        with self._sessions() as session:
            return list(session.scalars(query.limit(limit)))

    def take(self, handoff_id: int, agent: str, agent_name: str, force: bool = False) -> Handoff:
        """Give a queued handoff to ``agent``; taking one you already hold is a no-op.

        Raises :class:`HandoffConflict` when it is closed or another agent holds it
        (``force`` lets an admin take it over).
        """
        with self._sessions.begin() as session:
            handoff = self._locked(session, handoff_id)
            if handoff.status not in ACTIVE_STATUSES:
                raise HandoffConflict(f"handoff {handoff_id} is {handoff.status}")
            if handoff.status == HandoffStatus.ACTIVE.value and handoff.agent != agent and not force:
                raise HandoffConflict(f"handoff {handoff_id} is already taken by {handoff.agent}")
            if handoff.agent != agent:
                handoff.agent, handoff.agent_name = agent, agent_name
                handoff.taken_at = utcnow()
            handoff.status = HandoffStatus.ACTIVE.value
        return handoff

    def close(self, handoff_id: int, actor: str, status: str = HandoffStatus.CLOSED.value,
              only_from: Sequence[str] = ACTIVE_STATUSES) -> Handoff:
        """End a handoff (``closed`` by staff or ``timed_out``).

        Raises :class:`HandoffConflict` unless its status is in ``only_from``
        (a timeout passes ``("queued",)`` so it never ends a handoff an agent just took).
        """
        with self._sessions.begin() as session:
            handoff = self._locked(session, handoff_id)
            if handoff.status not in only_from:
                raise HandoffConflict(f"handoff {handoff_id} is {handoff.status}")
            handoff.status = status
            handoff.closed_at = utcnow()
            handoff.closed_by = actor
        return handoff

    def record_resident_message(self, handoff_id: int, text: Optional[str]) -> None:
        """Note a resident message for the queue view (count, preview, time)."""
        with self._sessions.begin() as session:
            handoff = self._locked(session, handoff_id)
            handoff.resident_messages = (handoff.resident_messages or 0) + 1
            handoff.last_resident_at = utcnow()
            if text:
                handoff.last_message = text[:500]

    def set_callback_ticket(self, handoff_id: int, number: str) -> None:
        """Remember the callback ticket created after a timeout (so it is created once)."""
        with self._sessions.begin() as session:
            self._locked(session, handoff_id).callback_ticket = number

    def due_for_timeout(self, timeout_seconds: float, now: Optional[datetime] = None) -> List[Handoff]:
        """Queued handoffs nobody took within ``timeout_seconds``."""
        cutoff = (now or utcnow()) - timedelta(seconds=timeout_seconds)
        with self._sessions() as session:
            return list(session.scalars(
                select(Handoff).where(Handoff.status == HandoffStatus.QUEUED.value, Handoff.created_at <= cutoff)
                .order_by(Handoff.id)))

    @staticmethod
    def _locked(session, handoff_id: int) -> Handoff:  # type: ignore[no-untyped-def]
        handoff = session.scalar(select(Handoff).where(Handoff.id == handoff_id).with_for_update())
        if handoff is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        return handoff
