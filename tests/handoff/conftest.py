"""Fixtures for the staff desk tests: accounts on the shared stack and an HTTP client."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any, Dict, Optional, Tuple

import pytest
import requests

from tests.servers import ROOT, Stack

ADMIN_PASSWORD = "admin-pass-123"
AGENT_PASSWORD = "agent-pass-123"


class Desk:
    """An HTTP client of the desk API with its own cookie jar (one browser)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.user: Optional[Dict[str, Any]] = None

    def login(self, username: str, password: str) -> requests.Response:
        response = self.http.post(f"{self.base_url}/api/login", json={"username": username, "password": password})
        if response.ok:
            self.user = response.json()["user"]
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=60, **kwargs)

    def post(self, path: str, payload: Optional[Dict[str, Any]] = None, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base_url + path, json=payload if payload is not None else {}, timeout=60, **kwargs)


def create_account(stack: Stack, username: str, password: str, role: str) -> None:
    """Create an account with the real command line, on the stack's database."""
    command = ["create-admin"] if role == "admin" else ["create-user", "--role", role]
    env = {**stack.env, "LINLI_ADMIN_PASSWORD": password, "LINLI_STAFF_PASSWORD": password}
    done = subprocess.run([sys.executable, "-m", "bot.staff", *command, "--username", username,
                           "--display-name", username.title()],
                          cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr


def password_of(role: str) -> str:
    """The test password of an account of ``role``."""
    return ADMIN_PASSWORD if role == "admin" else AGENT_PASSWORD


def create_accounts(stack: Stack, accounts: Dict[str, Tuple[str, str]]) -> Dict[str, str]:
    """``{key: (name prefix, role)}`` → accounts created on ``stack`` (unique names): ``{key: username}``."""
    suffix = uuid.uuid4().hex[:6]
    names = {key: f"{prefix}{suffix}" for key, (prefix, _role) in accounts.items()}
    for key, (_prefix, role) in accounts.items():
        create_account(stack, names[key], password_of(role), role)
    return names


def logged_in(stack: Stack, username: str, role: str) -> Desk:
    """A desk client logged in on ``stack`` as ``username`` (an account of ``role``)."""
    desk = Desk(stack.rasa_url)
    assert desk.login(username, password_of(role)).status_code == 200
    return desk


@pytest.fixture(scope="session")
def accounts(stack: Stack) -> Dict[str, str]:
    """An admin and two agents on the shared stack: ``{key: username}``."""
    return create_accounts(stack, {"admin": ("admin", "admin"), "agent": ("wang", "agent"), "agent2": ("li", "agent")})


@pytest.fixture
def admin(stack: Stack, accounts: Dict[str, str]) -> Desk:
    return logged_in(stack, accounts["admin"], "admin")


@pytest.fixture
def agent(stack: Stack, accounts: Dict[str, str]) -> Desk:
    return logged_in(stack, accounts["agent"], "agent")


@pytest.fixture
def agent2(stack: Stack, accounts: Dict[str, str]) -> Desk:
    return logged_in(stack, accounts["agent2"], "agent")


def handoff_of(desk: Desk, sender: str) -> Dict[str, Any]:
    """The open handoff of a conversation, from the queue.

    Handoffs name the conversation (``rest:<sender>``, ``socketio:<session>``...);
    ``sender`` may be that id or the resident's platform id.
    """
    queue = desk.get("/api/handoffs").json()["handoffs"]
    matches = [h for h in queue if sender in (h["sender_id"], h["sender_id"].partition(":")[2])]
    assert matches, f"{sender} is not in the queue: {queue}"
    return matches[0]
