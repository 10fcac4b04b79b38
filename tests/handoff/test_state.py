"""Handoff state in the database, and the "failed to understand twice" count (actions/fallback.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from sqlalchemy import create_engine

from bot.handoff import HandoffConflict, HandoffStore
from actions.fallback import count_failure, failed_in_a_row
from bot.handoff.models import Base, utcnow


@pytest.fixture
def store(database_url: str) -> HandoffStore:
    """On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
    engine = create_engine(database_url, future=True)
    Base.metadata.drop_all(engine)
    return HandoffStore(engine)


def test_one_open_handoff_per_conversation(store: HandoffStore) -> None:
    first = store.open("r1", "telegram", "en", "requested", "help")
    assert store.open("r1", "telegram", "en", "fallback").id == first.id
    # Handoffs are stored under the namespaced conversation id (bot/channels/identity.py).
    assert first.sender_id == "telegram:r1" and store.open("telegram:r1", "telegram").id == first.id
    assert store.active_for("telegram:r1").id == first.id and store.active_for("telegram:r2") is None
    assert store.active_for("r1") is None and store.open("r1", "wechat").id != first.id  # another channel's r1
    store.close(first.id, "wang")
    assert store.active_for("telegram:r1") is None
    assert store.open("r1", "telegram").id != first.id


def test_take_close_and_conflicts(store: HandoffStore) -> None:
    handoff = store.open("r1", "wechat")
    taken = store.take(handoff.id, "wang", "王")
    assert (taken.status, taken.agent) == ("active", "wang") and taken.taken_at is not None
    assert store.take(handoff.id, "wang", "王").status == "active"  # idempotent for the holder
    with pytest.raises(HandoffConflict):
        store.take(handoff.id, "li", "李")
    assert store.take(handoff.id, "li", "李", force=True).agent == "li"
    store.close(handoff.id, "li")
    with pytest.raises(HandoffConflict):
        store.close(handoff.id, "li")
    with pytest.raises(HandoffConflict):
        store.take(handoff.id, "li", "李")


def test_queue_is_oldest_first_with_waiting_time(store: HandoffStore) -> None:
    a, b = store.open("a", "rest"), store.open("b", "rest")
    store.record_resident_message(b.id, "还在吗")
    queue = store.list()
    assert [h.sender_id for h in queue] == ["rest:a", "rest:b"]  # namespaced conversation ids
    row = queue[1].as_dict(now=utcnow() + timedelta(seconds=90))
    assert row["waiting_seconds"] >= 90 and row["resident_messages"] == 1 and row["last_message"] == "还在吗"


def test_only_untaken_handoffs_time_out(store: HandoffStore) -> None:
    waiting, taken = store.open("a", "rest"), store.open("b", "rest")
    store.take(taken.id, "wang", "王")
    assert store.due_for_timeout(60) == []
    due = store.due_for_timeout(60, now=utcnow() + timedelta(seconds=61))
    assert [h.id for h in due] == [waiting.id]


def _turn(intent: str, *events) -> list:  # type: ignore[no-untyped-def]
    return [UserUttered("x", {"name": intent, "confidence": 0.2}), *events, ActionExecuted("action_listen")]


ABSTAINED = (ActionExecuted("action_answer_question"), BotUttered("不知道"), SlotSet("handoff_offered", True))
ANSWERED = (ActionExecuted("action_answer_question"), BotUttered("物业费在App缴纳"))


@pytest.mark.parametrize("turns, expected", [
    ([_turn("nlu_fallback", *ABSTAINED), _turn("nlu_fallback", *ABSTAINED)], 2),
    ([_turn("nlu_fallback", *ANSWERED), _turn("nlu_fallback", *ABSTAINED)], 1),
    ([_turn("nlu_fallback", *ABSTAINED), _turn("greet", ActionExecuted("utter_greet"))], 0),
    ([_turn("ask_question", *ABSTAINED), _turn("nlu_fallback", *ABSTAINED)], 1),  # a known question is understood
    ([_turn("affirm", ActionExecuted("action_default_fallback")), _turn("nlu_fallback", *ABSTAINED)], 2),
    # failures before the last handoff do not count again
    ([_turn("nlu_fallback", *ABSTAINED), [ConversationPaused(), ConversationResumed()],
      _turn("nlu_fallback", *ABSTAINED)], 1),
])
def test_failed_in_a_row(turns: list, expected: int) -> None:
    events = [ActionExecuted("action_listen")] + [e for turn in turns for e in turn]
    tracker = DialogueStateTracker.from_events("s", events)
    # The action server sees the events as Rasa sends them: dicts.
    assert failed_in_a_row(e.as_dict() for e in tracker.events) == expected


def _sdk_tracker(events: list, slots: dict) -> Tracker:
    dicts = [e.as_dict() for e in events]
    latest = next((e for e in reversed(dicts) if e["event"] == "user"), {})
    return Tracker("rest:s", slots, {**latest.get("parse_data", {}), "text": latest.get("text")}, dicts,
                   False, None, {}, "action_listen")


def test_the_second_misunderstanding_in_a_row_makes_a_handoff_due(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_AFTER_FALLBACKS", "2")
    first = [ActionExecuted("action_listen"), UserUttered("x", {"name": "nlu_fallback", "confidence": 0.2})]
    events = count_failure(_sdk_tracker(first, {}), True)
    assert {e["name"]: e["value"] for e in events} == {"fallback_count": 1.0}
    second = first + [*ABSTAINED, ActionExecuted("action_listen"),
                      UserUttered("y", {"name": "nlu_fallback", "confidence": 0.2})]
    events = count_failure(_sdk_tracker(second, {"fallback_count": 1.0}), True)
    assert {e["name"]: e["value"] for e in events} == {"fallback_count": 2.0, "handoff_due": True}
    # an understood turn resets the count; nothing is due
    assert [e["value"] for e in count_failure(_sdk_tracker(second, {"fallback_count": 1.0}), False)] == [0.0]
    monkeypatch.setenv("HANDOFF_AFTER_FALLBACKS", "0")  # 0 = never
    assert "handoff_due" not in {e["name"] for e in count_failure(_sdk_tracker(second, {}), True)}
