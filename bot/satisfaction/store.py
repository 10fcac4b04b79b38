"""Rating requests and answers in the database: ask, answer, comment, read, statistics.

Every write is one statement whose ``WHERE`` names the state it expects (not answered yet,
not expired, this resident's), so a retried action or a second replica never overwrites an
answer. All methods are synchronous; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.satisfaction.models import MAX_COMMENT, MAX_RATING, MIN_RATING, SUBJECT_TYPES, metadata, ratings_table as t

#: Outcomes of :meth:`SatisfactionStore.answer` and :meth:`SatisfactionStore.add_comment`.
SAVED, ALREADY, EXPIRED, UNKNOWN = "saved", "already_answered", "expired", "unknown"


@dataclass(frozen=True)
class RatingRequest:
    """One row of ``satisfaction_ratings``."""

    id: int
    subject_type: str
    subject_id: str
    resident: str
    channel: str
    language: str
    trigger: str
    asked_at: float
    expires_at: float
    rating: Optional[int]
    comment: Optional[str]
    answered_at: Optional[float]

    @classmethod
    def from_row(cls, row: Any) -> "RatingRequest":
        """A request from a result row of the table."""
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})

    @property
    def answered(self) -> bool:
        """Whether the resident rated."""
        return self.rating is not None

    def expired(self, now: Optional[float] = None) -> bool:
        """Whether it is too late to answer."""
        return (time.time() if now is None else now) >= self.expires_at

    def as_dict(self) -> Dict[str, Any]:
        """The answer for the desk API: ``{"rating", "comment", "at"}`` (``at`` in ISO 8601, UTC)."""
        return {"rating": self.rating, "comment": self.comment, "at": _iso(self.answered_at)}


def _iso(ts: Optional[float]) -> Optional[str]:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


def clean_comment(text: Optional[str]) -> Optional[str]:
    """A comment as stored: trimmed, at most :data:`MAX_COMMENT` characters, ``None`` when empty."""
    value = (text or "").strip()
    return value[:MAX_COMMENT] or None


class SatisfactionStore:
    """The ratings table on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # ------------------------------------------------------------ asking
    def ask(self, subject_type: str, subject_id: str, resident: str, channel: str, language: str, trigger: str,
            expires_in: float, now: Optional[float] = None) -> Tuple[RatingRequest, bool]:
        """Record that the resident is asked to rate a subject; returns ``(request, created)``.

        A subject is asked once: when it was asked before (a retried close, a ticket resolved
        again), the existing request is returned with ``created=False``.
        """
        if subject_type not in SUBJECT_TYPES:
            raise ValueError(f"subject_type must be one of {', '.join(SUBJECT_TYPES)}, not {subject_type!r}")
        now = time.time() if now is None else now
        values = dict(subject_type=subject_type, subject_id=str(subject_id)[:64], resident=resident[:160],
                      channel=channel[:32], language="en" if (language or "").startswith("en") else "zh",
                      trigger=trigger[:64], asked_at=now, expires_at=now + max(0.0, expires_in))
        try:
            with self.engine.begin() as conn:
                request_id = int(conn.execute(insert(t).values(**values)).inserted_primary_key[0])
            return self.get(request_id), True
        except IntegrityError:
            existing = self.for_subject(subject_type, str(subject_id))
            if existing is None:  # cannot happen: the unique key was there a moment ago
                raise
            return existing, False

    # ------------------------------------------------------------ answering
    def answer(self, request_id: int, resident: str, rating: int, comment: Optional[str] = None,
               now: Optional[float] = None) -> str:
        """Store the resident's rating (and a comment given with it): :data:`SAVED`, or why not
        (:data:`ALREADY`, :data:`EXPIRED`, :data:`UNKNOWN`: no such request for this resident)."""
        if not MIN_RATING <= int(rating) <= MAX_RATING:
            raise ValueError(f"a rating is {MIN_RATING} to {MAX_RATING}, not {rating!r}")
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.id == request_id, t.c.resident == resident,
                                                t.c.rating.is_(None), t.c.expires_at > now)
                                .values(rating=int(rating), comment=clean_comment(comment), answered_at=now))
        return SAVED if done.rowcount == 1 else self._why_not(request_id, resident, now)

    def add_comment(self, request_id: int, resident: str, comment: str) -> str:
        """Add the comment that followed a rating (once): :data:`SAVED`, or why not."""
        value = clean_comment(comment)
        if value is None:
            raise ValueError("the comment is empty")
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.id == request_id, t.c.resident == resident,
                                                t.c.rating.is_not(None), t.c.comment.is_(None))
                                .values(comment=value))
        if done.rowcount == 1:
            return SAVED
        found = self.get(request_id)
        return UNKNOWN if found is None or found.resident != resident or not found.answered else ALREADY

    def _why_not(self, request_id: int, resident: str, now: float) -> str:
        found = self.get(request_id)
        if found is None or found.resident != resident:
            return UNKNOWN
        return ALREADY if found.answered else EXPIRED if found.expired(now) else UNKNOWN

    # ------------------------------------------------------------ reading
    def get(self, request_id: int) -> Optional[RatingRequest]:
        """One request, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == request_id)).one_or_none()
        return None if row is None else RatingRequest.from_row(row)

    def for_subject(self, subject_type: str, subject_id: str) -> Optional[RatingRequest]:
        """The request about a ticket number or handoff id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.subject_type == subject_type,
                                               t.c.subject_id == str(subject_id))).one_or_none()
        return None if row is None else RatingRequest.from_row(row)

    def stats(self, days: int = 30, tz: Any = None, recent: int = 20, now: Optional[float] = None) -> Dict[str, Any]:
        """Ratings answered on the last ``days`` local days (``tz``, default UTC).

        ``{"days", "timezone", "asked", "count", "average", "distribution": {"1".."5": n},
        "per_day": [{"day", "count", "average"}], "by_subject": {"ticket": {...}, "handoff": {...}},
        "recent": [{"rating", "comment", "subject_type", "subject_id", "at", "language"}]}``;
        averages are ``None`` without ratings. ``asked`` counts requests made in the same period.
        """
        zone = tz if tz is not None else timezone.utc
        if isinstance(zone, str):
            zone = ZoneInfo(zone)
        now = time.time() if now is None else now
        today = datetime.fromtimestamp(now, zone).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, datetime.min.time(), zone).timestamp()
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.answered_at.is_not(None), t.c.answered_at >= since)
                                .order_by(t.c.answered_at.desc(), t.c.id.desc())).all()
            asked = conn.scalar(select(func.count()).select_from(t).where(t.c.asked_at >= since)) or 0
        answers = [RatingRequest.from_row(row) for row in rows]
        per_day: Dict[Any, List[int]] = {}
        for answer in answers:
            answered_on = datetime.fromtimestamp(answer.answered_at or 0, zone).date()
            per_day.setdefault(answered_on, []).append(answer.rating or 0)
        series = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            values = per_day.get(day, [])
            series.append({"day": day.isoformat(), "count": len(values), "average": _average(values)})
        return {
            "days": days, "timezone": str(zone), "asked": int(asked), **_summary([a.rating or 0 for a in answers]),
            "per_day": series,
            "by_subject": {kind: _summary([a.rating or 0 for a in answers if a.subject_type == kind])
                           for kind in SUBJECT_TYPES},
            "recent": [{"rating": a.rating, "comment": a.comment, "subject_type": a.subject_type,
                        "subject_id": a.subject_id, "at": _iso(a.answered_at), "language": a.language}
                       for a in answers[:recent]],
        }

    # ------------------------------------------------------------ personal data
    def forget(self, resident: str) -> int:
        """Delete every request of one resident (their right to erasure); returns how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(t.delete().where(t.c.resident == resident)).rowcount or 0)


def _average(values: List[int]) -> Optional[float]:
    return round(sum(values) / len(values), 2) if values else None


def _summary(values: List[int]) -> Dict[str, Any]:
    counts = Counter(values)
    return {"count": len(values), "average": _average(values),
            "distribution": {str(r): counts.get(r, 0) for r in range(MIN_RATING, MAX_RATING + 1)}}
