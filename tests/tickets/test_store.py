"""The ticket store on a real database (SQLite; PostgreSQL with TEST_DATABASE_URL)."""

from concurrent.futures import ThreadPoolExecutor
import re

import pytest
from sqlalchemy import create_engine

from bot.tickets import InvalidTransition, TicketNotFound, TicketStore


@pytest.fixture
def store(database_url: str) -> TicketStore:
    return TicketStore(create_engine(database_url, future=True), timezone="Asia/Shanghai")


def _repair(store: TicketStore, sender: str = "u1", **kw) -> "object":
    fields = dict(
        ticket_type="repair", channel="rest", sender_id=sender, description="卫生间漏水",
        unit="3栋2单元502", category="plumbing", urgency="urgent", phone="13812345678",
    )
    fields.update(kw)
    return store.create(**fields)


def test_create_assigns_readable_sequential_numbers(store: TicketStore) -> None:
    first, second = _repair(store), _repair(store)
    assert re.fullmatch(r"BX-\d{8}-0001", first.number)
    assert second.number == first.number[:-4] + "0002"
    complaint = store.create(ticket_type="complaint", channel="rest", sender_id="u1", description="噪音")
    assert re.fullmatch(r"TS-\d{8}-0001", complaint.number)


def test_ticket_is_stored_with_its_fields_and_creation_event(store: TicketStore) -> None:
    ticket = _repair(store)
    loaded = store.get(ticket.number.lower())
    assert (loaded.unit, loaded.phone, loaded.category, loaded.status) == (
        "3栋2单元502", "13812345678", "plumbing", "open")
    assert [e.action for e in loaded.events] == ["created"]
    assert loaded.created_at is not None


def test_same_idempotency_key_returns_the_same_ticket(store: TicketStore) -> None:
    first = _repair(store, idempotency_key="turn-1")
    again = _repair(store, idempotency_key="turn-1")
    assert again.number == first.number
    assert len(store.list_for_sender("rest", "u1")) == 1


def test_concurrent_creation_gives_unique_numbers(store: TicketStore) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda i: _repair(store, sender=f"u{i}").number, range(40)))
    assert len(set(numbers)) == 40
    # Dense too: 0001 … 0040, no gaps left by lost races.
    assert sorted(int(n[-4:]) for n in numbers) == list(range(1, 41))


def test_residents_see_only_their_own_tickets(store: TicketStore) -> None:
    mine = _repair(store, sender="alice")
    _repair(store, sender="bob")
    assert [t.number for t in store.list_for_sender("rest", "alice")] == [mine.number]
    assert store.get_for_sender(mine.number, "rest", "bob") is None
    assert store.get_for_sender(mine.number, "telegram", "alice") is None
    assert store.get_for_sender(mine.number, "rest", "alice").number == mine.number


def test_status_life_cycle_is_recorded_in_history(store: TicketStore) -> None:
    seen = []
    store.add_status_listener(lambda ticket, event: seen.append((ticket.number, event.to_status)))
    ticket = _repair(store)
    store.assign(ticket.number, "wang.shifu", actor="admin")
    store.change_status(ticket.number, "in_progress", actor="wang.shifu")
    store.change_status(ticket.number, "resolved", actor="wang.shifu", note="换了阀门")
    done = store.change_status(ticket.number, "closed", actor="admin")
    assert done.status == "closed" and done.assignee == "wang.shifu"
    assert [(e.action, e.to_status) for e in done.events] == [
        ("created", "open"), ("assigned", "assigned"), ("status", "in_progress"),
        ("status", "resolved"), ("status", "closed"),
    ]
    assert done.events[3].note == "换了阀门"
    assert done.updated_at >= done.created_at
    assert seen == [(ticket.number, "in_progress"), (ticket.number, "resolved"), (ticket.number, "closed")]


def test_invalid_transitions_and_unknown_tickets_are_refused(store: TicketStore) -> None:
    ticket = _repair(store)
    store.change_status(ticket.number, "closed", actor="admin")
    with pytest.raises(InvalidTransition):
        store.change_status(ticket.number, "open", actor="admin")
    with pytest.raises(TicketNotFound):
        store.get("BX-19990101-0001")
    with pytest.raises(ValueError):
        store.change_status(ticket.number, "exploded", actor="admin")


def test_search_filters_and_attachments(store: TicketStore) -> None:
    leak = _repair(store)
    _repair(store, category="elevator", unit="5栋1203")
    store.add_attachment(leak.number, "var/media/leak.jpg", actor="rest:u1")
    assert [t.number for t in store.search(category="plumbing")] == [leak.number]
    assert len(store.search(unit="5栋")) == 1
    assert len(store.search(status=["open"])) == 2
    assert store.get(leak.number).attachments[0].ref == "var/media/leak.jpg"
    assert store.latest_open_for_sender("rest", "u1") is not None


def test_set_location_replaces_the_place_and_records_it(store: TicketStore) -> None:
    ticket = _repair(store, unit=None, location="5号楼电梯", building="5", area="电梯")
    moved = store.set_location(ticket.number, "rest:u1",
                               {"location": "3栋1单元502", "unit": "3栋1单元502", "building": "3", "entrance": "1",
                                "room": "502"})
    assert (moved.location, moved.unit, moved.building, moved.room, moved.area) == (
        "3栋1单元502", "3栋1单元502", "3", "502", None)  # the public place's area does not linger
    assert [(e.action, e.actor, e.note) for e in moved.events][-1] == ("location", "rest:u1", "3栋1单元502")
    with pytest.raises(ValueError):
        store.set_location(ticket.number, "x", {"description": "changed"})
    assert store.get(ticket.number).description == "卫生间漏水"


def test_set_location_refuses_a_closed_ticket(store: TicketStore) -> None:
    ticket = _repair(store)
    for status in ("in_progress", "resolved", "closed"):
        store.change_status(ticket.number, status, "staff:admin")
    with pytest.raises(InvalidTransition):
        store.set_location(ticket.number, "x", {"location": "东门"})
    with pytest.raises(TicketNotFound):
        store.set_location("BX-20200101-9999", "x", {"location": "东门"})
