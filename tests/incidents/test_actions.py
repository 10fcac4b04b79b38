"""The incident in conversation, on tracker fixtures (tests/actions/conftest.py): a matching repair
report is told about the incident and asked whether it is something else (zh and en); "something
else" goes on as a report, "the same" is linked and files no ticket; emergencies, other buildings
and other kinds are never deflected; a question about the outage is answered from the incident."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

from actions import incidents as incident_actions
from actions.answer_question import ActionAnswerQuestion
from actions.incidents import ActionAskIncidentOther, outage_reply
from actions.repair import ActionSubmitRepair
from actions.repair_form import ValidateRepairForm
from bot.incidents.store import IncidentStore
from bot.tickets import TicketStore
from tests.actions.conftest import make_tracker, slot_events

FORM = ValidateRepairForm()
END = datetime.now(timezone.utc) + timedelta(hours=3)


@pytest.fixture
def store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[IncidentStore]:
    url = f"sqlite:///{tmp_path / 'linli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    incident_actions.incident_store.cache_clear()
    from actions.common import ticket_store

    ticket_store.cache_clear()
    engine = create_engine(url, future=True)
    yield IncidentStore(engine)
    incident_actions.incident_store.cache_clear()
    ticket_store.cache_clear()
    engine.dispose()


def water(store: IncidentStore, **overrides):
    data = {"kind": "water", "title_zh": "3号楼二次供水水箱清洗停水", "title_en": "Water off in building 3: tank cleaning",
            "description_zh": "水箱清洗", "description_en": "The roof tank is being cleaned", "buildings": ["3"],
            "expected_end_at": END.isoformat()}
    data.update(overrides)
    return store.declare(data, "staff:admin")


def filled(language: str = "zh", incident_id=None, **extra):
    place = {"kind": "flat", "building": "3", "entrance": "2", "room": "502", "area": None, "missing": None}
    slots = {"repair_description": "卫生间漏水" if language == "zh" else "the bathroom tap is leaking",
             "repair_category": "plumbing", "unit": "3栋2单元502", "location": json.dumps(place), "language": language,
             "incident_id": str(incident_id) if incident_id else None}
    slots.update(extra)
    return slots


async def test_a_matching_report_is_told_about_the_incident_and_asked_zh(store, domain) -> None:
    incident = water(store)
    dispatcher = CollectingDispatcher()
    events = await FORM.run(dispatcher, make_tracker("3栋2单元502卫生间漏水了", intent="report_repair"), domain)
    slots = slot_events(events)
    assert slots["incident_id"] == str(incident.id) and slots["requested_slot"] == "incident_other"

    ask = CollectingDispatcher()
    await ActionAskIncidentOther().run(ask, make_tracker("3栋2单元502卫生间漏水了", requested="incident_other",
                                                         slots=filled(incident_id=incident.id)), domain)
    [message] = ask.messages
    assert "3号楼二次供水水箱清洗停水" in message["text"] and "预计恢复时间" in message["text"]
    assert "别的问题" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


async def test_a_matching_report_is_told_about_the_incident_and_asked_en(store, domain) -> None:
    incident = water(store, buildings=["3", "5"])
    events = await FORM.run(CollectingDispatcher(), make_tracker(
        "the kitchen sink in Building 5 Room 1203 is leaking", intent="report_repair", slots={"language": "en"}), domain)
    slots = slot_events(events)
    assert slots["incident_id"] == str(incident.id) and slots["requested_slot"] == "incident_other"
    ask = CollectingDispatcher()
    await ActionAskIncidentOther().run(ask, make_tracker("the kitchen sink is leaking", requested="incident_other",
                                                         slots=filled("en", incident.id)), domain)
    text = ask.messages[0]["text"]
    assert "Water off in building 3: tank cleaning" in text and "Buildings 3, 5" in text
    assert "Expected to be back" in text and "something else" in text


async def test_something_else_goes_on_as_a_normal_report(store, domain) -> None:
    incident = water(store)
    for text, language in (("是别的问题", "zh"), ("yes, something else", "en"), ("/affirm", "zh")):
        events = await FORM.run(CollectingDispatcher(), make_tracker(
            text, intent="affirm", requested="incident_other", slots=filled(language, incident.id)), domain)
        slots = slot_events(events)
        assert slots["incident_other"] is True and slots["incident_id"] is None, text
        assert slots["requested_slot"] == "urgency", text  # the report's next question
    # Answered: the incident is not asked again on the next turns of this report.
    events = await FORM.run(CollectingDispatcher(), make_tracker(
        "不急", requested="urgency", slots=filled(incident_other=True)), domain)
    assert slot_events(events)["requested_slot"] == "phone"


async def test_the_same_problem_is_linked_and_files_no_ticket(store, domain) -> None:
    incident = water(store)
    for text, language, sender in (("就是这个", "zh", "rest:same-zh"), ("no, it's the same", "en", "rest:same-en")):
        events = await FORM.run(CollectingDispatcher(), make_tracker(
            text, intent="deny", requested="incident_other", slots=filled(language, incident.id), sender=sender), domain)
        slots = slot_events(events)
        assert slots["incident_other"] is False and slots["requested_slot"] is None, text  # the form ends
        dispatcher = CollectingDispatcher()
        submitted = await ActionSubmitRepair().run(dispatcher, make_tracker(
            text, slots=filled(language, incident.id, incident_other=False), sender=sender), domain)
        assert slot_events(submitted)["incident_id"] is None  # the report's slots are reset
        reply = dispatcher.messages[0]["text"]
        assert (("不再另建工单" in reply) if language == "zh" else ("instead of a new ticket" in reply)), reply
        assert TicketStore(store.engine).list_for_sender("rest", sender.split(":")[1]) == []
    links = store.links(incident.id)
    assert [(l.link_type, l.conversation_id, l.language) for l in links] == [
        ("reported", "rest:same-zh", "zh"), ("reported", "rest:same-en", "en")]


async def test_an_incident_resolved_before_the_answer_links_nothing_and_says_so(store, domain) -> None:
    incident = water(store)
    store.resolve(incident.id, "staff:admin", "修好了")  # between the question and "就是这个"
    for language, text, expected in (("zh", "就是这个", "已经处理完毕"), ("en", "no, it's the same", "just been resolved")):
        dispatcher = CollectingDispatcher()
        await ActionSubmitRepair().run(dispatcher, make_tracker(
            text, slots=filled(language, incident.id, incident_other=False), sender=f"rest:late-{language}"), domain)
        said = [m.get("text") or m.get("response") for m in dispatcher.messages]
        assert any(expected in (t or "") for t in said), said
        assert TicketStore(store.engine).list_for_sender("rest", f"late-{language}") == []
    assert store.links(incident.id) == []


async def test_an_unclear_answer_gets_a_hint_then_the_report_goes_on(store, domain) -> None:
    incident = water(store)
    first = CollectingDispatcher()
    events = await FORM.run(first, make_tracker("这个嘛", requested="incident_other",
                                                slots=filled(incident_id=incident.id)), domain)
    assert slot_events(events)["requested_slot"] == "incident_other" and "是别的问题" in first.messages[0]["text"]
    events = await FORM.run(CollectingDispatcher(), make_tracker(
        "这个嘛", requested="incident_other",
        slots=filled(incident_id=incident.id, form_retries="incident_other:1")), domain)
    assert slot_events(events)["incident_other"] is True and slot_events(events)["requested_slot"] == "urgency"


async def test_cancel_and_emergencies_leave_the_form_and_are_never_deflected(store, domain) -> None:
    water(store)
    gas = store.declare({"kind": "gas", "title_zh": "全小区燃气管道检修", "community_wide": True}, "staff:admin")
    for text, intent in (("算了", "stop"), ("有很浓的煤气味", "emergency")):
        events = await FORM.run(CollectingDispatcher(), make_tracker(
            text, intent=intent, requested="incident_other", slots=filled(incident_id=gas.id)), domain)
        assert any(e.get("event") == "action_execution_rejected" for e in events), text
    # A report that names a hazard is not asked whether it is the gas works.
    events = await FORM.run(CollectingDispatcher(), make_tracker(
        "3栋2单元502厨房燃气泄漏，有很大煤气味", intent="report_repair"), domain)
    assert slot_events(events).get("incident_id") is None
    assert slot_events(events)["requested_slot"] != "incident_other"


async def test_other_buildings_and_other_kinds_are_not_deflected(store, domain) -> None:
    water(store)
    for text in ("5栋1单元1203卫生间漏水了", "3栋2单元502客厅插座没电了"):
        events = await FORM.run(CollectingDispatcher(), make_tracker(text, intent="report_repair"), domain)
        slots = slot_events(events)
        assert slots.get("incident_id") is None and slots["requested_slot"] != "incident_other", text


async def test_a_question_about_the_outage_is_answered_from_the_incident_and_linked(store, domain) -> None:
    incident = water(store)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, make_tracker(
        "3号楼停水了吗？", intent="ask_question", sender="rest:asker"), domain)
    assert events == []
    text = dispatcher.messages[0]["text"]
    assert "3号楼二次供水水箱清洗停水" in text and "预计恢复时间" in text and "恢复后我们会通知您" in text
    # Without a building in the message, the resident's own buildings (from their tickets) count.
    TicketStore(store.engine).create(ticket_type="repair", channel="rest", sender_id="en-asker", description="x",
                                     building="3", unit="3栋101", language="en")
    reply = await outage_reply(make_tracker("why is there no water?", intent="ask_question",
                                            slots={"language": "en"}, sender="rest:en-asker"), "why is there no water?", "en")
    assert reply and "Water off in building 3" in reply and "let you know when it is resolved" in reply
    # Someone elsewhere, or asking about something else, is left to the knowledge base.
    assert await outage_reply(make_tracker("5号楼停水了吗？", intent="ask_question"), "5号楼停水了吗？", "zh") is None
    assert await outage_reply(make_tracker("3号楼停电了吗？", intent="ask_question"), "3号楼停电了吗？", "zh") is None
    assert await outage_reply(make_tracker("水费怎么交？", intent="ask_question", sender="rest:en-asker"),
                              "水费怎么交？", "zh") is None
    assert [(l.link_type, l.conversation_id, l.language) for l in store.links(incident.id)] == [
        ("asked", "rest:asker", "zh"), ("asked", "rest:en-asker", "en")]
