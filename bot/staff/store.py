"""Staff users and sessions in the database (``DATABASE_URL``)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.db import get_engine
from bot.settings import Staff
from bot.staff.models import ROLES, Base, StaffSession, StaffUser, as_utc, utcnow
from bot.staff.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from bot.staff.throttle import normalise_username

DEFAULT_SESSION_TTL: int = Staff.session_ttl_seconds  # declared in bot.settings.Staff


class AuthError(Exception):
    """Wrong username or password, or a disabled account."""


class UserExists(ValueError):
    """A user with this username already exists."""


@dataclass(frozen=True)
class Identity:
    """The authenticated user behind a request."""

    id: int
    username: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins may manage staff accounts."""
        return self.role == "admin"

    def has_role(self, *roles: str) -> bool:
        """True when the user's role is one of ``roles`` (admins have every role)."""
        return self.role == "admin" or self.role in roles

    def public(self) -> dict:
        """JSON form for the API."""
        return {"id": self.id, "username": self.username, "display_name": self.display_name, "role": self.role}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_ttl() -> int:
    """Session lifetime in seconds (``LINLI_SESSION_TTL_SECONDS``, default 8 hours)."""
    return Staff.read("session_ttl_seconds")


class StaffStore:
    """Create users, check passwords, open and resolve sessions."""

    def __init__(self, engine: Engine, ttl_seconds: Optional[int] = None) -> None:
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_seconds if ttl_seconds is not None else session_ttl())
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        Base.metadata.create_all(engine)

    @classmethod
    def from_env(cls) -> "StaffStore":
        """A store on ``DATABASE_URL``."""
        return cls(get_engine())

    # ------------------------------------------------------------ users
    def create_user(self, username: str, password: str, role: str = "agent",
                    display_name: Optional[str] = None) -> StaffUser:
        """Add a user; raises :class:`UserExists` or ``ValueError`` (bad role, short password)."""
        username = normalise_username(username)
        if not username or len(username) > 64 or any(c.isspace() or not c.isprintable() for c in username):
            raise ValueError("a username is required: up to 64 characters, no spaces")
        if self.get_user(username) is not None:
            raise UserExists(f"user {username!r} already exists")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        user = StaffUser(username=username, display_name=(display_name or username).strip(),
                         password_hash=hash_password(password), role=role, active=True)
        try:
            with self._sessions.begin() as session:
                session.add(user)
        except IntegrityError as exc:
            raise UserExists(f"user {username!r} already exists") from exc
        return user

    def set_password(self, username: str, password: str) -> None:
        """Change a password and log the user out everywhere."""
        with self._sessions.begin() as session:
            found = self.get_user(username)
            user = session.get(StaffUser, found.id) if found is not None else None
            if user is None:
                raise LookupError(f"no user {username!r}")
            user.password_hash = hash_password(password)
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))

    def set_active(self, username: str, active: bool) -> StaffUser:
        """Enable or disable an account; disabling ends its sessions."""
        with self._sessions.begin() as session:
            found = self.get_user(username)
            user = session.get(StaffUser, found.id) if found is not None else None
            if user is None:
                raise LookupError(f"no user {username!r}")
            user.active = active
            if not active:
                session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        return user

    def list_users(self) -> List[StaffUser]:
        """Every user, by username."""
        with self._sessions() as session:
            return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))

    def get_user(self, username: str) -> Optional[StaffUser]:
        """The user with this username (compared normalised: spaces, case, width), if any."""
        wanted = normalise_username(username)
        if not wanted:
            return None
        with self._sessions() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == wanted))
            if user is not None:
                return user
            # Accounts created before usernames were normalised ("Admin"): compare in Python.
            for candidate in session.scalars(select(StaffUser).where(func.lower(StaffUser.username) == wanted.lower())):
                if normalise_username(candidate.username) == wanted:
                    return candidate
            return None

    # ------------------------------------------------------------ sessions
    def login(self, username: str, password: str) -> tuple:
        """Check credentials and open a session: returns ``(token, identity, expires_at)``."""
        user = self.get_user(username)
        if user is None:
            verify_password(password, DUMMY_HASH)  # same cost as a real check
            raise AuthError("wrong username or password")
        if not verify_password(password, user.password_hash) or not user.active:
            raise AuthError("wrong username or password")
        if needs_rehash(user.password_hash):  # stored with older, weaker parameters
            with self._sessions.begin() as session:
                row = session.get(StaffUser, user.id)
                if row is not None:
                    row.password_hash = hash_password(password)
        token = secrets.token_urlsafe(32)
        expires_at = utcnow() + self.ttl
        with self._sessions.begin() as session:
            session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, expires_at=expires_at))
        return token, Identity(user.id, user.username, user.display_name, user.role), expires_at

    def identity(self, token: Optional[str]) -> Optional[Identity]:
        """The user of a valid, unexpired session token, else ``None``."""
        if not token:
            return None
        now = utcnow()
        with self._sessions.begin() as session:
            row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
            if row is None:
                return None
            if as_utc(row.expires_at) <= now or not row.user.active:
                session.delete(row)
                return None
            user = row.user
            return Identity(user.id, user.username, user.display_name, user.role)

    def logout(self, token: Optional[str]) -> None:
        """End a session (no error if it does not exist)."""
        if token:
            with self._sessions.begin() as session:
                session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))

    def purge_expired(self, now: Optional[datetime] = None) -> int:
        """Delete expired sessions; returns how many."""
        with self._sessions.begin() as session:
            result = session.execute(delete(StaffSession).where(StaffSession.expires_at <= (now or utcnow())))
            return result.rowcount or 0
