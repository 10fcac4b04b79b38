"""Satisfaction over the real stack: asked on the resident's channel, answered in the dialogue,
counted on the desk (API, ticket page, dashboard)."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest
import requests
from sqlalchemy import create_engine

from bot.satisfaction.store import SatisfactionStore
from bot.tickets import TicketStore
from tests.channels.browser import Browser
from tests.handoff.conftest import AGENT_PASSWORD, Desk, handoff_of
from tests.servers import Stack

BOT_TEXTS = "[...document.querySelectorAll('.msg.bot:not(.typing):not(#linli-hello)')].map(e => e.textContent)"
SHOTS = Path("/tmp/shots")


async def screenshot(page: Browser, name: str, width: int = 1366, height: int = 768) -> None:
    """Save what the page shows (to look at, not asserted)."""
    await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.send("Page.captureScreenshot", format="png")
    (SHOTS / f"sat-{name}.png").write_bytes(base64.b64decode(shot["data"]))



def ratings(stack: Stack) -> SatisfactionStore:
    return SatisfactionStore(create_engine(stack.database_url, future=True))


async def widget_send(page: Browser, text: str) -> None:
    await page.evaluate(f"document.getElementById('linli-input').value = {json.dumps(text)};"
                        "document.getElementById('linli-send').click()")


async def bot_says(page: Browser, needle: str, after: int = 0) -> str:
    return await page.wait_for(f"{BOT_TEXTS}.slice({after}).find(t => t.includes({json.dumps(needle)})) || null",
                               timeout=90)


async def bot_count(page: Browser) -> int:
    return len(await page.evaluate(BOT_TEXTS))


def attribute(selector: str, name: str) -> str:
    """JavaScript: the attribute of the first node matching ``selector`` (null while there is none)."""
    node = f"(document.querySelector({json.dumps(selector)}) || {{getAttribute: () => null}})"
    return f"{node}.getAttribute({json.dumps(name)})"


def stats(desk: Desk) -> Dict[str, Any]:
    response = desk.get("/api/stats/satisfaction?days=30")
    assert response.status_code == 200, response.text
    return response.json()


async def test_ratings_given_on_the_widget_appear_on_the_ticket_and_the_dashboard(
        stack: Stack, agent: Desk, accounts: Dict[str, str], chromium: str) -> None:
    before = stats(agent)
    comment = f"师傅很耐心，态度也好（{''.join(chr(97 + int(c, 16) % 26) for c in uuid.uuid4().hex[:6])}）"
    async with Browser(chromium) as page:
        await page.goto(f"{stack.rasa_url}/chat?lang=zh")
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        await widget_send(page, "我要转人工")
        await bot_says(page, "转接人工客服")
        session = await page.evaluate("window.linliChat.session()")

        # Staff answer and end the handoff: "the bot is back", then the prompt with buttons 1-5.
        handoff = handoff_of(agent, session)
        assert agent.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "您好，已安排师傅上门。"}).status_code == 200
        assert agent.post(f"/api/handoffs/{handoff['id']}/close").status_code == 200
        await bot_says(page, "小助手回来")
        await bot_says(page, "请为本次服务打分")
        buttons = "[...document.querySelectorAll('.msg.bot')].pop().querySelectorAll('.buttons button')"
        assert await page.wait_for(f"[...{buttons}].map(b => b.textContent).join(',')") == "1,2,3,4,5"
        assert agent.post(f"/api/handoffs/{handoff['id']}/close").status_code == 409  # and never asked twice
        await screenshot(page, "widget-prompt", 420, 700)

        # The resident clicks 4, is thanked and invited once to comment; the comment is stored.
        count = await bot_count(page)
        await page.evaluate(f"[...{buttons}].find(b => b.textContent === '4').click()")
        await bot_says(page, "感谢您的评价（4 分）", count)
        await bot_says(page, "还有什么意见或建议吗", count)
        count = await bot_count(page)
        await widget_send(page, comment)
        await bot_says(page, "您的意见已记录", count)
        rated = ratings(stack).for_subject("handoff", str(handoff["id"]))
        assert (rated.rating, rated.comment, rated.resident) == (4, comment, f"socketio:{session}")

        # A resolved ticket asks too, in the status notification; "五星" answers it.
        store = TicketStore(create_engine(stack.database_url, future=True))
        number = store.create(ticket_type="repair", channel="socketio", sender_id=session, description="厨房漏水",
                              unit="6栋1单元302", language="zh").number
        assert agent.get(f"/api/tickets/{number}").json()["ticket"]["rating"] is None
        count = await bot_count(page)
        assert agent.post(f"/api/tickets/{number}/status", {"status": "resolved", "note": "已更换水管"}).status_code == 200
        notice = await bot_says(page, f"{number} 状态已更新为：已解决", count)
        assert "请为本次服务打分" in notice
        count = await bot_count(page)
        await widget_send(page, "五星")
        await bot_says(page, "感谢您的评价（5 分）", count)
        await bot_says(page, "还有什么意见或建议吗", count)
        count = await bot_count(page)
        await widget_send(page, "没有")
        await bot_says(page, "感谢您的支持", count)
        await screenshot(page, "widget-done", 420, 700)
    ticket_rating = agent.get(f"/api/tickets/{number}").json()["ticket"]["rating"]
    assert ticket_rating["rating"] == 5 and ticket_rating["comment"] is None and ticket_rating["at"]

    # The API counts both; the latest comes first with its comment.
    after = stats(agent)
    assert after["count"] == before["count"] + 2
    assert after["distribution"]["4"] == before["distribution"]["4"] + 1
    assert after["distribution"]["5"] == before["distribution"]["5"] + 1
    assert after["by_subject"]["handoff"]["count"] == before["by_subject"]["handoff"]["count"] + 1
    assert after["by_subject"]["ticket"]["count"] == before["by_subject"]["ticket"]["count"] + 1
    assert (after["recent"][0]["subject_id"], after["recent"][0]["rating"]) == (number, 5)
    assert {"rating": 4, "comment": comment, "subject_type": "handoff", "subject_id": str(handoff["id"])}.items() \
        <= next(r for r in after["recent"] if r["comment"] == comment).items()
    assert after["per_day"][-1]["count"] >= 2

    # The dashboard shows the API's figures and the comment; the ticket page shows its rating.
    async with Browser(chromium) as page:
        await page.goto(f"{stack.rasa_url}/console")
        await page.wait_for("!!document.querySelector('#login-form')")
        await page.evaluate(f"document.querySelector('#login-username').value = {json.dumps(accounts['agent'])};"
                            f"document.querySelector('#login-password').value = {json.dumps(AGENT_PASSWORD)};"
                            "document.querySelector('#login-submit').click()")
        await page.wait_for("!document.querySelector('#nav').hidden")
        await page.evaluate("document.querySelector(\"#nav button[data-view='dashboards']\").click()")
        shown = await page.wait_for("(document.querySelector('#chart-satisfaction .sat-count') || {}).textContent")
        assert int(shown) == after["count"]
        assert await page.evaluate(attribute("#chart-satisfaction .sat-count", "data-count")) == str(after["count"])
        average = await page.evaluate(attribute("#chart-satisfaction .sat-average", "data-average"))
        assert float(average) == pytest.approx(after["average"], abs=0.01)
        assert comment in await page.evaluate("document.querySelector('#chart-satisfaction').textContent")
        await screenshot(page, "dashboard")

        await page.evaluate(f"window.LinliDesk.openTicket({json.dumps(number)})")
        assert await page.wait_for(attribute("#ticket-page .sat-ticket", "data-rating")) == "5"
        assert "5 / 5" in await page.evaluate("document.querySelector('#ticket-page .sat-ticket').textContent")
        await screenshot(page, "ticket")


def test_a_new_request_while_a_rating_is_pending_is_handled_normally(stack: Stack, agent: Desk, sender: str) -> None:
    assert "请稍候" in stack.say(sender, "转人工")
    handoff = handoff_of(agent, sender)
    agent.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "您好"})
    assert agent.post(f"/api/handoffs/{handoff['id']}/close").status_code == 200
    # REST cannot receive it, but the request is recorded and the prompt is in the transcript.
    events = stack.tracker(sender)["events"]
    prompt = [e for e in events if e["event"] == "bot" and "请为本次服务打分" in (e.get("text") or "")]
    assert len(prompt) == 1 and [b["payload"] for b in prompt[0]["data"]["buttons"]] == ["1", "2", "3", "4", "5"]

    # A repair report is a repair report: the form asks where, nothing is rated.
    answer = stack.say(sender, "我家厨房水管漏水了")
    assert "感谢您的评价" not in answer and ("房" in answer or "位置" in answer), answer
    assert ratings(stack).for_subject("handoff", str(handoff["id"])).rating is None
    stack.say(sender, "算了")  # leaves the form
    assert not (stack.tracker(sender).get("active_loop") or {}).get("name")
    # The request is still open: a rating given later counts.
    answer = stack.say(sender, "3 - slow but fixed")
    assert "Thank you for your rating (3/5)" in answer and "Thanks, we've noted" in answer, answer
    saved = ratings(stack).for_subject("handoff", str(handoff["id"]))
    assert (saved.rating, saved.comment) == (3, "slow but fixed")
    # Answered: "5" is no rating any more.
    answer = stack.say(sender, "5")
    assert "rating" not in answer and "评价" not in answer, answer


def test_the_satisfaction_route_needs_a_session_and_checks_its_parameter(stack: Stack, agent: Desk) -> None:
    assert requests.get(f"{stack.rasa_url}/api/stats/satisfaction", timeout=30).status_code == 401
    for days in ("abc", "1.5"):
        response = agent.get(f"/api/stats/satisfaction?days={days}")
        assert response.status_code == 400 and "days" in response.json()["message"]
    data = agent.get("/api/stats/satisfaction?days=7").json()
    assert len(data["per_day"]) == 7 and set(data["distribution"]) == {"1", "2", "3", "4", "5"}
    assert set(data["by_subject"]) == {"ticket", "handoff"}
    document = agent.get("/api/openapi.json").json()
    assert "days" in [p["name"] for p in document["paths"]["/api/stats/satisfaction"]["get"]["parameters"]]
