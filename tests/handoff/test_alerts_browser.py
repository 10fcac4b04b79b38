"""New-handoff alerts (alerts.js) in headless Chromium: tab title, browser notification and
tone for a handoff that arrives while the desk is open; emergencies stand out."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import create_engine

from bot.handoff.store import HandoffStore

from tests.channels.browser import Browser
from tests.handoff.conftest import AGENT_PASSWORD
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.servers import Stack

# Runs before the page's scripts: record every Notification and every tone the page starts.
OBSERVE = """
localStorage.setItem('linli_console_lang', 'zh');
window.__notes = []; window.__tones = [];
(() => {
  const N = window.Notification;
  if (N) {
    function Recorded(title, options) {
      window.__notes.push({ title, options: JSON.parse(JSON.stringify(options || {})) });
      return new N(title, options);
    }
    Object.defineProperty(Recorded, 'permission', { get: () => N.permission });
    Recorded.requestPermission = (...args) => N.requestPermission(...args);
    window.Notification = Recorded;
  }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones.push({ type: this.type, freq: this.frequency.value });
    return start.apply(this, args);
  };
})();
"""
TITLE = "document.title"


def item(handoff_id: int) -> str:
    return f"#queue-list .queue-item[data-id='{handoff_id}']"


async def login(page: Browser, stack: Stack, username: str) -> None:
    await page.goto(f"{stack.rasa_url}/console#queue")
    await page.wait_for(visible("#login-form"))
    await type_into(page, "#login-username", username)
    await type_into(page, "#login-password", AGENT_PASSWORD)
    await click(page, "#login-submit")
    await page.wait_for("window.LinliDesk.alerts.ready()")


async def test_new_handoffs_and_emergencies_alert_the_open_desk(stack: Stack, accounts: dict, chromium: str) -> None:
    handoffs = HandoffStore(create_engine(stack.database_url, future=True))
    tag = uuid.uuid4().hex[:8]
    opened = []

    def open_handoff(name: str, **kwargs: str) -> int:
        handoff = handoffs.open(f"rest:alert-{name}-{tag}", "rest", **kwargs)
        opened.append(handoff.id)
        return handoff.id

    waiting = open_handoff("old", message="早就在等了")
    try:
        async with Browser(chromium) as page:
            await page.send("Browser.grantPermissions", origin=stack.rasa_url, permissions=["notifications"])
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=OBSERVE)
            await login(page, stack, accounts["agent"])
            # What was already waiting when the page loaded is no news.
            await page.wait_for(f"!!document.querySelector({json.dumps(item(waiting))})")
            assert "新的人工服务" not in await page.evaluate(TITLE)
            assert await page.evaluate("window.__notes") == []
            assert await page.evaluate(visible("#alerts-mute")) and not await page.evaluate(visible("#alerts-enable"))

            # A new handoff: "(N) 新的人工服务" in the title, a notification, a chime, the item marked.
            fresh = open_handoff("new", message="我要找人工客服")
            await page.wait_for(f"{TITLE}.includes('新的人工服务') && /\\(\\d+\\) 新的人工服务 · 邻里 · 物业工作台$/.test({TITLE})")
            notes = await page.evaluate("window.__notes")
            assert [n["title"] for n in notes] == ["新的人工服务请求"]
            assert f"alert-new-{tag}" in notes[0]["options"]["body"] and "我要找人工客服" in notes[0]["options"]["body"]
            assert notes[0]["options"]["requireInteraction"] is False
            assert {"type": "sine", "freq": 660} in await page.evaluate("window.__tones")
            assert await page.evaluate(f"document.querySelector({json.dumps(item(fresh))}).classList.contains('unseen')")
            # Looking at the queue (a click on it) clears the title.
            await click(page, "#queue-list")
            await page.wait_for(f"!{TITLE}.includes('新的人工服务')")
            assert not await page.evaluate(f"document.querySelector({json.dumps(item(fresh))}).classList.contains('unseen')")

            # Mute is remembered across a reload; a muted desk still updates the title and notifies.
            await click(page, "#alerts-mute")
            assert await page.evaluate("localStorage.getItem('linli_alerts_muted')") == "1"
            await page.reload()
            await page.wait_for("window.LinliDesk.alerts.ready()")
            assert await page.evaluate("document.querySelector('#alerts-mute').getAttribute('aria-pressed')") == "true"
            assert await page.evaluate(text_of("#alerts-mute")) == "提示音：关"
            quiet = open_handoff("quiet", message="静音时来的")
            await page.wait_for(f"{TITLE}.includes('新的人工服务')")
            assert [n["options"]["tag"] for n in await page.evaluate("window.__notes")] == [f"linli-handoff-{quiet}"]
            assert not [tone for tone in await page.evaluate("window.__tones") if tone["type"] == "sine"]

            # An emergency: the urgent class and banner, first in the queue, a notification that
            # stays (requireInteraction) and the urgent tone, even on a muted desk.
            urgent = open_handoff("urgent", reason="emergency", priority="urgent", message="电梯困人了")
            await page.wait_for(f"!!document.querySelector({json.dumps(item(urgent) + '.urgent')})")
            await page.wait_for(visible("#urgent-banner"))
            assert "紧急情况" in await page.evaluate(text_of("#urgent-banner"))
            order = await page.evaluate("[...document.querySelectorAll('#queue-list .queue-item')].map(n => n.classList.contains('urgent'))")
            assert order[0] and order == sorted(order, reverse=True)  # every emergency before every other handoff
            notes = await page.evaluate("window.__notes")
            assert notes[-1]["title"] == "⚠ 紧急情况：请立即接入" and notes[-1]["options"]["requireInteraction"] is True
            assert "电梯困人了" in notes[-1]["options"]["body"]
            assert {"type": "square", "freq": 988} in await page.evaluate("window.__tones")
            await page.wait_for(f"{TITLE}.startsWith('⚠ 紧急 · ')")
            # The banner opens the emergency waiting longest (the first in the queue).
            first = await page.evaluate(text_of("#queue-list .queue-item.urgent strong"))
            await click(page, "#urgent-banner")
            await page.wait_for(f"{text_of('#conv-title')} === {json.dumps(first)}")
    finally:
        for handoff_id in opened:
            handoffs.close(handoff_id, "test")
