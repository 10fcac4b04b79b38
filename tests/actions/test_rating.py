"""``action_rating`` / ``action_rating_comment`` on tracker fixtures: score, thanks, comment, expiry."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

import actions.rating as rating
from bot.satisfaction.store import SatisfactionStore
from tests.actions.conftest import make_tracker, responses, slot_events

RESIDENT = "rest:resident-1"


@pytest.fixture
def store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> SatisfactionStore:
    ratings = SatisfactionStore(create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True))
    monkeypatch.setattr(rating, "satisfaction_store", lambda: ratings)
    return ratings


def ask(store: SatisfactionStore, expires_in: float = 3600, resident: str = RESIDENT) -> Dict[str, Any]:
    request, _ = store.ask("handoff", str(time.time_ns()), resident, "rest", "zh", "test", expires_in)
    return {"id": request.id, "stage": "rating", "subject": f"handoff:{request.subject_id}",
            "expires_at": request.expires_at}


def run(action: Any, text: str, slot: Optional[Dict[str, Any]], domain: Dict[str, Any], intent: str = "inform",
        language: str = "zh") -> Tuple[List[str], Dict[str, Any], CollectingDispatcher]:
    tracker = make_tracker(text, intent=intent, slots={"rating_request": slot, "language": language})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return responses(dispatcher), slot_events(events), dispatcher


@pytest.mark.parametrize("text, score, language", [("5", 5, "zh"), ("4分", 4, "zh"), ("五星", 5, "zh"),
                                                   ("⭐⭐⭐", 3, "zh"), ("非常满意", 5, "zh"), ("very good", 5, "en"),
                                                   ("terrible", 1, "en")])
def test_a_rating_is_stored_thanked_and_a_comment_invited(store: SatisfactionStore, domain: Dict[str, Any],
                                                          text: str, score: int, language: str) -> None:
    slot = ask(store)
    said, slots, dispatcher = run(rating.ActionRating(), text, slot, domain, language=language)
    thanks = "utter_rating_sorry" if score <= 2 else "utter_rating_thanks"
    assert said == [thanks, "utter_rating_ask_comment"]
    assert dispatcher.messages[0]["rating"] == score  # fills {rating} in the response
    assert slots["rating_request"] == {**slot, "stage": "comment"}
    saved = store.get(slot["id"])
    assert (saved.rating, saved.comment) == (score, None) and saved.answered_at is not None


def test_a_number_with_a_comment_stores_both_and_asks_nothing_more(store: SatisfactionStore,
                                                                   domain: Dict[str, Any]) -> None:
    slot = ask(store)
    said, slots, _ = run(rating.ActionRating(), "3 - slow but fixed", slot, domain, language="en")
    assert said == ["utter_rating_thanks", "utter_rating_comment_thanks"] and slots["rating_request"] is None
    assert (store.get(slot["id"]).rating, store.get(slot["id"]).comment) == (3, "slow but fixed")


def test_the_comment_is_stored_once_or_declined(store: SatisfactionStore, domain: Dict[str, Any]) -> None:
    slot = ask(store)
    run(rating.ActionRating(), "4", slot, domain)
    said, slots, _ = run(rating.ActionRatingComment(), "师傅很耐心，就是来得有点晚", {**slot, "stage": "comment"}, domain)
    assert said == ["utter_rating_comment_thanks"] and slots["rating_request"] is None
    assert store.get(slot["id"]).comment == "师傅很耐心，就是来得有点晚"

    other = ask(store)
    run(rating.ActionRating(), "5", other, domain)
    for text, intent in [("没有", "deny"), ("no thanks", "deny"), ("不用", "stop")]:
        said, slots, _ = run(rating.ActionRatingComment(), text, {**other, "stage": "comment"}, domain, intent=intent)
        assert said == ["utter_rating_no_comment"] and slots["rating_request"] is None
    assert store.get(other["id"]).comment is None


def test_an_expired_or_answered_request_is_not_changed(store: SatisfactionStore, domain: Dict[str, Any]) -> None:
    expired = ask(store, expires_in=-1)
    said, slots, _ = run(rating.ActionRating(), "5", expired, domain)
    assert said == ["utter_rating_closed"] and slots["rating_request"] is None
    assert store.get(expired["id"]).rating is None

    answered = ask(store)
    run(rating.ActionRating(), "2", answered, domain)
    said, _, _ = run(rating.ActionRating(), "5", answered, domain)
    assert said == ["utter_rating_already"] and store.get(answered["id"]).rating == 2

    someone_elses = ask(store, resident="rest:someone-else")
    said, _, _ = run(rating.ActionRating(), "5", someone_elses, domain)
    assert said == ["utter_rating_closed"] and store.get(someone_elses["id"]).rating is None


def test_a_database_failure_keeps_the_request_pending(domain: Dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                      store: SatisfactionStore) -> None:
    from sqlalchemy.exc import OperationalError

    def broken(*_args: Any) -> str:
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "answer", broken)
    slot = ask(store)
    said, slots, _ = run(rating.ActionRating(), "5", slot, domain)
    assert said == ["utter_rating_failed"] and "rating_request" not in slots  # still pending: send it again
