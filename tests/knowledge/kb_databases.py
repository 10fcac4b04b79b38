"""Databases for the knowledge-base storage tests: a SQLite file, or a PostgreSQL database
of its own (unique name on the test server, dropped afterwards)."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

#: The PostgreSQL server (CI sets TEST_DATABASE_URL); every test module gets a database on it.
PG_SERVER = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]


def _admin() -> Engine:
    return create_engine(PG_SERVER, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """URL of a new, empty database on ``backend``; skips when PostgreSQL is unreachable."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'linli.db'}"
        return
    admin = _admin()
    name = f"linli_kb_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {make_url(PG_SERVER).render_as_string(hide_password=True)} unreachable: {exc.orig}")
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from bot.db import get_engine

        get_engine(url).dispose()  # the process-wide engine the code under test used
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
