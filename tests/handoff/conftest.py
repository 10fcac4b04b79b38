"""Fixtures for the staff desk tests: accounts on the shared stack and an HTTP client."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any, Dict, Optional

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


@pytest.fixture(scope="session")
def accounts(stack: Stack) -> Dict[str, str]:
    """An admin and two agents on the shared stack: ``{username: password}``."""
    suffix = uuid.uuid4().hex[:6]
    names = {"admin": f"admin{suffix}", "agent": f"wang{suffix}", "agent2": f"li{suffix}"}
    create_account(stack, names["admin"], ADMIN_PASSWORD, "admin")
    create_account(stack, names["agent"], AGENT_PASSWORD, "agent")
    create_account(stack, names["agent2"], AGENT_PASSWORD, "agent")
    return names


@pytest.fixture
def admin(stack: Stack, accounts: Dict[str, str]) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(accounts["admin"], ADMIN_PASSWORD).status_code == 200
    return desk


@pytest.fixture
def agent(stack: Stack, accounts: Dict[str, str]) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(accounts["agent"], AGENT_PASSWORD).status_code == 200
    return desk


@pytest.fixture
def agent2(stack: Stack, accounts: Dict[str, str]) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(accounts["agent2"], AGENT_PASSWORD).status_code == 200
    return desk


def handoff_of(desk: Desk, sender: str) -> Dict[str, Any]:
    """The open handoff of a conversation, from the queue.

    Handoffs name the conversation (``rest:<sender>``, ``socketio:<session>``...);
    ``sender`` may be that id or the resident's platform id.
    """
    queue = desk.get("/api/handoffs").json()["handoffs"]
    matches = [h for h in queue if sender in (h["sender_id"], h["sender_id"].partition(":")[2])]
    assert matches, f"{sender} is not in the queue: {queue}"
    return matches[0]
