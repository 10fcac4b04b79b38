"""Fixtures for the staff assistant and agent-assist tests: the desk accounts of tests/handoff, an editor,
and a resident handed off to staff."""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict

import pytest

from tests.handoff.conftest import (  # noqa: F401  (fixtures shared with the desk tests)
    ADMIN_PASSWORD, AGENT_PASSWORD, Desk, accounts, admin, agent, create_account, handoff_of)
from tests.servers import Stack

EDITOR_PASSWORD = "editor-pass-123"


@pytest.fixture(scope="session")
def editor_name(stack: Stack) -> str:
    """A knowledge-base editor on the shared stack (may look things up, may not file tickets)."""
    name = f"ed{uuid.uuid4().hex[:6]}"
    create_account(stack, name, EDITOR_PASSWORD, "editor")
    return name


@pytest.fixture
def editor(stack: Stack, editor_name: str) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(editor_name, EDITOR_PASSWORD).status_code == 200
    return desk


def handed_off(stack: Stack, desk: Desk, sender: str, question: str) -> Dict[str, Any]:
    """A REST resident asks for a human, then writes ``question`` while handed off; the handoff once the desk has it."""
    assert "请稍候" in stack.say(sender, "转人工")
    stack.chat(sender, question)
    deadline = time.monotonic() + 30
    handoff = handoff_of(desk, sender)
    while time.monotonic() < deadline:
        messages = desk.get(f"/api/handoffs/{handoff['id']}").json()["messages"]
        if any(m["from"] == "resident" and m["text"] == question for m in messages):
            return handoff
        time.sleep(0.3)
    raise AssertionError(f"{question!r} never reached the desk")


def suggestions_of(desk: Desk, handoff_id: int) -> Dict[str, Any]:
    """GET the suggestions (the first one may wait for the knowledge base to load on the action server)."""
    response = desk.http.get(f"{desk.base_url}/api/handoffs/{handoff_id}/suggestions", timeout=180)
    assert response.status_code == 200, response.text
    return response.json()
