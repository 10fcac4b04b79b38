"""Outbox rows in the database: enqueue, claim, complete, fail, reclaim, list, retry.

Every state change is one conditional ``UPDATE`` whose ``WHERE`` names the state
it expects, checked with ``rowcount``; that makes each claim atomic across
processes on SQLite (writes are serialised) and PostgreSQL (a concurrent
``UPDATE`` of the same row waits and re-checks the condition under READ
COMMITTED). A claim increments ``attempts``, and finishing an attempt requires
the row to still be ``sending`` with that same ``attempts``: a worker whose
lease expired (its claim was taken back and re-claimed) cannot overwrite the
newer attempt's outcome, and a message reaches ``sent`` once.

All methods are synchronous; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.identity import resident_id, split
from bot.outbox.models import (
    DEAD, IN_FLIGHT, PENDING, RETRYABLE, SENDING, SENT, STATUSES, UNDELIVERABLE, metadata, outbox_table as t,
)
from bot.settings import redact

MAX_ERROR = 1000


class OutboxNotFound(LookupError):
    """No outbox row with that id."""


class OutboxConflict(RuntimeError):
    """The row is not in a state that allows the operation (e.g. retrying a sent message)."""


@dataclass(frozen=True)
class Message:
    """One outbox row."""

    id: int
    channel: str
    sender_id: str
    conversation_id: str
    kind: str
    text: str
    payload: Optional[Dict[str, Any]]
    dedupe_key: Optional[str]
    status: str
    attempts: int
    next_attempt_at: float
    claimed_by: Optional[str]
    claimed_at: Optional[float]
    last_error: Optional[str]
    created_at: float
    sent_at: Optional[float]
    transcript: Optional[Dict[str, Any]]
    delivered_via: Optional[str] = None  # the path that delivered it (bot.outbound), once sent

    @classmethod
    def from_row(cls, row: Any) -> "Message":
        """A message from a result row of the outbox table."""
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})

    def as_dict(self, now: Optional[float] = None) -> Dict[str, Any]:
        """The message for the desk API (times as ISO strings, plus its age)."""
        now = time.time() if now is None else now
        iso = lambda ts: None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()  # noqa: E731
        _, platform = split(self.conversation_id)
        return {
            "id": self.id, "channel": self.channel, "resident": self.conversation_id, "platform_id": platform,
            "kind": self.kind, "text": self.text, "status": self.status, "attempts": self.attempts,
            "last_error": self.last_error, "created_at": iso(self.created_at),
            "age_seconds": int(max(0.0, now - self.created_at)), "sent_at": iso(self.sent_at),
            "next_attempt_at": iso(self.next_attempt_at) if self.status == PENDING else None,
            "claimed_by": self.claimed_by, "delivered_via": self.delivered_via,
        }


def conversation_of(channel: str, sender_id: str) -> str:
    """The conversation id of a recipient given as a platform id or a conversation id."""
    return sender_id if sender_id.startswith(f"{channel}:") else resident_id(channel, sender_id)


class OutboxStore:
    """The outbox table on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # ------------------------------------------------------------ writing
    def enqueue(self, channel: str, sender_id: str, text: str, kind: str, *, dedupe_key: Optional[str] = None,
                payload: Optional[Dict[str, Any]] = None, transcript: Optional[Dict[str, Any]] = None,
                now: Optional[float] = None) -> Tuple[int, bool]:
        """Queue a message; returns ``(id, created)``.

        With a ``dedupe_key`` already queued (by this or another process), nothing is
        added and the existing row's id is returned with ``created=False``.
        ``transcript``: metadata of the transcript line to write once delivered
        (``None`` when the caller keeps the transcript itself).

        Older messages to the same conversation that wait for a retry are due again at
        once: the new one waits behind them (order), and new traffic is a good moment to try.
        """
        now = time.time() if now is None else now
        conversation = conversation_of(channel, sender_id)
        values = dict(channel=channel, sender_id=sender_id, conversation_id=conversation,
                      kind=kind, text=text, payload=payload, dedupe_key=dedupe_key, status=PENDING, attempts=0,
                      next_attempt_at=now, created_at=now, transcript=transcript)
        try:
            with self.engine.begin() as conn:
                message_id = int(conn.execute(insert(t).values(**values)).inserted_primary_key[0])
                conn.execute(update(t).where(t.c.conversation_id == conversation, t.c.status == PENDING,
                                             t.c.next_attempt_at > now).values(next_attempt_at=now))
                return message_id, True
        except IntegrityError:
            if dedupe_key is None:
                raise
        with self.engine.connect() as conn:
            existing = conn.scalar(select(t.c.id).where(t.c.dedupe_key == dedupe_key))
        if existing is None:  # cannot happen: the unique key was there a moment ago
            raise RuntimeError(f"outbox row {dedupe_key!r} vanished")
        return int(existing), False

    def claim(self, message_id: int, worker: str, now: Optional[float] = None) -> Optional[Message]:
        """Take a due pending message for one attempt; ``None`` if another worker has it (or it is not due)."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.status == PENDING, t.c.next_attempt_at <= now)
                .values(status=SENDING, claimed_by=worker[:128], claimed_at=now, attempts=t.c.attempts + 1)
            )
            if done.rowcount != 1:
                return None
            return Message.from_row(conn.execute(select(t).where(t.c.id == message_id)).one())

    def _finish(self, conn: Connection, message: Message, **values: Any) -> bool:
        done = conn.execute(
            update(t)
            .where(t.c.id == message.id, t.c.status == SENDING, t.c.attempts == message.attempts)
            .values(**values)
        )
        return done.rowcount == 1

    def complete(self, message: Message, now: Optional[float] = None, delivered_via: Optional[str] = None) -> bool:
        """Mark a claimed message sent (``delivered_via``: the path that delivered it, see
        :mod:`bot.outbound`); ``False`` if the claim was lost meanwhile (lease expired)."""
        values: Dict[str, Any] = {"status": SENT, "sent_at": time.time() if now is None else now}
        if delivered_via:
            values["delivered_via"] = delivered_via[:32]
        with self.engine.begin() as conn:
            return self._finish(conn, message, **values)

    def fail(self, message: Message, error: str, *, retry_at: Optional[float] = None,
             status: str = DEAD) -> bool:
        """Record a failed attempt: pending again at ``retry_at``, else ``status`` (dead or undeliverable).

        ``False`` if the claim was lost meanwhile. The error is redacted and truncated.
        """
        if retry_at is None and status not in (DEAD, UNDELIVERABLE):
            raise ValueError(f"a failed message ends dead or undeliverable, not {status!r}")
        values: Dict[str, Any] = {"last_error": redact(error)[:MAX_ERROR]}
        if retry_at is not None:
            values.update(status=PENDING, next_attempt_at=retry_at)
        else:
            values.update(status=status)
        with self.engine.begin() as conn:
            return self._finish(conn, message, **values)

    def reclaim(self, lease: float, max_attempts: int, now: Optional[float] = None) -> int:
        """Give back claims older than ``lease`` seconds (their worker crashed or hangs); returns how many.

        A message whose last attempt was its final one becomes dead; the others are due at once.
        """
        now = time.time() if now is None else now
        stale = (t.c.status == SENDING, t.c.claimed_at < now - lease)
        error = f"the delivery was not finished within {lease:g} s (the worker stopped); retried"
        with self.engine.begin() as conn:
            dead = conn.execute(update(t).where(*stale, t.c.attempts >= max_attempts)
                                .values(status=DEAD, last_error=error)).rowcount
            pending = conn.execute(update(t).where(*stale).values(status=PENDING, next_attempt_at=now,
                                                                   last_error=error)).rowcount
        return int(dead or 0) + int(pending or 0)

    def retry(self, message_id: int, now: Optional[float] = None) -> Message:
        """Send a dead or undeliverable message again, with a fresh series of attempts."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.id == message_id, t.c.status.in_(RETRYABLE))
                                .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None,
                                        claimed_at=None))
            row = conn.execute(select(t).where(t.c.id == message_id)).one_or_none()
        if row is None:
            raise OutboxNotFound(f"no outbox message {message_id}")
        message = Message.from_row(row)
        if done.rowcount != 1:
            raise OutboxConflict(f"message {message_id} is {message.status}; only dead or undeliverable "
                                 "messages can be retried")
        return message

    def purge(self, before: float, statuses: Sequence[str] = (SENT, UNDELIVERABLE)) -> int:
        """Delete finished messages created before ``before`` (dead letters stay until retried)."""
        with self.engine.begin() as conn:
            return int(conn.execute(t.delete().where(t.c.status.in_(list(statuses)), t.c.created_at < before))
                       .rowcount or 0)

    def forget(self, conversation_id: str) -> int:
        """Delete every message to one resident (their right to erasure, :mod:`bot.privacy`)."""
        with self.engine.begin() as conn:
            return int(conn.execute(t.delete().where(t.c.conversation_id == conversation_id)).rowcount or 0)

    # ------------------------------------------------------------ reading
    def get(self, message_id: int) -> Message:
        """One message; raises :class:`OutboxNotFound`."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == message_id)).one_or_none()
        if row is None:
            raise OutboxNotFound(f"no outbox message {message_id}")
        return Message.from_row(row)

    @staticmethod
    def _unblocked() -> Any:
        """No older message to the same conversation is still pending or being sent."""
        older = t.alias("older")
        return ~(select(older.c.id)
                 .where(older.c.conversation_id == t.c.conversation_id, older.c.id < t.c.id,
                        older.c.status.in_(IN_FLIGHT))
                 .exists())

    def due(self, limit: int = 20, now: Optional[float] = None) -> List[Message]:
        """Pending messages whose time has come, oldest first, at most one per conversation.

        A message waits while an older one to the same conversation is still pending or
        being sent, so a resident receives messages in the order they were queued.
        """
        now = time.time() if now is None else now
        query = select(t).where(t.c.status == PENDING, t.c.next_attempt_at <= now, self._unblocked())
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.id).limit(limit)).all()
        return [Message.from_row(row) for row in rows]

    def next_due(self) -> Optional[float]:
        """When the next message that is not waiting behind another is due (epoch seconds), or ``None``."""
        with self.engine.connect() as conn:
            return conn.scalar(select(func.min(t.c.next_attempt_at))
                               .where(t.c.status == PENDING, self._unblocked()))

    def list(self, status: Optional[Sequence[str]] = None, limit: int = 50, offset: int = 0) -> Tuple[List[Message], int]:
        """Messages with one of ``status`` (all when empty), newest first, and how many match in all."""
        where = [t.c.status.in_(list(status))] if status else []
        for value in status or ():
            if value not in STATUSES:
                raise ValueError(f"unknown status {value!r}; one of {', '.join(STATUSES)}")
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)).all()
            total = conn.scalar(select(func.count()).select_from(t).where(*where))
        return [Message.from_row(row) for row in rows], int(total or 0)

    def counts(self) -> Dict[str, int]:
        """How many messages are in each status."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        found = {status: int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}
