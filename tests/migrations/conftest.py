"""Fresh databases for the migration tests: a SQLite file, and a PostgreSQL database of its
own (created with a unique name on the test server, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

#: The PostgreSQL server (CI sets TEST_DATABASE_URL); each test gets a database of its own on it.
PG_SERVER = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def _pg_admin() -> Engine:
    return create_engine(PG_SERVER, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def pg_available() -> str:
    """Empty string if the PostgreSQL server answers, else the reason to skip."""
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        return ""
    except OperationalError as exc:
        return f"PostgreSQL at {make_url(PG_SERVER).render_as_string(hide_password=True)} unreachable: {exc.orig}"
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, pg_available: str) -> Iterator[Engine]:
    """An engine on a new, empty database of each dialect."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True)
        yield engine
        engine.dispose()
        return
    if pg_available:
        pytest.skip(pg_available)
    name = f"linli_migrations_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(PG_SERVER).set(database=name), future=True)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
