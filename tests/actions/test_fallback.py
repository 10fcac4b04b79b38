"""action_default_fallback: one apology per turn, and a due handoff left to its rule."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallback
from tests.actions.conftest import make_tracker


def _run(intent: str, slots: Dict[str, Any], dispatcher: CollectingDispatcher, domain: Dict[str, Any]) -> list:
    tracker = make_tracker("5", intent=intent, confidence=0.3, slots=slots)
    return asyncio.run(ActionDefaultFallback().run(dispatcher, tracker, domain))


def test_a_core_fallback_ends_the_turn_instead_of_repeating(dispatcher: CollectingDispatcher, domain: Dict[str, Any]) -> None:
    """A lone "5" read as inform at low confidence: RulePolicy's core fallback runs this action;
    without the follow-up listen, Rasa predicted the fallback again ten times in one turn."""
    events = _run("inform", {}, dispatcher, domain)
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_listen"]
    assert len(dispatcher.messages) == 1


def test_a_due_handoff_after_nlu_fallback_is_left_to_the_rule(dispatcher: CollectingDispatcher, domain: Dict[str, Any],
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HANDOFF_AFTER_FALLBACKS", "1")
    events = _run("nlu_fallback", {}, dispatcher, domain)
    assert any(e.get("name") == "handoff_due" and e.get("value") is True for e in events)
    assert not any(e.get("event") == "followup" for e in events)
