"""Who a notice reaches, and the preview counts, on SQLite and PostgreSQL (TEST_DATABASE_URL):
units from confirmed statements, staff edits and tickets; residents from tickets, units,
subscriptions and Rasa's tracker store; opt-outs; languages; ``lookup.buildings_of``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.nlu.patterns import Unit
from bot.notices import targeting
from bot.notices.models import metadata as notice_tables
from bot.notices.store import NoticeStore
from bot.outbox.models import metadata as outbox_tables
from bot.residence.lookup import buildings_of
from bot.residence.models import metadata as residence_tables
from bot.residence.store import ResidenceStore
from bot.tickets import TicketStore
from bot.tickets.models import Base as ticket_tables


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An empty database with Linli's tables for tickets, residence, notices and the outbox."""
    engine = create_engine(database_url, future=True)
    for metadata in (notice_tables, residence_tables, outbox_tables, ticket_tables.metadata):
        metadata.drop_all(engine)
    yield engine
    engine.dispose()


def trackers_with(path: Path, conversations: Dict[str, str]) -> Engine:
    """A real Rasa SQL tracker store holding one conversation per id, each with its language slot."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    for sender, language in conversations.items():
        events = [ActionExecuted("action_listen"), UserUttered("hello" if language == "en" else "你好"),
                  SlotSet("language", language)]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    return create_engine(f"sqlite:///{path}", future=True)


def flat(tickets: TicketStore, channel: str, sender: str, building: str, room: str, entrance: Any = None,
         language: str = "zh") -> None:
    tickets.create(ticket_type="repair", channel=channel, sender_id=sender, description="漏水", language=language,
                   building=building, entrance=entrance, room=room, unit=Unit(building, room, entrance).canonical())


@pytest.fixture
def community(engine: Engine, tmp_path: Path) -> Dict[str, Any]:
    """Residents of buildings 3 and 5 known in every way Linli knows residents."""
    tickets, residence, notices = TicketStore(engine), ResidenceStore(engine), NoticeStore(engine)
    flat(tickets, "wechat", "o-ticket3", "3", "502", "2", language="en")       # building 3 from a ticket
    residence.confirm("telegram", "1003", Unit("3", "601", "1"))               # building 3, stated and confirmed
    residence.confirm("socketio", "web3", Unit("3", "502", None), source="staff", actor="staff:wang")  # staff
    flat(tickets, "wechat", "o-optout3", "3", "701", "2")
    notices.set_subscribed("wechat", "o-optout3", False)                      # building 3, opted out
    flat(tickets, "telegram", "1005", "5", "1203")                             # building 5
    flat(tickets, "wechat", "o-moved", "3", "101", "1")                        # moved out: staff removed the unit
    residence.remove("wechat", "o-moved", "3-1-101", "staff:wang")
    flat(tickets, "rest", "api-user", "3", "502", "2")                         # REST: cannot be reached
    tickets.create(ticket_type="repair", channel="wechat", sender_id="o-lift", description="电梯坏了",
                   building="3", area="电梯", location="3号楼电梯")              # a public place is no home
    trackers = trackers_with(tmp_path / "tracker.db", {"wechat:o-chat-only": "en", "socketio:web3": "en",
                                                       "rest:someone": "zh", "telegram:1003": "en"})
    return {"engine": engine, "trackers": trackers}


def residents(found: Any) -> Dict[str, Any]:
    return {r.conversation: r for r in found}


def test_a_building_reaches_exactly_its_residents_on_channels_that_deliver(community: Dict[str, Any]) -> None:
    target = targeting.parse_target({"kind": "buildings", "buildings": ["3栋"]})
    found = residents(targeting.recipients(community["engine"], target, community["trackers"]))
    assert set(found) == {"wechat:o-ticket3", "telegram:1003", "socketio:web3", "wechat:o-optout3"}
    assert not found["wechat:o-optout3"].subscribed and found["telegram:1003"].subscribed
    # Languages: the ticket's, the conversation's language slot, else Chinese.
    assert {c: r.language for c, r in found.items()} == {"wechat:o-ticket3": "en", "telegram:1003": "en",
                                                         "socketio:web3": "en", "wechat:o-optout3": "zh"}
    # Channel memory (what the resident last wrote in) wins over both.
    remembered = {("telegram", "1003"): "zh-CN"}
    again = residents(targeting.recipients(community["engine"], target, community["trackers"],
                                           lambda c, s: remembered.get((c, s))))
    assert again["telegram:1003"].language == "zh" and again["wechat:o-ticket3"].language == "en"


def test_all_residents_include_conversations_without_a_unit_but_never_rest(community: Dict[str, Any]) -> None:
    found = residents(targeting.recipients(community["engine"], targeting.Target("all"), community["trackers"]))
    assert "wechat:o-chat-only" in found and found["wechat:o-chat-only"].language == "en"
    assert "wechat:o-lift" in found and "wechat:o-moved" in found  # still residents, only not of building 3
    assert not any(c.startswith("rest:") for c in found)
    assert len(found) == 8


def test_units_match_building_and_room_and_the_entrance_when_both_name_one(community: Dict[str, Any]) -> None:
    def reached(*units: Any) -> set:
        target = targeting.parse_target({"kind": "units", "units": list(units)})
        return set(residents(targeting.recipients(community["engine"], target, community["trackers"])))

    # "3栋2单元502" (ticket) and "3栋502" (staff, no entrance) are both 502 of building 3.
    assert reached("3-2-502") == {"wechat:o-ticket3", "socketio:web3"}
    assert reached("3栋1单元502") == {"socketio:web3"}
    assert reached({"building": "3", "entrance": "1", "room": "601"}) == {"telegram:1003"}
    assert reached("3栋1单元101") == set()  # removed by staff
    assert reached("5栋1203", "3栋2单元701") == {"telegram:1005", "wechat:o-optout3"}


def test_preview_counts_by_channel_and_language_and_the_opted_out(community: Dict[str, Any]) -> None:
    target = targeting.parse_target({"kind": "buildings", "buildings": ["3", "5"]})
    normal = targeting.preview(community["engine"], target, False, community["trackers"])
    assert (normal["total"], normal["opted_out"], normal["will_send"], normal["skipped"]) == (5, 1, 4, 1)
    assert normal["by_channel"] == {"wechat": 1, "telegram": 2, "socketio": 1}
    assert normal["by_language"] == {"en": 3, "zh": 1}
    urgent = targeting.preview(community["engine"], target, True, community["trackers"])
    assert (urgent["will_send"], urgent["skipped"], urgent["by_channel"]["wechat"]) == (5, 0, 2)
    assert targeting.known_buildings(community["engine"], community["trackers"]) == [
        {"building": "3", "residents": 4}, {"building": "5", "residents": 1}]


def test_buildings_of_lists_confirmed_and_staff_units_first_then_tickets(engine: Engine) -> None:
    tickets, residence = TicketStore(engine), ResidenceStore(engine)
    assert buildings_of(engine, "wechat", "o-1") == []
    flat(tickets, "wechat", "o-1", "7", "301")
    flat(tickets, "wechat", "o-1", "8", "302")
    assert buildings_of(engine, "wechat", "o-1") == ["8", "7"]  # newest ticket first
    residence.confirm("wechat", "o-1", Unit("2", "101"))
    residence.confirm("wechat", "o-1", Unit("7", "301"), source="staff", actor="staff:li")
    assert buildings_of(engine, "wechat", "o-1") == ["7", "2", "8"]
    residence.remove("wechat", "o-1", "8--302", "staff:li")
    assert buildings_of(engine, "wechat", "o-1") == ["7", "2"]
    assert [(u.key, u.source) for u in residence.units_of("wechat", "o-1")] == [
        ("7--301", "staff"), ("2--101", "stated")]
    # The same unit confirmed twice is one unit; a removed one can be stated again.
    residence.confirm("wechat", "o-1", Unit("2", "101"))
    residence.confirm("wechat", "o-1", Unit("8", "302"))
    assert [u.key for u in residence.units_of("wechat", "o-1")] == ["8--302", "2--101", "7--301"]


def test_buildings_of_works_on_a_database_without_residence_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    flat(TicketStore(engine), "telegram", "42", "9", "909")
    assert buildings_of(engine, "telegram", "42") == ["9"]


@pytest.mark.parametrize("target, code", [
    (None, "bad_target"), ({"kind": "everyone"}, "bad_target"), ({"kind": "buildings", "buildings": []}, "bad_target"),
    ({"kind": "buildings", "buildings": ["3 and 5"]}, "bad_building"), ({"kind": "units", "units": ["3栋"]}, "bad_unit"),
    ({"kind": "units", "units": [{"building": "3"}]}, "bad_unit"), ({"kind": "units", "units": "3-2-502"}, "bad_target"),
])
def test_bad_targets_are_refused_with_a_code(target: Any, code: str) -> None:
    with pytest.raises(targeting.TargetError) as refused:
        targeting.parse_target(target)
    assert refused.value.code == code
