"""Residence and notices over the real service: a Telegram resident states where they live and
confirms it in the conversation, a REST resident denies; a WeChat resident opts out by writing
"退订通知"; staff add a unit to a widget resident; an admin previews and sends a notice to one
building, which reaches exactly its residents on WeChat, Telegram and the widget (fake WeChat
and Telegram servers at their HTTP boundary), each in their language; the report's numbers;
an urgent notice reaches the resident who opted out; the API's refusals (401/403/400/404/409)."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any, Dict, List

from sqlalchemy import create_engine

from bot.residence.store import ResidenceStore
from bot.tickets import TicketStore
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.test_telegram import TelegramServer
from tests.channels.wechat_client import WeChatServer, text_xml
from tests.handoff.conftest import Desk
from tests.handoff.resident import WidgetResident
from tests.servers import Stack

NOTICE = {"title_zh": "停水通知", "body_zh": "3号楼明天9:00-12:00停水检修，请提前储水。", "title_en": "Water cut",
          "body_en": "Building 3: no water tomorrow 9:00-12:00 for maintenance. Please store some water."}


def texts(calls: List[Any]) -> str:
    return "\n".join(c.params.get("text", "") for c in calls)


def wechat_texts(fakes: FakeApis, openid: str) -> List[str]:
    return [c.params["text"]["content"] for c in fakes.find("wechat", "message/custom/send", touser=openid)]


def report_of(desk: Desk, notice_id: int, settled: bool = True) -> Dict[str, Any]:
    """The notice's report, once nothing is queued any more (the outbox worker is quick)."""
    deadline = time.monotonic() + 30
    while True:
        report = desk.get(f"/api/notices/{notice_id}/report").json()["report"]
        if not settled or report["counts"]["queued"] == 0 or time.monotonic() > deadline:
            return report
        time.sleep(0.3)


def test_residence_and_a_building_notice_end_to_end(notices_stack: Stack, notice_fakes: FakeApis,
                                                    notice_admin: Desk, notice_agent: Desk) -> None:
    engine = create_engine(notices_stack.database_url, future=True)
    residence, tickets = ResidenceStore(engine), TicketStore(engine)
    tag = uuid.uuid4().hex[:6]

    # Telegram: a statement, the confirmation question, "是": stored.
    telegram = TelegramServer(notices_stack, notice_fakes)
    chat_id = random.randint(10**8, 10**9)
    asked = texts(telegram.say(chat_id, "我住3栋2单元502"))
    assert "您住在3栋2单元502，对吗？" in asked
    assert residence.units_of("telegram", str(chat_id)) == []
    assert "已记下您住在3栋2单元502" in texts(telegram.say(chat_id, "是"))
    assert [(u.key, u.source) for u in residence.units_of("telegram", str(chat_id))] == [("3-2-502", "stated")]

    # REST: "不是" stores nothing.
    rest = f"deny-{tag}"
    assert "您住在5栋1203，对吗？" in notices_stack.say(rest, "我家是5号楼1203")
    assert "没有记录" in notices_stack.say(rest, "不是")
    assert residence.units_of("rest", rest) == []

    # WeChat: an English resident of building 3 (a ticket), and one who opts out in the chat.
    wechat = WeChatServer(notices_stack.rasa_url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)
    english, opted = f"o-en-{tag}", f"o-out-{tag}"
    tickets.create(ticket_type="repair", channel="wechat", sender_id=english, description="leak", language="en",
                   building="3", entrance="1", room="301", unit="3栋1单元301")
    tickets.create(ticket_type="repair", channel="wechat", sender_id=opted, description="漏水",
                   building="3", entrance="2", room="701", unit="3栋2单元701")
    assert wechat.post(text_xml(english, "Hello"), openid=english).status == 200
    reply = wechat.post(text_xml(opted, "退订通知"), openid=opted)
    assert "已为您退订非紧急的物业通知" in ((reply.content or "") + "".join(wechat_texts(notice_fakes, opted)))

    # The widget: staff add the resident's unit on the desk.
    widget = WidgetResident(notices_stack.rasa_url)
    other_building = random.randint(10**8, 10**9)
    tickets.create(ticket_type="repair", channel="telegram", sender_id=str(other_building), description="灯坏了",
                   building="5", room="1203", unit="5栋1203")
    try:
        widget.say("你好")
        widget.wait_for("邻里")
        resident = f"socketio:{widget.session_id}"
        added = notice_agent.post(f"/api/residents/{resident}/units", {"unit": "3栋1单元1101"})
        assert added.status_code == 200, added.text
        assert [(u["unit"], u["source"]) for u in added.json()["residence"]] == [("3栋1单元1101", "staff")]
        assert notice_agent.post(f"/api/residents/{resident}/units", {"unit": "somewhere"}).status_code == 400
        assert notice_agent.post(f"/api/residents/{resident}/units", {"unit": "9栋101"}).status_code == 200
        removed = notice_agent.http.delete(f"{notices_stack.rasa_url}/api/residents/{resident}/units/9--101", json={})
        assert removed.status_code == 200 and [u["key"] for u in removed.json()["residence"]] == ["3-1-1101"]
        gone = notice_agent.http.delete(f"{notices_stack.rasa_url}/api/residents/{resident}/units/9--101", json={})
        assert gone.status_code == 404
        panel = notice_agent.get(f"/api/residents/{resident}").json()["resident"]
        assert [u["source"] for u in panel["residence"]] == ["staff"] and panel["notices_subscribed"] is True
        assert notice_agent.get(f"/api/residents/wechat:{opted}").json()["resident"]["notices_subscribed"] is False

        # Preview, then send to building 3.
        target = {"kind": "buildings", "buildings": ["3"]}
        preview = notice_admin.post("/api/notices/preview", {"target": target}).json()["preview"]
        assert (preview["total"], preview["will_send"], preview["opted_out"]) == (4, 3, 1)
        assert preview["by_channel"] == {"telegram": 1, "wechat": 1, "socketio": 1}
        created = notice_admin.post("/api/notices", {**NOTICE, "target": target})
        assert created.status_code == 201, created.text
        notice_id = created.json()["notice"]["id"]
        assert created.json()["notice"]["status"] == "draft"
        sent = notice_admin.post(f"/api/notices/{notice_id}/send")
        assert sent.status_code == 200, sent.text

        telegram_notice = notice_fakes.wait_for(lambda: [c for c in telegram.sent_to(chat_id)
                                                         if "【物业通知】" in c.params["text"]])
        assert telegram_notice[0].params["text"].startswith("【物业通知】停水通知\n" + NOTICE["body_zh"])
        english_notice = notice_fakes.wait_for(lambda: [t for t in wechat_texts(notice_fakes, english)
                                                        if "[Property notice]" in t])
        assert english_notice[0].startswith("[Property notice] Water cut\n" + NOTICE["body_en"])
        assert "停水通知" in widget.wait_for("【物业通知】停水通知")[-1]

        report = report_of(notice_admin, notice_id)
        assert report["counts"] == {"sent": 3, "queued": 0, "failed": 0, "undeliverable": 0, "skipped": 1, "total": 4}
        assert {r["resident"]: r["status"] for r in report["recipients"]} == {
            f"telegram:{chat_id}": "sent", f"wechat:{english}": "sent", f"wechat:{opted}": "skipped", resident: "sent"}
        assert not [t for t in wechat_texts(notice_fakes, opted) if "停水" in t]
        assert not [c for c in telegram.sent_to(other_building)]  # building 5
        # Delivered notices are in the residents' transcripts.
        events = notices_stack.tracker(str(chat_id), channel="telegram")["events"]
        assert any(e.get("event") == "bot" and (e.get("metadata") or {}).get("notice") == notice_id for e in events)

        # Sent once; agents read the list and the report but cannot send.
        assert notice_admin.post(f"/api/notices/{notice_id}/send").status_code == 409
        listed = notice_agent.get("/api/notices").json()["notices"]
        assert listed[0]["id"] == notice_id and listed[0]["counts"]["sent"] == 3
        assert notice_agent.get(f"/api/notices/{notice_id}").json()["notice"]["report"]["counts"]["skipped"] == 1

        # An urgent notice to the opted-out resident's unit reaches them anyway.
        urgent = notice_admin.post("/api/notices", {**NOTICE, "title_zh": "紧急停水", "urgent": True,
                                                    "target": {"kind": "units", "units": ["3-2-701"]}}).json()["notice"]
        assert notice_admin.post(f"/api/notices/{urgent['id']}/send").status_code == 200
        assert notice_fakes.wait_for(lambda: [t for t in wechat_texts(notice_fakes, opted) if "【紧急通知】紧急停水" in t])
        assert report_of(notice_admin, urgent["id"])["counts"]["sent"] == 1
    finally:
        widget.close()


def test_the_notices_api_refuses_what_it_must(notices_stack: Stack, notice_admin: Desk, notice_agent: Desk) -> None:
    anonymous = Desk(notices_stack.rasa_url)
    assert anonymous.get("/api/notices").status_code == 401
    assert anonymous.post("/api/notices", {**NOTICE, "target": {"kind": "all"}}).status_code == 401
    before = notice_admin.get("/api/notices").json()["total"]
    good = {**NOTICE, "target": {"kind": "all"}}
    assert notice_agent.post("/api/notices", good).status_code == 403
    assert notice_agent.post("/api/notices/preview", {"target": {"kind": "all"}}).status_code == 403
    for change, code in [({"title_en": " "}, "missing_field"), ({"body_zh": "长" * 2001}, "too_long"),
                         ({"urgent": "yes"}, "bad_urgent"), ({"target": {"kind": "floor"}}, "bad_target"),
                         ({"target": {"kind": "buildings", "buildings": ["the tall one"]}}, "bad_building"),
                         ({"target": {"kind": "units", "units": ["3栋"]}}, "bad_unit")]:
        refused = notice_admin.post("/api/notices", {**good, **change})
        assert (refused.status_code, refused.json()["error"]) == (400, code), change
    assert notice_admin.post("/api/notices/preview", {"target": {"kind": "units", "units": []}}).status_code == 400
    assert notice_admin.get("/api/notices").json()["total"] == before  # nothing was stored
    draft = notice_admin.post("/api/notices", good).json()["notice"]
    assert notice_agent.post(f"/api/notices/{draft['id']}/send").status_code == 403
    assert notice_admin.get(f"/api/notices/{draft['id']}").json()["notice"]["status"] == "draft"  # not sent
    assert notice_admin.get("/api/notices/999999").status_code == 404
    assert notice_admin.post("/api/notices/999999/send").status_code == 404
    assert notice_agent.get("/api/notices/targets").status_code == 403
    assert notice_admin.get("/api/notices/targets").status_code == 200
