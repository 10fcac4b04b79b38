"""SQLAlchemy tables of staff users and their login sessions."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

#: ``agent`` answers handoffs and works on tickets; ``editor`` also maintains the knowledge
#: base (FAQ, documents, re-indexing); ``admin`` can do everything, staff accounts included.
ROLES = ("agent", "editor", "admin")


def utcnow() -> datetime:
    """Timezone-aware current time; stored as UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: read them back as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class StaffUser(Base):
    """A member of staff who can log in to the desk."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False, index=True)
    display_name = Column(String(128), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    sessions = relationship("StaffSession", back_populates="user", cascade="all, delete-orphan")

    def public(self) -> dict:
        """What the API may show about a user (never the hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "active": bool(self.active),
        }


class StaffSession(Base):
    """A login session; only a SHA-256 of its token is stored, so a leaked table logs nobody in."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), unique=True, nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)

    user = relationship("StaffUser", back_populates="sessions")
