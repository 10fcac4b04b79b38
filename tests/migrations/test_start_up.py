"""The schema check at start-up, the command line, and servers starting together."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import threading
import sys
from pathlib import Path
from typing import Dict

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot import schema
from tests.migrations.legacy import create_pre_migrations_schema, insert_sample_data
from tests.servers import ROOT, free_port, wait_for


def _env(url: str) -> Dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24), "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false", "LINLI_RETENTION_DAYS": "0"}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def pre_migrations_db(tmp_path: Path) -> Engine:
    """A SQLite database as today's code left it: tables and rows, no alembic_version."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    create_pre_migrations_schema(engine)
    insert_sample_data(engine)
    yield engine
    engine.dispose()


def test_both_servers_refuse_to_start_on_an_out_of_date_schema(pre_migrations_db: Engine, tmp_path: Path) -> None:
    env = _env(_url(pre_migrations_db))
    commands = {
        "action server": [sys.executable, "-m", "bot.action_server", "--actions", "actions",
                          "--interface", "127.0.0.1", "--port", str(free_port())],
        # Refused before the model is looked for: this path does not exist.
        "Rasa server": [sys.executable, "-m", "bot.server", "--model", str(tmp_path / "no-model.tar.gz"),
                        "--interface", "127.0.0.1", "--port", str(free_port())],
    }
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for name, cmd in commands.items()}
    for name, process in running.items():
        try:
            _out, err = process.communicate(timeout=120)
        finally:
            process.kill()
        assert process.returncode == 2, f"{name} exited with {process.returncode}: {err[-2000:]}"
        assert "Linli refuses to start: the database schema is at pre-migrations" in err, err[-2000:]
        assert f"the code needs {schema.head_revision()}: run `make migrate`" in err
    assert schema.current_revision(pre_migrations_db) is None  # refused, not migrated behind the operator's back


def test_the_action_server_creates_an_empty_database_at_head_and_serves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    port = free_port()
    log = tmp_path / "actions.log"
    process = subprocess.Popen([sys.executable, "-m", "bot.action_server", "--actions", "actions",
                                "--interface", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=_env(url), stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process, log, timeout=120)
        engine = sa.create_engine(url, future=True)
        assert schema.state(engine).up_to_date
        engine.dispose()
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Created Linli's database schema at" in log.read_text()


_STARTER = """
import sys
from alembic import command
from bot import schema
schema.all_metadata(), schema.head_revision()  # the imports a server has made by then
print("ready", flush=True)
sys.stdin.readline()  # everything imported: all start checking at the same moment
print(schema.ensure_current(sys.argv[1]))
"""


def test_servers_starting_together_on_an_empty_database_create_it_once(database: Engine) -> None:
    """Each replica's two servers check the schema at the same moment: one creates it, the others wait."""
    url = _url(database)
    starters = [subprocess.Popen([sys.executable, "-c", _STARTER, url], cwd=ROOT, env=_env(url), text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(3)]
    try:
        for starter in starters:
            assert starter.stdout.readline().strip() == "ready", starter.communicate(timeout=60)[1][-3000:]
        for starter in starters:
            starter.stdin.write("go\n")
            starter.stdin.flush()
        for starter in starters:
            out, err = starter.communicate(timeout=120)
            assert starter.returncode == 0, err[-3000:]
            assert out.strip() == schema.head_revision()
    finally:
        for starter in starters:
            starter.kill()
    with database.connect() as conn:
        assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {schema.VERSION_TABLE}")).scalar() == 1
    assert schema.state(database).up_to_date


def test_command_line_checks_and_upgrades(pre_migrations_db: Engine, capsys: pytest.CaptureFixture) -> None:
    url = _url(pre_migrations_db)
    head = schema.head_revision()
    assert schema.main(["--url", url, "check"]) == 2
    assert "run `make migrate`" in capsys.readouterr().err
    assert schema.main(["--url", url, "current"]) == 0
    assert f"at pre-migrations (Linli's tables without an alembic_version); the code needs {head}" in \
        capsys.readouterr().out
    # What `make migrate` runs, as a process of its own.
    done = subprocess.run([sys.executable, "-m", "bot.schema", "upgrade"], cwd=ROOT, env=_env(url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"pre-migrations (Linli's tables without an alembic_version) -> {head}" in done.stdout
    assert schema.main(["--url", url, "check"]) == 0
    assert f"up to date ({head})" in capsys.readouterr().out
    with pre_migrations_db.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM tickets")).scalar() == 1
    assert schema.main(["--url", url, "stamp", "base"]) == 0  # the operator's escape hatch
    assert schema.current_revision(pre_migrations_db) is None


def _hold_exclusive_lock(path: Path) -> sqlite3.Connection:
    """Another process's view: a rollback-journal database held under SQLite's EXCLUSIVE lock."""
    holder = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("CREATE TABLE IF NOT EXISTS other_process (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_start_up_waits_out_a_sqlite_lock_that_answers_without_waiting(tmp_path: Path) -> None:
    """SQLite can say "database is locked" at once (timeout 0 here, like its WAL switch on a new
    file): the server keeps asking until the other process lets go, then creates the schema."""
    path = tmp_path / "locked.db"
    holder = _hold_exclusive_lock(path)
    engine = sa.create_engine(f"sqlite:///{path}", future=True, connect_args={"timeout": 0})
    release = threading.Timer(1.5, holder.execute, ["ROLLBACK"])
    release.start()
    try:
        assert schema.ensure_current(engine, patience=30) == schema.head_revision()
    finally:
        release.cancel()
        holder.close()
    assert schema.state(engine).up_to_date
    engine.dispose()


def test_start_up_gives_up_on_a_lock_that_stays_with_what_to_check(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = _hold_exclusive_lock(path)
    engine = sa.create_engine(f"sqlite:///{path}", future=True, connect_args={"timeout": 0})
    try:
        with pytest.raises(SystemExit, match="does not answer \\(database is locked\\); check DATABASE_URL"):
            schema.ensure_current(engine, patience=0.5)
    finally:
        holder.close()
    assert schema.current_revision(engine) is None  # nothing was created behind the lock
    engine.dispose()
