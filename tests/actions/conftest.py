"""Tracker fixtures for action tests (in the style of RasaHQ's financial-demo)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.servers import ROOT


@lru_cache(maxsize=1)
def _domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml")).as_dict()


@pytest.fixture
def domain() -> Dict[str, Any]:
    """The project's domain as the action server receives it."""
    return _domain()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str,
    intent: str = "inform",
    confidence: float = 0.95,
    requested: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    after: Optional[List[Dict[str, Any]]] = None,
    sender: str = "rest:resident-1",
) -> Tracker:
    """A tracker whose latest message is ``text``, in a repair form waiting for ``requested``.

    ``after``: events after the user message (e.g. the action a rule ran for an interruption).
    """
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "entities": entities or [], "intent_ranking": []}
    all_slots = {s: None for s in _domain()["slots"]}
    all_slots.update({"language": "zh", "confirm_edit": False, "handoff_offered": False})
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"},
        {"event": "action", "name": "action_extract_slots"},
        *(after or []),
    ]
    return Tracker(
        sender_id=sender, slots=all_slots, latest_message=latest, events=events, paused=False,
        followup_action=None, active_loop={"name": "repair_form"} if requested else {},
        latest_action_name=(after or [{"name": "action_listen"}])[-1].get("name"),
    )


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """Names of the responses (or texts) the action sent."""
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The last value set for each slot in ``events``."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
