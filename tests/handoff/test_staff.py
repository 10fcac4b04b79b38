"""Staff accounts: password hashing, sessions that expire, roles, the create-admin command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from bot.staff import AuthError, StaffStore, UserExists, hash_password, verify_password
from bot.staff.models import Base, StaffSession, utcnow
from tests.servers import ROOT


@pytest.fixture
def store(database_url: str) -> StaffStore:
    """On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
    engine = create_engine(database_url, future=True)
    Base.metadata.drop_all(engine)
    return StaffStore(engine, ttl_seconds=3600)


def test_password_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$") and "correct horse" not in first
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "garbage")
    with pytest.raises(ValueError):
        hash_password("short")


def test_login_opens_a_session_that_resolves_to_the_user(store: StaffStore) -> None:
    store.create_user("wang", "secret-pass", "agent", "王师傅")
    token, user, expires = store.login("wang", "secret-pass")
    assert user.role == "agent" and user.display_name == "王师傅"
    assert store.identity(token) == user
    assert store.identity(token + "x") is None and store.identity(None) is None
    with pytest.raises(AuthError):
        store.login("wang", "wrong-pass")
    with pytest.raises(AuthError):
        store.login("nobody", "secret-pass")
    store.logout(token)
    assert store.identity(token) is None


def test_sessions_expire(store: StaffStore) -> None:
    store.create_user("li", "secret-pass")
    token, _, _ = store.login("li", "secret-pass")
    with store.engine.begin() as conn:
        conn.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert store.identity(token) is None


def test_disabling_a_user_ends_their_sessions_and_blocks_login(store: StaffStore) -> None:
    store.create_user("zhao", "secret-pass")
    token, _, _ = store.login("zhao", "secret-pass")
    store.set_active("zhao", False)
    assert store.identity(token) is None
    with pytest.raises(AuthError):
        store.login("zhao", "secret-pass")


def test_roles_and_duplicates_are_checked(store: StaffStore) -> None:
    with pytest.raises(ValueError):
        store.create_user("x", "secret-pass", role="superuser")
    store.create_user("boss", "secret-pass", role="admin")
    with pytest.raises(UserExists):
        store.create_user("boss", "another-pass")


def test_create_admin_command_reads_the_password_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "LINLI_ADMIN_PASSWORD": "first-admin-pw"}
    done = subprocess.run([sys.executable, "-m", "bot.staff", "create-admin", "--username", "root"],
                          cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    store = StaffStore(create_engine(url, future=True))
    assert store.login("root", "first-admin-pw")[1].role == "admin"
    again = subprocess.run([sys.executable, "-m", "bot.staff", "create-admin", "--username", "root"],
                           cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert again.returncode == 1 and "already exists" in again.stderr
    no_password = {k: v for k, v in env.items() if k != "LINLI_ADMIN_PASSWORD"}
    refused = subprocess.run([sys.executable, "-m", "bot.staff", "create-admin", "--username", "other"],
                             cwd=ROOT, env=no_password, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert refused.returncode != 0 and "LINLI_ADMIN_PASSWORD" in (refused.stderr + refused.stdout)
