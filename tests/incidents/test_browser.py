"""The incidents page in headless Chromium: three leak reports in one building raise the early-warning
banner on the queue view; an editor declares the incident it proposes (pre-filled), sees it active,
resolves it; the dashboard shows plumbing rising today. Screenshots: /tmp/shots/incidents-*.png."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Dict

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.browser import Browser
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.incidents.conftest import EDITOR_PASSWORD, desk
from tests.servers import Stack

SHOTS = Path("/tmp/shots")


async def screenshot(page: Browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.send("Page.captureScreenshot", format="png")
    (SHOTS / f"incidents-{name}.png").write_bytes(base64.b64decode(shot["data"]))


async def test_declaring_an_incident_from_the_early_warning_alert(incident_stack: Stack, staff: Dict[str, str],
                                                                  chromium: str) -> None:
    building = str(40 + uuid.uuid4().int % 50)
    engine = create_engine(incident_stack.database_url, future=True)
    store = TicketStore(engine)
    numbers = [store.create(ticket_type="repair", channel="rest", sender_id=f"leak-{building}-{i}", language="zh",
                            description="卫生间漏水", category="plumbing", building=building,
                            unit=f"{building}栋1单元{i}01").number for i in range(3)]
    async with Browser(chromium) as page:
        await page.send("Emulation.setDeviceMetricsOverride", width=1366, height=900, deviceScaleFactor=1, mobile=False)
        await page.goto(f"{incident_stack.rasa_url}/console")
        await page.wait_for(visible("#login-form"))
        await type_into(page, "#login-username", staff["editor"])
        await type_into(page, "#login-password", EDITOR_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for(visible("#view-queue"))
        if await page.evaluate("document.documentElement.lang") != "zh":
            await click(page, "#lang-toggle")

        # The server's loop found the cluster: one alert, as a banner on the queue view.
        banner = f"[...document.querySelectorAll('#incident-alert-banner .incident-alert')].find(n => n.textContent.includes('{building}号楼'))"
        await page.wait_for(f"!!{banner} && !document.querySelector('#incident-alert-banner').hidden", timeout=30)
        text = await page.evaluate(f"{banner}.textContent")
        assert "3 条报修" in text and all(n in text for n in numbers)
        assert await page.evaluate(text_of("#nav button[data-view='incidents'] .badge")) != ""
        await screenshot(page, "alert-banner-zh")

        # "宣布事件" opens the form pre-filled from the alert.
        await page.evaluate(f"{banner}.querySelector('.inc-alert-declare').click()")
        await page.wait_for(visible("#incident-form"))
        form = await page.evaluate("""(() => { const f = document.querySelector('#incident-form');
            return {kind: f.elements.kind.value, buildings: f.elements.buildings.value, title: f.elements.title_zh.value}; })()""")
        assert form == {"kind": "water", "buildings": building, "title": f"{building}号楼停水/漏水"}
        await type_into(page, "#incident-form textarea[name=description_zh]", "水管爆裂，正在抢修")
        await page.evaluate("document.querySelector('#incident-form input[name=expected_end_at]').value = "
                            "new Date(Date.now() + 3 * 3600e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16)")
        await screenshot(page, "declare-form-zh")
        await page.evaluate("document.querySelector('#incident-form').requestSubmit()")
        row = f"[...document.querySelectorAll('#incident-active .incident-row')].find(n => n.textContent.includes('{building}号楼停水/漏水'))"
        await page.wait_for(f"!!{row}")
        assert "0 / 3" in await page.evaluate(f"{row}.textContent")  # the cluster's three reporters are linked
        await page.wait_for(f"!{banner}")  # the alert is handled: gone from the banner
        await screenshot(page, "incidents-active-zh")

        # The API agrees: declared from the alert, the reporters linked.
        api = desk(incident_stack, staff, "agent")
        [incident] = [i for i in api.get("/api/incidents?status=active").json()["incidents"] if i["buildings"] == [building]]
        assert incident["alert_id"] and incident["links"] == {"asked": 0, "reported": 3}
        assert incident["description_zh"] == "水管爆裂，正在抢修" and incident["expected_end_at"]

        # Resolve from the page (the confirmation answered yes).
        await page.evaluate("window.confirm = () => true")
        await type_into(page, f"#incident-active .incident-row[data-id='{incident['id']}'] .inc-note", "已修复")
        await click(page, f"#incident-active .incident-row[data-id='{incident['id']}'] .inc-resolve")
        await page.wait_for(f"{text_of('#incident-result')}.includes('已通知 3 位居民')")
        await page.wait_for(f"!!document.querySelector('#incident-resolved .incident-row[data-id=\"{incident['id']}\"]')")

        # The dashboard's rising card: plumbing and this building are up today.
        await click(page, "#nav button[data-view='dashboards']")
        await page.wait_for(f"!!document.querySelector('#rising .rising-table[data-dimension=building] tr.rising[data-key=\"{building}\"]')")
        assert await page.evaluate("!!document.querySelector('#rising .rising-table[data-dimension=category] tr.rising[data-key=plumbing]')")
        await click(page, "#lang-toggle")
        await page.wait_for(f"{text_of('#rising-card h2')}.includes('Rising today')")
        await screenshot(page, "rising-en")
        assert json.loads(json.dumps(await page.evaluate("document.documentElement.lang"))) == "en"
    engine.dispose()
