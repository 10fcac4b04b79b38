"""The staff assistant end to end over the real servers: filing for a caller, building look-ups, a ticket's
status, counts, regulation answers, the audit log, and that a resident's session reaches none of it."""

from __future__ import annotations

import uuid
from typing import Any, Dict

import pytest
import requests
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.assist.conftest import Desk
from tests.servers import Stack

FILE_ZH = "给3栋2单元502登记报修，厨房水管漏水，业主电话13812345678，不急"
FILE_EN = "file a repair for building 3 unit 2 room 502, kitchen pipe leaking, phone 13812345678, not urgent"


@pytest.fixture(scope="module")
def store(stack: Stack) -> TicketStore:
    return TicketStore(create_engine(stack.database_url, future=True))


def ask(desk: Desk, text: str) -> Dict[str, Any]:
    response = desk.http.post(f"{desk.base_url}/api/assistant/messages", json={"text": text}, timeout=180)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_staff_member_files_a_repair_for_a_caller(stack: Stack, agent: Desk, admin: Desk, store: TicketStore) -> None:
    answer = ask(agent, FILE_ZH)
    assert answer["intent"] == "file_repair" and answer["language"] == "zh"
    card = answer["draft"]
    assert {k: card[k] for k in ("description", "place", "phone", "urgency", "category", "channel")} == {
        "description": "厨房水管漏水", "place": "3栋2单元502", "phone": "13812345678", "urgency": "normal",
        "category": "plumbing", "channel": "phone"}
    assert card["missing"] == [] and card["draft_id"]
    assert ask(agent, FILE_EN)["draft"]["description"] == "kitchen pipe leaking"
    before = len(store.search(limit=500))  # nothing is filed before the card is confirmed
    card.update(channel="walk-in", urgency="urgent")
    filed = agent.post("/api/assistant/repairs", card)
    assert filed.status_code == 201, filed.text
    ticket = filed.json()["ticket"]
    assert ticket["channel"] == "walk-in" and ticket["unit"] == "3栋2单元502" and ticket["building"] == "3"
    assert ticket["phone"] == "13812345678" and ticket["urgency"] == "urgent" and ticket["category"] == "plumbing"
    assert ticket["events"][0]["action"] == "created"
    assert ticket["events"][0]["actor"] == f"staff:{agent.user['username']}"
    assert ticket["number"] in filed.json()["reply"]
    # The same card twice (a double click) files one ticket.
    assert agent.post("/api/assistant/repairs", card).json()["ticket"]["number"] == ticket["number"]
    assert len(store.search(limit=500)) == before + 1
    stored = store.get(ticket["number"])
    assert stored.channel == "walk-in" and stored.events[0].actor == f"staff:{agent.user['username']}"
    entries = admin.get(f"/api/audit?actor=staff:{agent.user['username']}&limit=50").json()["entries"]
    actions = {e["action"] for e in entries}
    assert {"assistant_draft_repair", "assistant_file_repair"} <= actions
    assert any(e["action"] == "assistant_file_repair" and e["subject"] == ticket["number"] for e in entries)


def test_a_card_with_wrong_fields_is_refused_and_files_nothing(agent: Desk, editor: Desk, store: TicketStore) -> None:
    card = ask(agent, FILE_ZH)["draft"]
    before = len(store.search(limit=500))
    wrong = agent.post("/api/assistant/repairs", {**card, "place": "那边", "phone": "12345", "channel": "fax"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"place": "place_unknown", "phone": "phone_invalid", "channel": "channel_unknown"}
    partial = agent.post("/api/assistant/repairs", {**card, "place": "3栋"}).json()
    assert partial["errors"]["place"].startswith("place_missing")
    assert agent.post("/api/assistant/repairs", {**card, "description": ""}).json()["errors"] == {"description": "required"}
    # Editors keep the knowledge base: they may look up, not file.
    assert editor.post("/api/assistant/repairs", card).status_code == 403
    assert "draft" not in ask(editor, FILE_ZH)
    assert len(store.search(limit=500)) == before


def test_the_building_query_returns_exactly_its_open_tickets(agent: Desk, store: TicketStore) -> None:
    building = str(70 + uuid.uuid4().int % 29)
    for t in store.search(building=building, limit=500):  # a building of this run only
        if t.status not in ("resolved", "closed"):
            store.change_status(t.number, "resolved", "test")
    make = lambda **kw: store.create(channel="rest", sender_id=f"b-{uuid.uuid4().hex[:6]}", language="zh",
                                     description="水管漏水", **kw).number  # noqa: E731
    flat = dict(unit=f"{building}栋1单元101", location=f"{building}栋1单元101", building=building)
    open_ones = {make(ticket_type="repair", **flat), make(ticket_type="repair", **flat)}
    assigned = make(ticket_type="repair", **flat)
    store.assign(assigned, "someone", "test")
    open_ones.add(assigned)
    done = make(ticket_type="repair", **flat)
    store.change_status(done, "resolved", "test")
    make(ticket_type="complaint", **flat)
    make(ticket_type="repair", unit="1栋1单元101", location="1栋1单元101", building="1")
    for text in (f"{building}号楼还有哪些没处理的报修？", f"open repairs in building {building}"):
        answer = ask(agent, text)
        assert answer["intent"] == "open_in_building"
        assert {t["number"] for t in answer["tickets"]} == open_ones, text
        assert answer["total"] == 3 and str(3) in answer["reply"]
    assert all("****" in (t["phone"] or "****") for t in answer["tickets"])


def test_ticket_status_and_counts(agent: Desk, store: TicketStore) -> None:
    number = store.create(ticket_type="repair", channel="rest", sender_id="s-1", description="门锁坏了",
                          unit="9栋1单元909", location="9栋1单元909", building="9", category="doors_locks").number
    answer = ask(agent, f"{number} 现在什么状态")
    assert answer["intent"] == "ticket_status" and answer["tickets"][0]["number"] == number
    assert number in answer["reply"] and "待处理" in answer["reply"]
    assert "no ticket" in ask(agent, "status of BX-20000101-0001?")["reply"].lower()
    before = ask(agent, "今天新增了多少投诉")
    assert before["intent"] == "count" and before["counts"]["ticket_type"] == "complaint"
    store.create(ticket_type="complaint", channel="rest", sender_id="s-2", description="楼上太吵")
    after = ask(agent, "how many complaints today")
    assert after["language"] == "en" and after["counts"]["count"] == before["counts"]["count"] + 1
    assert str(after["counts"]["count"]) in after["reply"]


def test_regulation_and_faq_answers_source_first_with_abstention(agent: Desk) -> None:
    answer = ask(agent, "物业费是怎么收费的？")
    assert answer["intent"] == "question" and answer["answer"]["abstained"] is False
    assert answer["answer"]["sources"] and answer["reply"].startswith("【" + answer["answer"]["sources"][0])
    assert "2.5" in answer["reply"]
    unknown = ask(agent, "火星上的量子计算机用什么编程语言？")
    assert unknown["answer"]["abstained"] is True and unknown["answer"]["sources"] == []


def test_a_resident_session_reaches_nothing_of_the_assistant(stack: Stack, agent: Desk, store: TicketStore,
                                                             sender: str) -> None:
    widget = requests.post(f"{stack.rasa_url}/chat/session", timeout=20).json()
    routes = [("post", "/api/assistant/messages", {"text": "今天新增了多少投诉"}),
              ("post", "/api/assistant/repairs", {"description": "漏水", "place": "3栋2单元502", "phone": "13812345678"})]
    for headers in ({}, {"Authorization": f"Bearer {widget['session_token']}"},
                    {"Authorization": f"Bearer {stack.rest_token}"}, {"Cookie": f"linli_session={widget['session_token']}"}):
        for method, path, payload in routes:
            response = requests.request(method, stack.rasa_url + path, json=payload, headers=headers, timeout=20)
            assert response.status_code == 401, (path, headers, response.text)
    # Staff phrasing sent to the residents' assistant is a resident's message: nothing staff-only happens.
    seeded = store.create(ticket_type="repair", channel="rest", sender_id="someone-else", description="水管漏水",
                          unit="5栋1单元501", location="5栋1单元501", building="5").number
    before = [t.number for t in store.search(limit=500) if t.channel in ("phone", "walk-in")]
    for text in ("5号楼还有哪些没处理的报修？", f"{seeded} 现在什么状态", "今天新增了多少投诉", FILE_ZH, "确认"):
        reply = stack.say(sender, text)
        assert seeded not in reply or text.startswith(seeded) and "没有找到" in reply or "not" in reply, reply
        assert "【" not in reply
    after = [t.number for t in store.search(limit=500) if t.channel in ("phone", "walk-in")]
    assert after == before
    assert not [t for t in store.search(limit=500) if t.events and t.events[0].actor.startswith("staff:")
                and t.sender_id == sender]
