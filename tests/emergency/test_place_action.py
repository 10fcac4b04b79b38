"""``action_emergency_place`` on tracker fixtures: the place a resident gives after an emergency
goes onto the urgent ticket (zh and en), a partial one is completed by the next answer, and
messages without a new place, other residents' tickets and closed tickets change nothing."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.emergency import ActionEmergencyPlace
from bot.tickets import TicketStore
from tests.actions.conftest import make_tracker, slot_events


@pytest.fixture
def store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TicketStore]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'linli.db'}")
    from actions.common import ticket_store

    ticket_store.cache_clear()
    yield ticket_store()
    ticket_store.cache_clear()


def _urgent(store: TicketStore, sender: str = "resident-1", **fields):
    return store.create(ticket_type="repair", channel="rest", sender_id=sender, language="zh",
                        description="【漏水 / Leak】水管爆了", category="plumbing", urgency="urgent", **fields)


def _run(text: str, number: str, language: str = "zh", sender: str = "rest:resident-1"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="inform", slots={"ticket_id": number, "language": language}, sender=sender)
    events = asyncio.run(ActionEmergencyPlace().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_the_flat_given_after_an_emergency_goes_onto_its_ticket(store: TicketStore) -> None:
    ticket = _urgent(store)
    messages, events = _run("3号楼1单元502", ticket.number)
    assert [(m["response"], m["place"], m["number"]) for m in messages] == [
        ("utter_emergency_place_added", "3栋1单元502", ticket.number)]
    stored = store.get(ticket.number)
    assert (stored.location, stored.unit, stored.building, stored.room) == ("3栋1单元502", "3栋1单元502", "3", "502")
    assert [e.action for e in stored.events] == ["created", "location"]
    assert stored.events[-1].actor == "rest:resident-1"  # as on the "created" entry: the resident
    assert "location" in slot_events(events)


def test_an_english_public_place_is_told_back_in_english(store: TicketStore) -> None:
    ticket = _urgent(store)
    messages, _ = _run("it's the lift in building 5", ticket.number, "en")
    assert [(m["response"], m["place"]) for m in messages] == [("utter_emergency_place_added", "Building 5 lift")]
    assert (store.get(ticket.number).location, store.get(ticket.number).area) == ("5号楼电梯", "电梯")


def test_a_partial_place_is_kept_and_completed_by_the_next_answer(store: TicketStore) -> None:
    ticket = _urgent(store)
    messages, _ = _run("5号楼", ticket.number)
    assert [m["response"] for m in messages] == ["utter_emergency_place_partial"]
    assert store.get(ticket.number).location == "5栋"
    messages, _ = _run("1单元1203", ticket.number)
    assert [(m["response"], m["place"]) for m in messages] == [("utter_emergency_place_added", "5栋1单元1203")]
    assert store.get(ticket.number).location == "5栋1单元1203"


@pytest.mark.parametrize("text", ["好的我出来了", "谢谢", "3号楼1单元502"])
def test_nothing_changes_without_a_new_place(store: TicketStore, text: str) -> None:
    ticket = _urgent(store, location="3栋1单元502", unit="3栋1单元502", building="3", entrance="1", room="502")
    assert _run(text, ticket.number) == ([], [])
    assert [e.action for e in store.get(ticket.number).events] == ["created"]


def test_a_known_place_is_not_moved_by_a_passing_mention(store: TicketStore) -> None:
    ticket = _urgent(store, location="5号楼电梯", building="5", area="电梯")
    assert _run("我住3号楼1单元502", ticket.number) == ([], [])
    assert store.get(ticket.number).location == "5号楼电梯"


def test_another_resident_s_or_a_closed_ticket_is_never_touched(store: TicketStore) -> None:
    theirs = _urgent(store, sender="someone-else")
    assert _run("3号楼1单元502", theirs.number) == ([], [])
    assert store.get(theirs.number).location is None
    mine = _urgent(store)
    for status in ("in_progress", "resolved", "closed"):
        store.change_status(mine.number, status, "staff:admin")
    assert _run("3号楼1单元502", mine.number) == ([], [])
    assert _run("3号楼1单元502", "") == ([], [])
