"""Database engine shared by the ticket store and other persistent services.

``DATABASE_URL`` selects the database (SQLAlchemy URL). The default is a SQLite
file under ``var/`` so that ``make run`` works with nothing installed; production
sets a PostgreSQL URL such as ``postgresql://linli:secret@db/linli``.
Its tables are created and changed by migrations: :mod:`bot.schema` (``make migrate``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy import create_engine

from bot import ROOT
from bot.settings import Databases

DEFAULT_DATABASE_URL: str = Databases.url  # declared in bot.settings


def database_url(url: Optional[str] = None) -> str:
    """The configured URL, with relative SQLite paths anchored at the repository."""
    url = url or Databases.read("url")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = str(parsed.set(database=str(path)))
    return url


@lru_cache(maxsize=None)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the action server and the staff desk write concurrently.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def get_engine(url: Optional[str] = None) -> Engine:
    """Return the process-wide engine for ``url`` (default: ``DATABASE_URL``)."""
    return _engine_for(database_url(url))

