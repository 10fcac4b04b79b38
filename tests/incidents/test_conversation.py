"""An incident end to end over the real stack: declared on the desk API, a matching report in
Chinese (REST) and one in English (Telegram, its API faked at the HTTP boundary) are told about it
and linked instead of becoming tickets, "something else" goes on as a report and can still be
cancelled, a question is answered from the incident; resolving it tells every linked resident on
their channel in their language through the outbox."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

from sqlalchemy import create_engine, select

from bot.outbox.models import outbox_table
from tests.channels.fakes import Call, FakeApis
from tests.incidents.conftest import TELEGRAM_SECRET, desk
from tests.servers import Stack, tickets_of


def telegram_say(stack: Stack, fakes: FakeApis, chat_id: int, text: str) -> str:
    """Post a message update as Telegram does; the bot's new messages to that chat, joined."""
    before = len(fakes.find("telegram", "sendMessage", chat_id=chat_id))
    update = {"update_id": random.randint(10**6, 10**9), "message": {
        "message_id": random.randint(1, 10**6), "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": "en"}}}
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(),
                                     {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
    calls: List[Call] = fakes.find("telegram", "sendMessage", chat_id=chat_id)[before:]
    return "\n".join(str(c.params.get("text", "")) for c in calls)


def outbox_rows(stack: Stack, conversation: str) -> List[Dict[str, Any]]:
    engine = create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(outbox_table).where(outbox_table.c.conversation_id == conversation, outbox_table.c.kind == "incident"))]
    finally:
        engine.dispose()


def test_an_incident_deflects_matching_reports_and_notifies_on_resolution(
        incident_stack: Stack, incident_fakes: FakeApis, staff: Dict[str, str], sender: str) -> None:
    editor = desk(incident_stack, staff, "editor")
    end = (datetime.now(timezone.utc) + timedelta(hours=4)).isoformat()
    declared = editor.post("/api/incidents", {
        "kind": "water", "title_zh": "9号楼水箱清洗停水", "title_en": "Water off in building 9 (tank cleaning)",
        "buildings": ["9"], "expected_end_at": end})
    assert declared.status_code == 201, declared.text
    incident = declared.json()["incident"]

    # Chinese, REST: told about the incident and asked; "就是这个" links the report, no ticket.
    zh, stays, asker = f"{sender}-zh", f"{sender}-other", f"{sender}-ask"
    asked = incident_stack.say(zh, "9栋2单元502卫生间漏水了")
    assert "9号楼水箱清洗停水" in asked and "预计恢复时间" in asked and "别的问题" in asked
    linked = incident_stack.say(zh, "就是这个")
    assert "不再另建工单" in linked and "9号楼水箱清洗停水" in linked
    assert tickets_of(incident_stack, zh) == []

    # "是别的问题": a normal report goes on, and can still be cancelled.
    assert "别的问题" in incident_stack.say(stays, "9栋1单元301厨房水管漏水")
    assert "紧急" in incident_stack.say(stays, "是别的问题")
    assert "已取消" in incident_stack.say(stays, "算了")
    assert tickets_of(incident_stack, stays) == []
    # Another building's report is an ordinary one.
    assert "别的问题" not in incident_stack.say(f"{sender}-b5", "5栋1单元301厨房水管漏水")

    # A question about the outage is answered from the incident.
    answer = incident_stack.say(asker, "9号楼什么时候来水？")
    assert "9号楼水箱清洗停水" in answer and "恢复后我们会通知您" in answer

    # English, Telegram: the same, in English.
    chat_id = random.randint(10**8, 10**9)
    asked_en = telegram_say(incident_stack, incident_fakes, chat_id, "the kitchen sink in Building 9 Room 1203 is leaking")
    assert "Water off in building 9" in asked_en and "something else" in asked_en
    linked_en = telegram_say(incident_stack, incident_fakes, chat_id, "no, it's the same")
    assert "instead of a new ticket" in linked_en
    assert tickets_of(incident_stack, f"telegram:{chat_id}") == []

    detail = editor.get(f"/api/incidents/{incident['id']}").json()
    assert detail["incident"]["links"] == {"asked": 1, "reported": 2}
    assert {(l["resident"], l["link_type"], l["language"]) for l in detail["links"]} == {
        (f"rest:{zh}", "reported", "zh"), (f"rest:{asker}", "asked", "zh"), (f"telegram:{chat_id}", "reported", "en")}

    # Resolved: each linked resident is told once, on their channel, in their language.
    resolved = editor.post(f"/api/incidents/{incident['id']}/resolve", {"note": "水箱已清洗完毕"})
    assert resolved.status_code == 200 and resolved.json()["notified"] == 3
    told = incident_fakes.wait_for(lambda: [c for c in incident_fakes.find("telegram", "sendMessage", chat_id=chat_id)
                                            if "Resolved" in str(c.params.get("text"))])
    assert len(told) == 1 and "Water off in building 9" in told[0].params["text"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(r["status"] == "pending" for r in outbox_rows(incident_stack, f"rest:{zh}")):
        time.sleep(0.3)
    [row] = outbox_rows(incident_stack, f"rest:{zh}")
    assert "已恢复" in row["text"] and "水箱已清洗完毕" in row["text"]
    assert row["status"] == "undeliverable"  # REST cannot push: recorded, never lost silently
    assert row["dedupe_key"] == f"incident:{incident['id']}:resolved:rest:{zh}"
    template = row["payload"]["template"]
    assert template["name"] == "incident" and set(template["fields"]) == {"title", "status", "body", "time"}
    assert template["fields"]["status"] == "已恢复" and template["fields"]["title"] == "9号楼水箱清洗停水"
    [telegram_row] = outbox_rows(incident_stack, f"telegram:{chat_id}")
    assert telegram_row["status"] == "sent" and telegram_row["payload"]["template"]["fields"]["status"] == "Resolved"
    # Resolving again changes nothing and tells nobody twice.
    assert editor.post(f"/api/incidents/{incident['id']}/resolve", {}).status_code == 409
    assert len(outbox_rows(incident_stack, f"rest:{zh}")) == 1
    # Over: the same report is a normal one again.
    assert "别的问题" not in incident_stack.say(f"{sender}-after", "9栋2单元502卫生间漏水了")
