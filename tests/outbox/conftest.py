"""Fixtures for the outbox tests: SQLite and a private PostgreSQL database, senders, a flaky WeChat."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.outbox.helpers import FlakyWeChat

#: The PostgreSQL server of the machine and of CI (trust auth).
POSTGRES = os.environ.get("LINLI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this session, dropped afterwards."""
    admin = create_engine(POSTGRES, future=True, isolation_level="AUTOCOMMIT")
    name = f"linli_outbox_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server here: the SQLite variants still run
        admin.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {type(exc).__name__}: {exc}")
    yield str(make_url(POSTGRES).set(database=name))
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite (a fresh file) and PostgreSQL (the session's database, outbox emptied)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS outbox"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, future=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def flaky_wechat() -> Iterator[FlakyWeChat]:
    fake = FlakyWeChat().start()
    yield fake
    fake.stop()
