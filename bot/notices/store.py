"""Notices, their deliveries and residents' subscriptions in the database.

All methods are synchronous (SQLAlchemy); async callers use ``asyncio.to_thread``. Every
state change is one statement whose ``WHERE`` names the state it expects, so two staff
sending the same notice, or two replicas, never send it twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.identity import resident_id
from bot.db import get_engine
from bot.notices.models import (DRAFT, MAX_BODY, MAX_TITLE, SENDING, SENT, metadata, notice_deliveries,
                                notice_subscriptions, notices)
from bot.notices.targeting import Target, TargetError, parse_target

#: A notice left ``sending`` this long (a crash mid-send) may be sent again: deliveries are de-duplicated.
STALE_SENDING = 300.0
TEXT_FIELDS = ("title_zh", "body_zh", "title_en", "body_en")


class NoticeError(ValueError):
    """Input the API refuses (400); ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NoticeNotFound(LookupError):
    """No notice with that id."""


class NoticeConflict(RuntimeError):
    """The notice is not in a state that allows the operation (sending one already sent)."""


def iso(ts: Optional[float]) -> Optional[str]:
    """Epoch seconds as ISO 8601 (UTC), ``None`` stays ``None``."""
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


@dataclass(frozen=True)
class Notice:
    """One row of ``notices``."""

    id: int
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    urgent: bool
    target_kind: str
    target: Any
    status: str
    created_by: str
    created_at: float
    sent_by: Optional[str]
    sending_at: Optional[float]
    sent_at: Optional[float]
    recipients: Optional[int]

    @classmethod
    def from_row(cls, row: Any) -> "Notice":
        """A notice from a result row."""
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})

    @property
    def audience(self) -> Target:
        """The stored target."""
        return Target.from_row(self.target_kind, self.target)

    def title(self, language: str) -> str:
        """The title in ``language`` (``en`` or Chinese)."""
        return self.title_en if language == "en" else self.title_zh

    def body(self, language: str) -> str:
        """The body in ``language`` (``en`` or Chinese)."""
        return self.body_en if language == "en" else self.body_zh

    def as_dict(self) -> Dict[str, Any]:
        """For the API."""
        return {"id": self.id, "title_zh": self.title_zh, "body_zh": self.body_zh, "title_en": self.title_en,
                "body_en": self.body_en, "urgent": bool(self.urgent), "target": self.audience.describe(),
                "status": self.status, "created_by": self.created_by, "created_at": iso(self.created_at),
                "sent_by": self.sent_by, "sent_at": iso(self.sent_at), "recipients": self.recipients}


def validate(data: Dict[str, Any]) -> Tuple[Dict[str, Any], Target]:
    """The columns of a new notice from a request body, and its target; :class:`NoticeError` /
    :class:`~bot.notices.targeting.TargetError` say what is wrong."""
    values: Dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise NoticeError("missing_field", f"{name} is required: a notice has a title and a body in Chinese "
                                               "(title_zh, body_zh) and in English (title_en, body_en).")
        limit = MAX_TITLE if name.startswith("title") else MAX_BODY
        if len(value.strip()) > limit:
            raise NoticeError("too_long", f"{name} has {len(value.strip())} characters; at most {limit}.")
        values[name] = value.strip()
    urgent = data.get("urgent", False)
    if not isinstance(urgent, bool):
        raise NoticeError("bad_urgent", "urgent must be true or false.")
    values["urgent"] = urgent
    target = parse_target(data.get("target"))
    values.update(target_kind=target.kind, target=target.as_json())
    return values, target


class NoticeStore:
    """The notice tables on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # ------------------------------------------------------------ notices
    def create(self, actor: str, data: Dict[str, Any], now: Optional[float] = None) -> Notice:
        """A new draft from a request body (see :func:`validate`)."""
        values, _ = validate(data)
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            notice_id = conn.execute(insert(notices).values(status=DRAFT, created_by=actor[:64], created_at=now,
                                                            **values)).inserted_primary_key[0]
        return self.get(int(notice_id))

    def get(self, notice_id: int) -> Notice:
        """The notice, or :class:`NoticeNotFound`."""
        with self.engine.connect() as conn:
            row = conn.execute(select(notices).where(notices.c.id == notice_id)).first()
        if row is None:
            raise NoticeNotFound(notice_id)
        return Notice.from_row(row)

    def list(self, limit: int = 50, offset: int = 0) -> Tuple[List[Notice], int]:
        """Newest first, and how many there are."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(notices).order_by(notices.c.id.desc()).limit(limit).offset(offset))
            total = conn.scalar(select(func.count()).select_from(notices))
            return [Notice.from_row(r) for r in rows], int(total or 0)

    def claim(self, notice_id: int, actor: str, now: Optional[float] = None) -> Notice:
        """Move a draft (or a notice stuck in ``sending`` for :data:`STALE_SENDING`) to ``sending``."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            done = conn.execute(update(notices).where(
                notices.c.id == notice_id,
                (notices.c.status == DRAFT) | ((notices.c.status == SENDING) & (notices.c.sending_at < now - STALE_SENDING)))
                .values(status=SENDING, sending_at=now, sent_by=actor[:64]))
        if done.rowcount != 1:
            notice = self.get(notice_id)  # NoticeNotFound when there is none
            raise NoticeConflict(f"notice {notice_id} is {notice.status}" +
                                 (" (being sent right now)" if notice.status == SENDING else ""))
        return self.get(notice_id)

    def finish(self, notice_id: int, recipients: int, now: Optional[float] = None) -> Notice:
        """Mark a notice sent (every delivery queued or skipped)."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            conn.execute(update(notices).where(notices.c.id == notice_id)
                         .values(status=SENT, sent_at=now, recipients=recipients))
        return self.get(notice_id)

    # ------------------------------------------------------------ deliveries
    def delivered_to(self, notice_id: int) -> Dict[str, Dict[str, Any]]:
        """The residents already recorded for a notice (a resumed send skips them)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(notice_deliveries).where(notice_deliveries.c.notice_id == notice_id))
            return {r.resident: dict(r._mapping) for r in rows}

    def record(self, notice_id: int, channel: str, sender_id: str, language: str, outcome: str,
               outbox_id: Optional[int] = None, reason: Optional[str] = None, now: Optional[float] = None) -> bool:
        """Record one delivery; ``False`` when this resident was recorded already."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(notice_deliveries).values(
                    notice_id=notice_id, resident=resident_id(channel, sender_id)[:160], channel=channel,
                    sender_id=sender_id[:128], language=language, outcome=outcome, outbox_id=outbox_id, reason=reason,
                    created_at=time.time() if now is None else now))
            return True
        except IntegrityError:
            return False

    # ------------------------------------------------------------ subscriptions
    def set_subscribed(self, channel: str, sender_id: str, subscribed: bool, actor: str = "resident",
                       now: Optional[float] = None) -> None:
        """Record a resident's "退订通知" (``False``) or "订阅通知" (``True``)."""
        now = time.time() if now is None else now
        resident = resident_id(channel, sender_id)[:160]
        values = dict(subscribed=bool(subscribed), updated_by=actor[:80], updated_at=now)
        for _ in range(2):
            with self.engine.begin() as conn:
                if conn.execute(update(notice_subscriptions).where(notice_subscriptions.c.resident == resident)
                                .values(**values)).rowcount:
                    return
                try:
                    conn.execute(insert(notice_subscriptions).values(resident=resident, channel=channel[:32],
                                                                     sender_id=sender_id[:128], **values))
                    return
                except IntegrityError:
                    continue

    def subscribed(self, channel: str, sender_id: str) -> bool:
        """Whether the resident receives non-urgent notices (no row: yes)."""
        with self.engine.connect() as conn:
            value = conn.scalar(select(notice_subscriptions.c.subscribed)
                                .where(notice_subscriptions.c.resident == resident_id(channel, sender_id)))
        return True if value is None else bool(value)


@lru_cache(maxsize=1)
def notice_store() -> NoticeStore:
    """The process-wide store on ``DATABASE_URL``."""
    return NoticeStore(get_engine())


__all__ = ["Notice", "NoticeConflict", "NoticeError", "NoticeNotFound", "NoticeStore", "TargetError", "notice_store",
           "validate"]
