"""Incident store, early-warning clusters and the rising summary on SQLite and PostgreSQL
(TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import create_engine, update

from bot.incidents.alerts import AlertStore
from bot.incidents.models import metadata
from bot.incidents.rising import rising
from bot.incidents.store import IncidentError, IncidentStore
from bot.tickets import TicketStore
from bot.tickets.models import Ticket

NOW = datetime.now(timezone.utc)


@pytest.fixture
def engine(database_url: str) -> Iterator:
    engine = create_engine(database_url, future=True)
    metadata.drop_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def incidents(engine) -> IncidentStore:
    return IncidentStore(engine)


@pytest.fixture
def alerts(engine, incidents) -> AlertStore:
    return AlertStore(engine, incidents)


def ticket(engine, building: str, category: str = "plumbing", minutes_ago: float = 5, sender: str = "r1",
           channel: str = "rest", language: str = "zh") -> str:
    store = TicketStore(engine)
    created = store.create(ticket_type="repair", channel=channel, sender_id=sender, description="漏水",
                           category=category, language=language, building=building, unit=f"{building}栋101")
    with engine.begin() as conn:
        conn.execute(update(Ticket).where(Ticket.id == created.id)
                     .values(created_at=NOW - timedelta(minutes=minutes_ago)))
    return created.number


def declare(incidents: IncidentStore, **overrides) -> object:
    data = {"kind": "water", "title_zh": "3号楼停水", "title_en": "Water cut in building 3", "buildings": ["3"],
            "expected_end_at": (NOW + timedelta(hours=3)).isoformat()}
    data.update(overrides)
    return incidents.declare(data, "staff:admin")


@pytest.mark.parametrize("data, code", [
    ({"kind": "fire", "title_zh": "x", "buildings": ["3"]}, "bad_kind"),
    ({"kind": "water", "buildings": ["3"]}, "title_required"),
    ({"kind": "water", "title_zh": "停水"}, "buildings_required"),
    ({"kind": "water", "title_zh": "停水", "buildings": ["3;drop"]}, "bad_buildings"),
    ({"kind": "water", "title_zh": "停水", "buildings": ["3"], "expected_end_at": "tomorrow"}, "bad_time"),
    ({"kind": "water", "title_zh": "停水", "buildings": ["3"], "starts_at": "2026-12-01T10:00:00+08:00",
      "expected_end_at": "2026-12-01T09:00:00+08:00"}, "end_before_start"),
    ({"kind": "water", "title_zh": "停水", "buildings": ["3"], "severity": "high"}, "unknown_field"),
])
def test_bad_declarations_are_refused_and_store_nothing(incidents: IncidentStore, data, code) -> None:
    with pytest.raises(IncidentError) as refused:
        incidents.declare(data, "staff:admin")
    assert refused.value.code == code and refused.value.status == 400
    assert incidents.count() == 0


def test_an_incident_matches_its_buildings_kind_and_categories_until_resolved(incidents: IncidentStore) -> None:
    water = declare(incidents, buildings=["3号楼", "5"])
    assert water.buildings == ["3", "5"] and water.status == "active"
    assert [i.id for i in incidents.matching(["3"], ["water"])] == [water.id]
    assert [i.id for i in incidents.matching(["5"], [], category="plumbing")] == [water.id]
    assert incidents.matching(["7"], ["water"]) == []  # another building
    assert incidents.matching(["3"], ["power"], category="electrical") == []  # another kind
    power = declare(incidents, kind="power", title_zh="全小区停电", buildings=None, community_wide=True)
    assert [i.id for i in incidents.matching(["12"], ["power"])] == [power.id]
    assert [i.id for i in incidents.matching([], [], category="electrical")] == [power.id]
    later = declare(incidents, kind="lift", title_zh="电梯检修", starts_at=(NOW + timedelta(hours=1)).isoformat(),
                    expected_end_at=(NOW + timedelta(hours=4)).isoformat())
    assert incidents.matching(["3"], ["lift"]) == []  # announced, not started yet
    assert later.id not in [i.id for i in incidents.active()]

    resolved = incidents.resolve(water.id, "staff:admin", "管道已修复")
    assert (resolved.status, resolved.resolution_note, resolved.resolved_by) == ("resolved", "管道已修复", "staff:admin")
    assert incidents.matching(["3"], ["water"]) == []
    with pytest.raises(IncidentError) as again:
        incidents.resolve(water.id, "staff:other")
    assert again.value.status == 409
    assert incidents.get(water.id).resolved_by == "staff:admin"  # the second resolve changed nothing
    assert [i.id for i in incidents.unnotified()] == [water.id]
    incidents.mark_notified(water.id)
    assert incidents.unnotified() == []


def test_residents_are_linked_once_per_kind_of_link(incidents: IncidentStore) -> None:
    water = declare(incidents)
    assert incidents.link(water.id, "asked", "telegram", "42", "en") is True
    assert incidents.link(water.id, "asked", "telegram", "42", "en") is False
    assert incidents.link(water.id, "reported", "telegram", "42", "en") is True
    assert incidents.link(water.id, "reported", "wechat", "o-1", "zh-CN") is True
    links = incidents.links(water.id)
    assert [(l.link_type, l.conversation_id, l.language) for l in links] == [
        ("asked", "telegram:42", "en"), ("reported", "telegram:42", "en"), ("reported", "wechat:o-1", "zh")]
    assert incidents.get(water.id).links == {"asked": 1, "reported": 2}


def test_three_matching_tickets_raise_exactly_one_alert(engine, alerts: AlertStore) -> None:
    numbers = [ticket(engine, "3", minutes_ago=m, sender=f"r{m}") for m in (50, 30, 10)]
    raised = alerts.detect(3, 2.0)
    assert len(raised) == 1
    alert = raised[0]
    assert (alert.category, alert.building, alert.ticket_count, alert.status) == ("plumbing", "3", 3, "open")
    assert alert.ticket_numbers == numbers
    assert alert.proposal()["kind"] == "water" and alert.proposal()["buildings"] == ["3"]
    assert alerts.detect(3, 2.0) == []  # the same cluster: no second alert
    fourth = ticket(engine, "3", minutes_ago=1, sender="r-late")
    assert alerts.detect(3, 2.0) == []
    [still] = alerts.list()
    assert still.id == alert.id and still.ticket_count == 4 and still.ticket_numbers[-1] == fourth


def test_two_tickets_other_buildings_categories_or_old_tickets_raise_nothing(engine, alerts: AlertStore) -> None:
    ticket(engine, "3", minutes_ago=20)
    ticket(engine, "3", minutes_ago=10)
    assert alerts.detect(3, 2.0) == []  # two are no cluster
    ticket(engine, "5", minutes_ago=5)  # a third in another building
    ticket(engine, "3", category="electrical", minutes_ago=5)  # a third of another category
    ticket(engine, "3", minutes_ago=60 * 5)  # a third, but hours ago
    assert alerts.detect(3, 2.0) == []
    assert alerts.list(status=None) == []
    assert len(alerts.detect(3, 6.0)) == 1  # a longer window takes the old one in


def test_replicas_detecting_at_once_raise_one_alert(engine, database_url: str, incidents) -> None:
    for minutes in (15, 10, 5):
        ticket(engine, "8", category="elevator", minutes_ago=minutes, sender=f"lift{minutes}")
    replicas = [AlertStore(create_engine(database_url, future=True)) for _ in range(4)]
    results, barrier = [], threading.Barrier(len(replicas))

    def run(store: AlertStore) -> None:
        barrier.wait()
        results.append(len(store.detect(3, 2.0)))

    threads = [threading.Thread(target=run, args=(store,)) for store in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(AlertStore(engine).list(status=None)) == 1
    for store in replicas:
        store.engine.dispose()


def test_dismissed_or_declared_clusters_stay_quiet_until_new_tickets_cluster(engine, alerts: AlertStore,
                                                                             incidents: IncidentStore) -> None:
    for minutes in (40, 30, 20):
        ticket(engine, "2", minutes_ago=minutes, sender=f"d{minutes}")
    [first] = alerts.detect(3, 2.0)
    assert alerts.dismiss(first.id, "staff:admin").status == "dismissed"
    with pytest.raises(IncidentError) as twice:
        alerts.dismiss(first.id, "staff:admin")
    assert twice.value.status == 409
    assert alerts.detect(3, 2.0) == []  # the dismissed cluster does not come back
    for minutes in (3, 2, 1):
        ticket(engine, "2", minutes_ago=minutes, sender=f"n{minutes}", channel="telegram", language="en")
    [second] = alerts.detect(3, 2.0)
    assert second.id != first.id and second.ticket_count == 3

    incident, closed = alerts.declare(second.id, {"title_en": "Burst pipe, building 2"}, "staff:editor")
    assert (incident.kind, incident.buildings, incident.alert_id, closed.status, closed.incident_id) == (
        "water", ["2"], second.id, "declared", incident.id)
    assert incident.title_en == "Burst pipe, building 2" and incident.title_zh == "2号楼停水/漏水"
    links = incidents.links(incident.id)
    assert sorted(l.conversation_id for l in links) == ["telegram:n1", "telegram:n2", "telegram:n3"]
    assert {l.language for l in links} == {"en"} and all(l.ticket_number for l in links)
    with pytest.raises(IncidentError):
        alerts.declare(second.id, {}, "staff:editor")
    assert incidents.count() == 1
    for minutes in (0.5, 0.4, 0.3):
        ticket(engine, "2", minutes_ago=minutes, sender=f"x{minutes}")
    assert alerts.detect(3, 2.0) == []  # the active incident explains these reports


def _noon_zone() -> str:
    """A time zone in which NOW is about noon, so "today" never straddles midnight."""
    offset = 12 - NOW.hour
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_rising_categories_and_buildings_against_the_previous_week(engine) -> None:
    for day in range(1, 8):  # one electrical ticket a day in building 1 for a week
        ticket(engine, "1", category="electrical", minutes_ago=day * 24 * 60 + 1, sender=f"e{day}")
    for minutes in (3, 2, 1):
        ticket(engine, "4", category="plumbing", minutes_ago=minutes, sender=f"p{minutes}")
    ticket(engine, "1", category="electrical", minutes_ago=1, sender="e0")
    summary = rising(engine, _noon_zone(), days=7, now=NOW)
    plumbing = next(r for r in summary["categories"] if r["category"] == "plumbing")
    electrical = next(r for r in summary["categories"] if r["category"] == "electrical")
    assert (plumbing["today"], plumbing["average"], plumbing["rising"]) == (3, 0, True)
    assert (electrical["today"], electrical["average"], electrical["rising"]) == (1, 1.0, False)
    assert [r["building"] for r in summary["rising"]["buildings"]] == ["4"]
    assert summary["categories"][0]["category"] == "plumbing"
