"""Canned replies (常用语): texts staff insert into a reply with a shortcut such as ``/hours``.

A reply has a language (``zh``/``en``), a title, the text and an optional shortcut, and is
either **shared** (``owner`` NULL: every member of staff sees it, admins create and edit it)
or **personal** (``owner`` = the agent's username: only they see and change it).
Nothing here sends anything: the desk inserts the text into the reply box, where the
agent may edit it before pressing "Send".

The table is ``canned_replies`` on ``DATABASE_URL`` (revision ``0005_desk_essentials``).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import get_engine

Base = declarative_base()

LANGUAGES = ("zh", "en")
MAX_TITLE = 100
#: Same limit as a desk reply (POST /api/handoffs/<id>/reply).
MAX_TEXT = 4000
MAX_SHORTCUT = 32
#: "/" then letters (any script), digits, "-", "_" or "."; no spaces, so "/hours 明天" filters on "/hours".
_SHORTCUT = re.compile(r"^/[\w.\-]{1,%d}$" % (MAX_SHORTCUT - 1))


def utcnow() -> datetime:
    """Timezone-aware current time; stored as UTC."""
    return datetime.now(timezone.utc)


def _iso(value: Optional[datetime]) -> Optional[str]:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


class CannedReply(Base):
    """One canned reply, shared (``owner`` NULL) or personal (``owner`` = username)."""

    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_owner_language", "owner", "language"),)

    id = Column(Integer, primary_key=True)
    language = Column(String(8), nullable=False)
    title = Column(String(MAX_TITLE), nullable=False)
    text = Column(Text, nullable=False)
    shortcut = Column(String(MAX_SHORTCUT))
    owner = Column(String(64))  # NULL: shared with every member of staff
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def shared(self) -> bool:
        """Shared replies have no owner."""
        return self.owner is None

    def as_dict(self) -> Dict[str, Any]:
        """JSON form for the desk API."""
        return {"id": self.id, "language": self.language, "title": self.title, "text": self.text,
                "shortcut": self.shortcut, "shared": self.shared, "owner": self.owner,
                "created_by": self.created_by, "created_at": _iso(self.created_at),
                "updated_at": _iso(self.updated_at)}


class CannedReplyError(ValueError):
    """Invalid input; the message says what to send."""


class CannedNotFound(LookupError):
    """No canned reply has that id."""


class CannedForbidden(PermissionError):
    """The user may not change this reply (a shared one and not an admin, or someone else's)."""


class CannedConflict(RuntimeError):
    """Another reply of the same scope and language already has this shortcut."""


def can_edit(reply: CannedReply, username: str, is_admin: bool) -> bool:
    """Shared replies are edited by admins; personal ones only by their owner."""
    return is_admin if reply.owner is None else reply.owner == username


def normalise_shortcut(value: Any) -> Optional[str]:
    """``"Hours"`` → ``"/hours"``; empty → ``None``; raises :class:`CannedReplyError` if malformed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CannedReplyError("shortcut must be text such as \"/hours\".")
    value = value.strip().lower()
    if not value:
        return None
    if not value.startswith("/"):
        value = "/" + value
    if not _SHORTCUT.match(value):
        raise CannedReplyError(f"shortcut must be \"/\" and up to {MAX_SHORTCUT - 1} letters, digits, "
                               "\"-\", \"_\" or \".\" (no spaces), e.g. \"/hours\".")
    return value


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CannedReplyError(f"{name} is required (text).")
    value = value.strip()
    if len(value) > limit:
        raise CannedReplyError(f"{name} has at most {limit} characters.")
    return value


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise CannedReplyError("language must be \"zh\" or \"en\".")
    return str(value)


class CannedStore:
    """List, create, change and delete canned replies with the ownership rules above."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        Base.metadata.create_all(engine)

    @classmethod
    def from_env(cls) -> "CannedStore":
        """A store on ``DATABASE_URL``."""
        return cls(get_engine())

    def list_for(self, username: str, language: Optional[str] = None) -> List[CannedReply]:
        """The shared replies and ``username``'s own, by language, shortcut (those without last) and title."""
        query = select(CannedReply).where(or_(CannedReply.owner.is_(None), CannedReply.owner == username))
        if language is not None:
            query = query.where(CannedReply.language == _language(language))
        # Those with a shortcut first (NULLs sort differently on SQLite and PostgreSQL).
        query = query.order_by(CannedReply.language, CannedReply.shortcut.is_(None), CannedReply.shortcut,
                               CannedReply.title, CannedReply.id)
        with self._sessions() as session:
            return list(session.scalars(query))

    def get(self, reply_id: int) -> CannedReply:
        """The reply with this id; raises :class:`CannedNotFound`."""
        with self._sessions() as session:
            reply = session.get(CannedReply, reply_id)
        if reply is None:
            raise CannedNotFound(f"no canned reply {reply_id}")
        return reply

    def create(self, username: str, is_admin: bool, *, language: Any, title: Any, text: Any,
               shortcut: Any = None, shared: Any = False) -> CannedReply:
        """Add a reply: personal, or shared when ``shared`` (admins only)."""
        if not isinstance(shared, bool):
            raise CannedReplyError("shared must be true or false.")
        if shared and not is_admin:
            raise CannedForbidden("only admins create shared replies; leave \"shared\" false for a personal one")
        reply = CannedReply(language=_language(language), title=_text(title, "title", MAX_TITLE),
                            text=_text(text, "text", MAX_TEXT), shortcut=normalise_shortcut(shortcut),
                            owner=None if shared else username, created_by=username)
        with self._sessions.begin() as session:
            self._check_unique(session, reply)
            session.add(reply)
        return reply

    def update(self, reply_id: int, username: str, is_admin: bool, changes: Dict[str, Any]) -> CannedReply:
        """Change the given fields (``language``, ``title``, ``text``, ``shortcut``, ``shared``)."""
        unknown = sorted(set(changes) - {"language", "title", "text", "shortcut", "shared"})
        if unknown:
            raise CannedReplyError(f"unknown field {unknown[0]!r}: send language, title, text, shortcut or shared.")
        with self._sessions.begin() as session:
            reply = session.get(CannedReply, reply_id, with_for_update=True)
            if reply is None:
                raise CannedNotFound(f"no canned reply {reply_id}")
            if not can_edit(reply, username, is_admin):
                raise CannedForbidden("shared replies are changed by admins, personal ones by their owner")
            if "language" in changes:
                reply.language = _language(changes["language"])
            if "title" in changes:
                reply.title = _text(changes["title"], "title", MAX_TITLE)
            if "text" in changes:
                reply.text = _text(changes["text"], "text", MAX_TEXT)
            if "shortcut" in changes:
                reply.shortcut = normalise_shortcut(changes["shortcut"])
            if "shared" in changes:
                shared = changes["shared"]
                if not isinstance(shared, bool):
                    raise CannedReplyError("shared must be true or false.")
                if shared != reply.shared:
                    if not is_admin:
                        raise CannedForbidden("only admins share a reply")
                    reply.owner = None if shared else username
            self._check_unique(session, reply)
            reply.updated_at = utcnow()
        return reply

    def delete(self, reply_id: int, username: str, is_admin: bool) -> None:
        """Delete a reply the user may edit."""
        with self._sessions.begin() as session:
            reply = session.get(CannedReply, reply_id, with_for_update=True)
            if reply is None:
                raise CannedNotFound(f"no canned reply {reply_id}")
            if not can_edit(reply, username, is_admin):
                raise CannedForbidden("shared replies are deleted by admins, personal ones by their owner")
            session.delete(reply)

    @staticmethod
    def _check_unique(session: Any, reply: CannedReply) -> None:
        """One shortcut per scope (shared, or one owner) and language: "/hours" picks one text."""
        if not reply.shortcut:
            return
        owner = CannedReply.owner.is_(None) if reply.owner is None else CannedReply.owner == reply.owner
        query = select(CannedReply.id).where(owner, CannedReply.language == reply.language,
                                             CannedReply.shortcut == reply.shortcut)
        if reply.id is not None:
            query = query.where(CannedReply.id != reply.id)
        with session.no_autoflush:
            taken = session.scalar(query.limit(1))
        if taken is not None:
            scope = "shared" if reply.owner is None else "personal"
            raise CannedConflict(f"another {scope} {reply.language} reply already uses {reply.shortcut}")
