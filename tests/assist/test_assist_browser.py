"""In headless Chromium: picking a suggested reply during a handoff (inserted for editing, sent only by the
agent), and the staff assistant panel filing a repair for a caller and listing a building's open tickets."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.assist.conftest import AGENT_PASSWORD, Desk, handed_off
from tests.channels.browser import Browser
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.servers import Stack


async def test_suggested_reply_and_staff_assistant_in_the_browser(stack: Stack, accounts: dict, agent: Desk,
                                                                  chromium: str) -> None:
    store = TicketStore(create_engine(stack.database_url, future=True))
    handoff = handed_off(stack, agent, f"ab-{uuid.uuid4().hex[:8]}", "物业费是怎么收费的？")
    before = agent.get("/api/stats/assist?days=1").json()["totals"]
    async with Browser(chromium) as page:
        await page.goto(f"{stack.rasa_url}/console")
        await page.wait_for(visible("#login-form"))
        await type_into(page, "#login-username", accounts["agent"])
        await type_into(page, "#login-password", AGENT_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for(visible("#view-queue"))
        if await page.evaluate("document.documentElement.lang") != "zh":
            await click(page, "#lang-toggle")
        await page.wait_for(f"!!document.querySelector('.queue-item[data-id=\"{handoff['id']}\"]')")
        await click(page, f".queue-item[data-id='{handoff['id']}']")
        await page.wait_for(visible("#assist-panel .assist-item"), timeout=120)
        count = await page.evaluate("document.querySelectorAll('#assist-panel .assist-item').length")
        assert 1 <= count <= 3
        suggestion = await page.evaluate(text_of("#assist-panel .assist-item .assist-text"))
        assert "2.5" in suggestion
        assert await page.evaluate(text_of("#assist-panel .assist-source"))
        assert "%" in await page.evaluate(text_of("#assist-panel .assist-confidence"))
        await click(page, "#assist-panel .assist-insert")
        assert await page.evaluate("document.querySelector('#reply-text').value") == suggestion
        # Inserted, not sent: the transcript has no agent message yet.
        messages = agent.get(f"/api/handoffs/{handoff['id']}").json()["messages"]
        assert not [m for m in messages if m["from"] == "agent"]
        await click(page, "#conv-take")
        await page.wait_for(visible("#reply-form"))
        await type_into(page, "#reply-text", " 还有其他问题吗？")
        await page.evaluate("document.querySelector('#reply-form').requestSubmit()")
        await page.wait_for("document.querySelector('#reply-text').value === ''")
        await page.wait_for(f"!!Array.from(document.querySelectorAll('#transcript .msg.agent .text')).find(n => n.textContent.includes({json.dumps(suggestion[:12])}))")
        for _ in range(50):
            totals = agent.get("/api/stats/assist?days=1").json()["totals"]
            if totals["sent"] == before["sent"] + 1:
                break
            time.sleep(0.2)
        assert totals["inserted"] == before["inserted"] + 1 and totals["sent"] == before["sent"] + 1

        # The staff assistant: a repair for a caller, confirmed on its card as a walk-in.
        await click(page, "#nav button[data-view='assistant']")
        await page.wait_for(visible("#assistant-form"))
        await type_into(page, "#assistant-input", "给3栋2单元502登记报修，厨房水管漏水，业主电话13812345678，不急")
        await click(page, "#assistant-send")
        await page.wait_for(visible(".assistant-repair"))
        assert await page.evaluate("document.querySelector('.assistant-repair [name=place]').value") == "3栋2单元502"
        assert await page.evaluate("document.querySelector('.assistant-repair [name=description]').value") == "厨房水管漏水"
        await page.evaluate("document.querySelector('.assistant-repair [name=channel]').value = 'walk-in'")
        await click(page, ".assistant-file")
        await page.wait_for(visible(".assistant-filed"))
        number = await page.evaluate("document.querySelector('.assistant-filed').dataset.number")
        ticket = store.get(number)
        assert ticket.channel == "walk-in" and ticket.events[0].actor == f"staff:{accounts['agent']}"
        assert ticket.unit == "3栋2单元502"

        # A building look-up lists that ticket; its number opens the ticket page.
        await type_into(page, "#assistant-input", "3号楼还有哪些没处理的报修？")
        await click(page, "#assistant-send")
        await page.wait_for(f"!!document.querySelector('.assistant-ticket[data-number=\"{number}\"]')")
        await click(page, f".assistant-ticket[data-number='{number}']")
        await page.wait_for(visible("#ticket-page"))
        await page.wait_for(f"document.querySelector('#ticket-page').dataset.number === {json.dumps(number)}")
