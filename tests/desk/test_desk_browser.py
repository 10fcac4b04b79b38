"""Desk essentials in headless Chromium at 1366×768: a canned reply inserted with its shortcut
and sent to a resident on the web widget, the resident panel (masked phone, their tickets),
the assignee picker, "my tickets" and the export button. Screenshots: /tmp/shots/desk-*.png."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from pathlib import Path
from typing import Dict

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.browser import Browser
from tests.handoff.conftest import AGENT_PASSWORD, Desk, handoff_of
from tests.handoff.resident import WidgetResident
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.servers import Stack

SHOTS = Path("/tmp/shots")
WIDTH, HEIGHT = 1366, 768



async def screenshot(page: Browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.send("Page.captureScreenshot", format="png")
    (SHOTS / f"desk-{name}.png").write_bytes(base64.b64decode(shot["data"]))


async def press(page: Browser, key: str) -> None:
    codes = {"Enter": 13, "Tab": 9, "ArrowDown": 40, "ArrowUp": 38, "Escape": 27}
    for kind in ("rawKeyDown", "keyUp"):
        await page.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=codes[key])


async def set_language(page: Browser, language: str) -> None:
    if await page.evaluate("document.documentElement.lang") != language:
        await click(page, "#lang-toggle")
        await page.wait_for(f"document.documentElement.lang === {json.dumps(language)}")


def js(value: str) -> str:
    return json.dumps(value)


async def test_canned_reply_resident_panel_and_tickets_in_the_browser(stack: Stack, accounts: Dict[str, str],
                                                                     agent: Desk, chromium: str, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:5]
    shortcut, reply = f"/hours{tag}", "物业服务中心每天 8:00–20:00 营业，周末照常。"
    resident = WidgetResident(stack.rasa_url)
    store = TicketStore(create_engine(stack.database_url, future=True))
    ticket = store.create(ticket_type="repair", channel="socketio", sender_id=resident.session_id,
                          description="卫生间漏水，电话13812345678", unit=f"6栋1单元6{tag[:2]}", category="plumbing",
                          phone="13812345678")
    for n in range(12):  # other residents' tickets: "My tickets" must show only the agent's
        store.create(ticket_type="repair", channel="rest", sender_id=f"other-{tag}-{n}", description="楼道灯不亮",
                     unit=f"7栋{n + 1}01", category="electrical")
    try:
        resident.say("我要转人工")
        resident.wait_for("转接人工客服")
        handoff = handoff_of(agent, resident.session_id)

        async with Browser(chromium) as page:
            await page.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1,
                            mobile=False)
            await page.send("Page.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
            await page.goto(f"{stack.rasa_url}/console")
            await page.wait_for(visible("#login-form"))
            await type_into(page, "#login-username", accounts["agent"])
            await type_into(page, "#login-password", AGENT_PASSWORD)
            await click(page, "#login-submit")
            await page.wait_for(visible("#view-queue"))
            await set_language(page, "zh")

            # A personal canned reply, added in the quick-replies view.
            await click(page, "#nav button[data-view='canned']")
            await page.wait_for(visible("#canned-form"))
            await page.evaluate("document.querySelector('#canned-form select[name=language]').value = 'zh'")
            await type_into(page, "#canned-form input[name=shortcut]", shortcut)
            await type_into(page, "#canned-form input[name=title]", "营业时间")
            await type_into(page, "#canned-form textarea[name=text]", reply)
            assert await page.evaluate(visible("#canned-shared-box")) is False  # sharing is for admins
            await page.evaluate("document.querySelector('#canned-form').requestSubmit()")
            await page.wait_for(f"{text_of('#canned-table tbody')}.includes({js(shortcut)})")
            await screenshot(page, "canned-zh")

            # The conversation, with the resident panel beside the transcript.
            await click(page, "#nav button[data-view='queue']")
            await page.wait_for(f"!!document.querySelector('#queue-list .queue-item[data-id=\"{handoff['id']}\"]')")
            await click(page, f"#queue-list .queue-item[data-id=\"{handoff['id']}\"]")
            await page.wait_for(f"{text_of('#transcript')}.includes('我要转人工')")
            await page.wait_for(f"{text_of('#resident-panel')}.includes({js(ticket.number)})")
            panel = await page.evaluate(text_of("#resident-panel"))
            assert "138****5678" in panel and "13812345678" not in panel and f"6栋1单元6{tag[:2]}" in panel
            assert "socketio" in panel
            # It fits beside the transcript on a 1366-pixel screen: no horizontal scrolling.
            layout = await page.evaluate("""(() => {
              const t = document.querySelector('#transcript').getBoundingClientRect();
              const p = document.querySelector('#resident-panel').getBoundingClientRect();
              return {transcript: t.width, panelLeft: p.left, panelRight: p.right, transcriptRight: t.right,
                      scroll: document.documentElement.scrollWidth};
            })()""")
            assert layout["scroll"] <= WIDTH and layout["panelRight"] <= WIDTH, layout
            assert layout["transcript"] >= 480 and layout["panelLeft"] >= layout["transcriptRight"], layout

            # "/" + part of the shortcut opens the picker, filtered; Enter inserts the text, nothing is sent.
            await type_into(page, "#reply-text", "/hours" + tag[:3])
            await page.wait_for(visible("#canned-picker"))
            await page.wait_for(f"{text_of('#canned-list .canned-item.active')}.includes({js(shortcut)})")
            assert await page.evaluate(visible("#canned-search")) is False
            await screenshot(page, "conversation-picker-zh")
            await press(page, "Enter")
            await page.wait_for(f"document.querySelector('#reply-text').value === {js(reply)}")
            assert await page.evaluate(visible("#canned-picker")) is False
            assert resident.drain(1.5) == []  # inserting sends nothing
            # The text stays editable; Send delivers it to the resident's widget.
            await type_into(page, "#reply-text", "请问还有什么可以帮您？")
            await click(page, "#reply-send")
            resident.wait_for("周末照常。请问还有什么可以帮您？")
            # The box empties when the server has answered (after its first delivery attempt),
            # which can be after the resident has the message.
            await page.wait_for("document.querySelector('#reply-text').value === ''")
            await page.wait_for(f"[...document.querySelectorAll('#transcript .msg.agent')].some(n => n.textContent.includes({js(reply)}))")
            events = stack.tracker(f"socketio:{resident.session_id}")["events"]
            assert [e for e in events if e["event"] == "bot" and e.get("text") == reply + "请问还有什么可以帮您？"]
            # While a send is still in flight (the server answers after the first delivery
            # attempt), what the agent types next stays in the box; only the sent text goes.
            await page.evaluate("""(() => { const f = window.fetch; window.__fetch = f;
                window.fetch = (u, o) => String(u).endsWith('/reply')
                    ? new Promise((r) => setTimeout(r, 1500)).then(() => f(u, o)) : f(u, o); })()""")
            await type_into(page, "#reply-text", "稍等，")
            await click(page, "#reply-send")
            await type_into(page, "#reply-text", "我查一下")
            resident.wait_for("稍等，")
            await page.wait_for("!document.querySelector('#reply-send').disabled")
            assert await page.evaluate("document.querySelector('#reply-text').value") == "我查一下"
            await page.evaluate("window.fetch = window.__fetch; document.querySelector('#reply-text').value = ''")

            # The button next to Send opens the same picker with a search field; Escape closes it.
            await click(page, "#canned-open")
            await page.wait_for(visible("#canned-search"))
            await type_into(page, "#canned-search", "营业时间")
            await page.wait_for(f"{text_of('#canned-list')}.includes({js(shortcut)})")
            await press(page, "Escape")
            await page.wait_for(f"!({visible('#canned-picker')})")

            # The language toggle reloads the conversation; an agent typing "/" before the reload
            # arrives keeps the picker (the reload is held back 1.5 s to make the race certain).
            await page.evaluate("""(() => { const f = window.fetch; window.__fetch = f;
                window.fetch = (u, o) => /\\/api\\/handoffs\\/\\d+$/.test(String(u))
                    ? new Promise((r) => setTimeout(r, 1500)).then(() => f(u, o)) : f(u, o); })()""")
            await set_language(page, "en")
            await page.wait_for(f"{text_of('#resident-panel')}.includes('Resident')")
            await type_into(page, "#reply-text", "/")
            await page.wait_for(visible("#canned-picker"))
            await asyncio.sleep(2.5)  # the held-back reload has arrived
            assert await page.evaluate(visible("#canned-picker")), "the reload closed the picker under the agent's typing"
            await page.evaluate("window.fetch = window.__fetch")
            await screenshot(page, "conversation-picker-en")
            await press(page, "Escape")
            # The panel collapses to a strip, and comes back.
            await click(page, "#resident-panel .rp-toggle")
            await page.wait_for("document.querySelector('#conversation').classList.contains('panel-collapsed')")
            assert await page.evaluate("document.querySelector('#transcript').getBoundingClientRect().width") > layout["transcript"]
            await click(page, "#resident-panel .rp-toggle")
            await page.wait_for("!document.querySelector('#conversation').classList.contains('panel-collapsed')")

            # A ticket in the panel opens its page; the assignee is chosen from the staff list.
            await click(page, f"#resident-panel .rp-ticket[data-number={js(ticket.number)}] a")
            await page.wait_for(f"{text_of('#ticket-page')}.includes({js(ticket.number)}) && !document.querySelector('#ticket-page').hidden")
            assert await page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # a long widget id wraps
            options = await page.evaluate("[...document.querySelectorAll('#assign-form select option')].map(o => o.value)")
            assert accounts["agent"] in options and accounts["agent2"] in options
            await page.evaluate(f"document.querySelector('#assign-form select').value = {js(accounts['agent'])}")
            await page.evaluate("document.querySelector('#assign-form').requestSubmit()")
            await page.wait_for(f"{text_of('#ticket-page .history')}.includes('assigned')")
            assert store.get(ticket.number).assignee == accounts["agent"]
            await screenshot(page, "ticket-en")

            # My tickets: the list filtered to the agent, with the pager; then the export button.
            await click(page, "#ticket-page button")
            await page.wait_for(visible("#ticket-table"))
            await click(page, "#filter-mine")
            assert await page.evaluate("document.querySelector('#filter-assignee').value") == "me"
            mine = agent.get("/api/tickets?assignee=me&limit=50").json()
            expected = [t["number"] for t in mine["tickets"]]
            assert ticket.number in expected
            # The unfiltered list (other tests' tickets too) shows first: wait for the filtered one.
            rows = "[...document.querySelectorAll('#ticket-table tbody tr.ticket-row')].map(r => r.dataset.number)"
            await page.wait_for(f"JSON.stringify({rows}) === {js(json.dumps(expected, separators=(',', ':')))}")
            assert str(mine["total"]) in await page.evaluate(text_of("#ticket-pager-info"))
            await screenshot(page, "tickets-en")
            await set_language(page, "zh")
            await page.wait_for(f"{text_of('#ticket-pager-info')}.includes('共')")
            await screenshot(page, "tickets-zh")
            await click(page, "#ticket-export-csv")
            await page.wait_for(f"{text_of('#ticket-export-status')}.includes('已导出')")
            name = await page.evaluate("document.querySelector('#ticket-export-status').dataset.file")
            deadline = time.monotonic() + 20
            while not (tmp_path / name).exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)  # Chromium writes the download
            content = (tmp_path / name).read_bytes()
            assert content.startswith(b"\xef\xbb\xbf") and ticket.number.encode() in content
            assert b"13812345678" not in content
        assert agent.post(f"/api/handoffs/{handoff['id']}/close").status_code == 200  # leave the queue as found
    finally:
        resident.close()
