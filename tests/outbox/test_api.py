"""The outbox on the real server: dead letters on the desk API, a retry that delivers, desk replies.

One service for the module, with WeChat at a local double that can be down, and
retries a fraction of a second apart (LINLI_OUTBOX_*), so a message runs through
all its attempts within a test.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.browser import Browser, find_chromium
from tests.handoff.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, Desk, create_account, handoff_of
from tests.outbox.helpers import FlakyWeChat
from tests.servers import Stack, start_stack

MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, flaky_wechat: FlakyWeChat) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("outbox"), trained_model, {
        "WECHAT_TOKEN": "outbox-test-token",
        "WECHAT_APP_ID": "wx-outbox-test",
        "WECHAT_APP_SECRET": "outbox-test-secret",
        "WECHAT_ENCODING_AES_KEY": "",
        "WECHAT_API_BASE_URL": f"{flaky_wechat.url}/wechat",
        "TELEGRAM_TOKEN": "",
        "REDIS_URL": "",
        "KNOWLEDGE_WARM_UP": "0",
        "LINLI_NOTIFY_INTERVAL": "0.5",
        "LINLI_OUTBOX_INTERVAL": "0.5",
        "LINLI_OUTBOX_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "LINLI_OUTBOX_BACKOFF": "0.2",
        "LINLI_OUTBOX_MAX_BACKOFF": "0.4",
    })
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def desks(service: Stack) -> Dict[str, Desk]:
    """A logged-in admin and agent."""
    suffix = uuid.uuid4().hex[:6]
    create_account(service, f"boss{suffix}", ADMIN_PASSWORD, "admin")
    create_account(service, f"zhao{suffix}", AGENT_PASSWORD, "agent")
    admin, agent = Desk(service.rasa_url), Desk(service.rasa_url)
    assert admin.login(f"boss{suffix}", ADMIN_PASSWORD).status_code == 200
    assert agent.login(f"zhao{suffix}", AGENT_PASSWORD).status_code == 200
    return {"admin": admin, "agent": agent}


def dead_letter(service: Stack, desk: Desk, flaky_wechat: FlakyWeChat) -> Dict[str, Any]:
    """A ticket notification sent while WeChat is down, after its last attempt."""
    openid = f"o-dead-{uuid.uuid4().hex[:8]}"
    tickets = TicketStore(create_engine(service.database_url, future=True))
    ticket = tickets.create(ticket_type="repair", channel="wechat", sender_id=openid, description="漏水", language="zh")
    flaky_wechat.wechat_down = True
    try:
        tickets.change_status(ticket.number, "in_progress", actor="staff:test")  # as the desk or a script would
        dead = wait_for_message(desk, "dead", f"wechat:{openid}")
    finally:
        flaky_wechat.wechat_down = False
    dead["ticket"] = ticket.number
    return dead


def wait_for_message(desk: Desk, status: str, resident: str, timeout: float = 30) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = desk.get(f"/api/outbox?status={status}&limit=100").json()["messages"]
        found = [m for m in listed if m["resident"] == resident]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {status} message to {resident} within {timeout}s")


def test_the_routes_need_a_session_and_retrying_needs_an_admin(service: Stack, desks: Dict[str, Desk]) -> None:
    for method, path in (("GET", "/api/outbox"), ("POST", "/api/outbox/1/retry")):
        answer = requests.request(method, service.rasa_url + path, json={}, timeout=30)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthenticated"
    agent, admin = desks["agent"], desks["admin"]
    assert agent.get("/api/outbox").status_code == 200
    assert agent.post("/api/outbox/1/retry").status_code == 403
    assert admin.get("/api/outbox?status=lost").status_code == 400
    assert admin.get("/api/outbox?limit=many").status_code == 400
    assert admin.post("/api/outbox/999999/retry").status_code == 404
    paths = admin.get("/api/openapi.json").json()["paths"]
    assert "get" in paths["/api/outbox"] and "post" in paths["/api/outbox/{message_id}/retry"]


def test_a_dead_letter_is_listed_on_the_desk_and_a_retry_delivers_it(
    service: Stack, desks: Dict[str, Desk], flaky_wechat: FlakyWeChat
) -> None:
    admin = desks["admin"]
    dead = dead_letter(service, admin, flaky_wechat)
    openid = dead["platform_id"]
    expected = f"您的报修工单 {dead['ticket']} 状态已更新为：处理中。"
    assert dead["channel"] == "wechat" and dead["kind"] == "notification" and dead["text"] == expected
    assert dead["attempts"] == MAX_ATTEMPTS and "WeChat could not deliver" in dead["last_error"]
    assert dead["age_seconds"] >= 0 and dead["resident"] == f"wechat:{openid}"
    assert flaky_wechat.delivered(openid) == []

    retried = admin.post(f"/api/outbox/{dead['id']}/retry")
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert body["delivered"] is True and body["delivery"] == "sent" and body["message"]["status"] == "sent"
    assert flaky_wechat.delivered(openid) == [expected]
    assert admin.post(f"/api/outbox/{dead['id']}/retry").status_code == 409  # sent: nothing to retry
    assert dead["id"] in [m["id"] for m in admin.get("/api/outbox?status=sent&limit=500").json()["messages"]]
    assert dead["id"] not in [m["id"] for m in admin.get("/api/outbox?status=dead").json()["messages"]]
    # In the transcript once, although it took four attempts.
    lines = [e for e in service.tracker(f"wechat:{openid}")["events"] if e["event"] == "bot" and e.get("text") == expected]
    assert len(lines) == 1 and lines[0]["metadata"] == {"notification": dead["ticket"]}
    audit = admin.get("/api/audit?limit=50").json()["entries"]
    assert any(e["action"] == "retry_delivery" and e["subject"] == f"outbox {dead['id']}" for e in audit)


def test_paging_through_messages(service: Stack, desks: Dict[str, Desk]) -> None:
    admin = desks["admin"]
    everything = admin.get("/api/outbox?status=dead,sent,pending,undeliverable&limit=500").json()
    first = admin.get("/api/outbox?status=dead,sent,pending,undeliverable&limit=1").json()
    second = admin.get("/api/outbox?status=dead,sent,pending,undeliverable&limit=1&offset=1").json()
    assert first["total"] == everything["total"] >= 1 and set(first["counts"]) >= {"dead", "sent", "pending"}
    ids: List[int] = [m["id"] for m in everything["messages"]]
    assert [m["id"] for m in first["messages"]] == ids[:1] and [m["id"] for m in second["messages"]] == ids[1:2]


def test_a_desk_reply_to_a_rest_conversation_is_undeliverable_not_a_dead_letter(
    service: Stack, desks: Dict[str, Desk]
) -> None:
    agent = desks["agent"]
    sender = f"outbox-{uuid.uuid4().hex[:8]}"
    assert "转接人工客服" in service.say(sender, "转人工")
    handoff = handoff_of(agent, sender)
    reply = agent.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "您好，我在。"}).json()
    assert reply["delivered"] is False and reply["delivery"] == "undeliverable" and "rest" in reply["error"]
    listed = wait_for_message(agent, "undeliverable", f"rest:{sender}")
    assert listed["id"] == reply["outbox_id"] and listed["kind"] == "agent_reply"
    assert all(m["resident"] != f"rest:{sender}" for m in agent.get("/api/outbox?status=dead").json()["messages"])
    # The transcript has the reply once (the desk wrote it before queueing it).
    texts = [e.get("text") for e in service.tracker(sender)["events"] if e["event"] == "bot"]
    assert texts.count("您好，我在。") == 1
    agent.post(f"/api/handoffs/{handoff['id']}/close")


async def test_the_deliveries_view_lists_dead_letters_and_sends_them_again(
    service: Stack, desks: Dict[str, Desk], flaky_wechat: FlakyWeChat
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.fail("Headless Chromium is required: run scripts/install_browser.sh (Debian: chromium chromium-driver)")
    dead = dead_letter(service, desks["admin"], flaky_wechat)
    row = f"#delivery-table tr.delivery-row[data-id='{dead['id']}']"
    text_of = lambda selector: f"((document.querySelector({json.dumps(selector)}) || {{}}).textContent || '')"  # noqa: E731
    async with Browser(chromium) as page:
        await page.goto(f"{service.rasa_url}/console")
        await page.wait_for("!!document.querySelector('#login-form')")
        await page.evaluate(f"document.querySelector('#login-username').value = {json.dumps(desks['admin'].user['username'])}")
        await page.evaluate(f"document.querySelector('#login-password').value = {json.dumps(ADMIN_PASSWORD)}")
        await page.evaluate("document.querySelector('#login-submit').click()")
        await page.wait_for("!document.querySelector('#nav').hidden")
        await page.evaluate("document.querySelector(\"#nav button[data-view='deliveries']\").click()")
        await page.wait_for(f"!!document.querySelector({json.dumps(row)})")
        shown = await page.evaluate(text_of(row))
        # Channel, resident, kind, reason and attempts are on the row; dead letters are the default list.
        assert "wechat" in shown and dead["platform_id"] in shown and "WeChat could not deliver" in shown
        assert str(MAX_ATTEMPTS) in shown and ("ticket update" in shown or "工单通知" in shown)
        assert await page.evaluate(f"document.querySelector({json.dumps(row + ' button.retry')}).disabled") is False
        await page.evaluate(f"document.querySelector({json.dumps(row + ' button.retry')}).click()")
        await page.wait_for(f"{text_of('#delivery-result')}.includes('#{dead['id']}')")
        result = await page.evaluate(text_of("#delivery-result"))
        assert "Sent" in result or "已发送" in result, result
        await page.wait_for(f"!document.querySelector({json.dumps(row)})")  # no longer a dead letter
    assert flaky_wechat.delivered(dead["platform_id"]) == [dead["text"]]
