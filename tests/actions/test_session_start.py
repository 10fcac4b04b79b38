"""``action_session_start``: a new session keeps a handed-off conversation with staff."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

import actions.session_start as session_start
from bot.handoff.models import Base
from bot.handoff.store import HandoffStore
from tests.actions.conftest import make_tracker


@pytest.fixture
def store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> HandoffStore:
    engine = create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True)
    Base.metadata.create_all(engine)
    handoffs = HandoffStore(engine)
    monkeypatch.setattr(session_start, "handoff_store", lambda: handoffs)
    return handoffs


def _run(domain: Dict[str, Any], slots: Dict[str, Any], sender: str = "rest:resident-1") -> List[Dict[str, Any]]:
    tracker = make_tracker("你好", intent="greet", slots=slots, sender=sender)
    return asyncio.run(session_start.ActionSessionStart().run(CollectingDispatcher(), tracker, domain))


def test_a_new_session_of_a_handed_off_conversation_is_paused_again(store: HandoffStore, domain: Dict[str, Any]) -> None:
    store.open("rest:resident-1", "rest")
    tracker = make_tracker("你好", intent="greet", after=[{"event": "slot", "name": "phone", "value": "13812345678"}])
    events = asyncio.run(session_start.ActionSessionStart().run(CollectingDispatcher(), tracker, domain))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session_started" and kinds[-1] == "action" and events[-1]["name"] == "action_listen"
    assert "pause" in kinds
    # slots carry over as with Rasa's own session start
    assert {"event": "slot", "name": "phone", "value": "13812345678"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events if e["event"] == "slot"]


def test_a_new_session_without_a_handoff_is_not_paused(store: HandoffStore, domain: Dict[str, Any]) -> None:
    store.open("rest:someone-else", "rest")
    handoff = store.open("rest:resident-1", "rest")
    store.close(handoff.id, "wang")  # closed: the bot has the conversation back
    assert "pause" not in [e["event"] for e in _run(domain, {})]


@pytest.mark.parametrize("setting, expected", [("true", True), ("false", False), ("", False)])
def test_the_complaints_setting_is_set_at_every_session_start(store: HandoffStore, domain: Dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              setting: str, expected: bool) -> None:
    monkeypatch.setenv("LINLI_COMPLAINTS_TO_HUMAN", setting)
    # a stale value from the previous session is not carried over
    tracker = make_tracker("你好", intent="greet", after=[
        {"event": "slot", "name": "complaints_to_human", "value": not expected}])
    events = asyncio.run(session_start.ActionSessionStart().run(CollectingDispatcher(), tracker, domain))
    assert [e["value"] for e in events if e["event"] == "slot" and e["name"] == "complaints_to_human"] == \
        ([True] if expected else [])
