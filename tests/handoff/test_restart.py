"""A restart of the service during handoffs keeps them; a queued handoff times out into a callback offer."""

from __future__ import annotations

import re
import time
from pathlib import Path
import pytest
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.handoff.conftest import ADMIN_PASSWORD, Desk, create_account, handoff_of
from tests.servers import Stack, start_stack

TIMEOUT = 20  # seconds a handoff may wait for an agent in this test


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("handoff-restart")


def start(workdir: Path, model: Path) -> Stack:
    return start_stack(workdir, model, {"HANDOFF_TIMEOUT_SECONDS": str(TIMEOUT), "LINLI_COMPLAINTS_TO_HUMAN": "true"})


def bot_texts(stack: Stack, sender: str) -> list:
    return [e.get("text") or "" for e in stack.tracker(sender)["events"] if e["event"] == "bot"]


def test_restart_keeps_handoffs_and_the_timeout_offers_a_callback(workdir: Path, trained_model: Path) -> None:
    stack = start(workdir, trained_model)
    try:
        create_account(stack, "boss", ADMIN_PASSWORD, "admin")
        desk = Desk(stack.rasa_url)
        login = desk.login("boss", ADMIN_PASSWORD)
        assert login.status_code == 200
        token = login.json()["token"]
        # One conversation taken by an agent, one still waiting in the queue.
        assert "转接人工客服" in stack.say("taken-1", "转人工")
        taken = handoff_of(desk, "taken-1")
        desk.post(f"/api/handoffs/{taken['id']}/take")
        assert "转接人工客服" in stack.say("waiting-1", "请帮我转人工客服")
        waiting = handoff_of(desk, "waiting-1")
        assert waiting["status"] == "queued"
    finally:
        stack.stop()

    stack = start(workdir, trained_model)
    try:
        # The session, the queue and the silence survive the restart.
        desk = Desk(stack.rasa_url)
        desk.http.headers["Authorization"] = f"Bearer {token}"
        assert desk.get("/api/me").json()["user"]["username"] == "boss"
        assert handoff_of(desk, "taken-1")["status"] == "active"
        assert stack.chat("taken-1", "你们还在吗？") == []
        relayed = desk.get(f"/api/handoffs/{taken['id']}/messages?after=0").json()["messages"]
        assert "你们还在吗？" in [m.get("text") for m in relayed if m["from"] == "resident"]
        assert desk.post(f"/api/handoffs/{taken['id']}/reply", {"text": "在的，请讲"}).status_code == 200
        assert "在的，请讲" in bot_texts(stack, "taken-1")
        assert desk.post(f"/api/handoffs/{taken['id']}/close").status_code == 200
        assert "邻里小助手" in stack.say("taken-1", "你好")

        # LINLI_COMPLAINTS_TO_HUMAN=true (this stack): a complaint goes to staff, not to the complaint form.
        answer = stack.say("complainer-1", "我要投诉，楼上每天半夜装修太吵了")
        assert "请稍候" in answer and "发生了什么" not in answer and "在哪里" not in answer, answer
        complaint = handoff_of(desk, "complainer-1")
        assert complaint["reason"] == "complaint"
        assert desk.post(f"/api/handoffs/{complaint['id']}/take").status_code == 200

        # Nobody took the other one: after the timeout the resident is told and offered a callback.
        deadline = time.monotonic() + TIMEOUT + 30
        while time.monotonic() < deadline and not any("回电" in t for t in bot_texts(stack, "waiting-1")):
            time.sleep(1)
        assert any("没有客服人员" in t and "回电" in t for t in bot_texts(stack, "waiting-1"))
        timed_out = desk.get("/api/handoffs?status=timed_out").json()["handoffs"]
        assert waiting["id"] in [h["id"] for h in timed_out]
        answer = stack.say("waiting-1", "好的")
        number = re.search(r"\bTS-\d{8}-\d{4}\b", answer)
        assert number and "回电" in answer, answer
        ticket = TicketStore(create_engine(stack.database_url, future=True)).get(number.group(0))
        assert ticket.category == "callback" and ticket.sender_id == "waiting-1"
        assert desk.get(f"/api/handoffs/{waiting['id']}").json()["handoff"]["callback_ticket"] == number.group(0)
        # Saying yes again does not file a second ticket.
        assert number.group(0) not in stack.say("waiting-1", "好的")
    finally:
        stack.stop()
