"""The staff desk in headless Chromium: log in, see the queue, open the conversation, reply."""

from __future__ import annotations

import json
import pytest
from sqlalchemy import create_engine

from bot.tickets import TicketStore

from tests.channels.browser import Browser
from tests.handoff.conftest import AGENT_PASSWORD
from tests.servers import Stack



async def type_into(page: Browser, selector: str, text: str) -> None:
    """Focus a field and type like a user (IME-style insert, works for Chinese)."""
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
    await page.send("Input.insertText", text=text)


async def click(page: Browser, selector: str) -> None:
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def visible(selector: str) -> str:
    return f"(() => {{ const n = document.querySelector({json.dumps(selector)}); return !!n && !n.closest('[hidden]'); }})()"


def text_of(selector: str) -> str:
    return f"((document.querySelector({json.dumps(selector)}) || {{}}).textContent || '')"


async def test_login_queue_and_reply_in_the_browser(stack: Stack, accounts: dict, chromium: str, sender: str) -> None:
    store = TicketStore(create_engine(stack.database_url, future=True))
    number = store.create(ticket_type="repair", channel="rest", sender_id=sender, description="卧室插座没电",
                          unit="9栋1单元101", category="electrical").number
    assert "请稍候" in stack.say(sender, "转人工")
    stack.chat(sender, "楼道里的灯坏了三天了")
    async with Browser(chromium) as page:
        await page.goto(f"{stack.rasa_url}/console")
        await page.wait_for(visible("#login-form"))
        # A wrong password is refused on the page.
        await type_into(page, "#login-username", accounts["agent"])
        await type_into(page, "#login-password", "not-the-password")
        await click(page, "#login-submit")
        await page.wait_for(f"{text_of('#login-error')}.length > 0")
        assert await page.evaluate("document.querySelector('#nav').hidden") is True

        await page.evaluate("document.querySelector('#login-password').value = ''")
        await type_into(page, "#login-password", AGENT_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for(visible("#view-queue"))
        assert await page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly

        # The waiting conversation is in the queue, with its waiting time.
        item = "#queue-list .queue-item[data-id] strong"
        await page.wait_for(f"[...document.querySelectorAll({json.dumps(item)})].some(n => n.textContent === {json.dumps(sender)})")
        await page.evaluate(
            f"[...document.querySelectorAll('#queue-list .queue-item')].find(n => n.textContent.includes({json.dumps(sender)})).click()")
        await page.wait_for(f"{text_of('#transcript')}.includes('楼道里的灯坏了三天了')")
        assert "转人工" in await page.evaluate(text_of("#transcript"))
        # The interface follows the browser's language (headless Chromium: English) until toggled.
        english = await page.evaluate("document.documentElement.lang") == "en"
        assert ("waiting" if english else "已等待") in await page.evaluate(text_of("#queue-list"))

        # Reply from the desk: it reaches the conversation's tracker, attributed to the agent.
        await type_into(page, "#reply-text", "您好，已通知电工今天下午处理。")
        await click(page, "#reply-send")
        await page.wait_for(f"[...document.querySelectorAll('#transcript .msg.agent')].some(n => n.textContent.includes('已通知电工'))")
        events = stack.tracker(sender)["events"]
        replies = [e for e in events if e["event"] == "bot" and e.get("text") == "您好，已通知电工今天下午处理。"]
        assert replies and replies[0]["metadata"]["agent"]

        # A new resident message appears without reloading (long poll).
        stack.chat(sender, "好的，谢谢")
        await page.wait_for(f"{text_of('#transcript')}.includes('好的，谢谢')", timeout=30)

        # The language toggle switches the interface between Chinese and English.
        first, second = ("结束人工服务", "End handoff") if english else ("End handoff", "结束人工服务")
        await click(page, "#lang-toggle")
        await page.wait_for(f"{text_of('#conv-close')} === {json.dumps(first)}")
        assert ("已等待" if english else "waiting") in await page.evaluate(text_of("#queue-list"))
        await click(page, "#lang-toggle")
        await page.wait_for(f"{text_of('#conv-close')} === {json.dumps(second)}")

        # Ending the handoff from the page gives the conversation back to the bot.
        await page.evaluate("window.confirm = () => true")
        await click(page, "#conv-close")
        await page.wait_for(f"{text_of('#transcript')}.includes('小助手回来')")
        # Tickets: filter, open the page, change the status with a note.
        await click(page, "#nav button[data-view='tickets']")
        await type_into(page, "#filter-unit", "9栋")
        await page.evaluate("document.querySelector('#ticket-filters').requestSubmit()")
        await page.wait_for(f"{text_of('#ticket-table tbody')}.includes({json.dumps(number)})")
        await page.evaluate("document.querySelector('#ticket-table tbody tr.ticket-row').click()")
        await page.wait_for(f"{text_of('#ticket-page')}.includes('9栋1单元101')")
        await page.evaluate("document.querySelector('#status-form select').value = 'in_progress'")
        await type_into(page, "#status-form input[name=note]", "师傅已出发")
        await page.evaluate("document.querySelector('#status-form').requestSubmit()")
        await page.wait_for(f"{text_of('#ticket-page .history')}.includes('师傅已出发')")
        saved = store.get(number)
        assert saved.status == "in_progress", (await page.evaluate(text_of("#ticket-page")), [(e.action, e.to_status, e.note) for e in saved.events])

        # Dashboards draw one SVG bar group per day (charts.js); today's "opened" bar is not empty.
        await click(page, "#nav button[data-view='dashboards']")
        await page.wait_for("document.querySelectorAll('#chart-per-day svg g.group').length === 30")
        height = await page.evaluate("Number([...document.querySelectorAll('#chart-per-day rect.s-opened')].pop().getAttribute('height'))")
        assert height > 0
    assert "邻里小助手" in stack.say(sender, "你好")
