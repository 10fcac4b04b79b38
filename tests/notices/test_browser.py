"""The notices page in headless Chromium at 1366×768: an admin composes a bilingual notice, picks
a building from the known ones, previews the count, confirms, sends, and reads the report; the
resident receives it on Telegram (fake server). Screenshot: /tmp/shots/notices-*.png."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from pathlib import Path
from typing import Dict

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.browser import Browser
from tests.channels.fakes import FakeApis
from tests.handoff.conftest import ADMIN_PASSWORD
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.servers import Stack

SHOTS = Path("/tmp/shots")


async def screenshot(page: Browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.send("Page.captureScreenshot", format="png")
    (SHOTS / f"notices-{name}.png").write_bytes(base64.b64decode(shot["data"]))


async def test_compose_preview_and_send_a_notice_in_the_desk(notices_stack: Stack, notice_fakes: FakeApis,
                                                             notice_accounts: Dict[str, str], chromium: str) -> None:
    building = str(random.randint(60, 99))
    chat_id = random.randint(10**8, 10**9)
    TicketStore(create_engine(notices_stack.database_url, future=True)).create(
        ticket_type="repair", channel="telegram", sender_id=str(chat_id), description="灯坏了", language="zh",
        building=building, entrance="1", room="101", unit=f"{building}栋1单元101")

    async with Browser(chromium) as page:
        await page.send("Emulation.setDeviceMetricsOverride", width=1366, height=768, deviceScaleFactor=1, mobile=False)
        await page.goto(f"{notices_stack.rasa_url}/console")
        await page.wait_for(visible("#login-form"))
        await type_into(page, "#login-username", notice_accounts["admin"])
        await type_into(page, "#login-password", ADMIN_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for(visible("#view-queue"))
        if await page.evaluate("document.documentElement.lang") != "zh":
            await click(page, "#lang-toggle")
        await click(page, "#nav button[data-view='notices']")
        await page.wait_for(visible("#notice-form"))
        assert await page.evaluate(text_of("#nav button[data-view='notices']")) == "通知"

        await type_into(page, "#nt-title-zh", "电梯保养通知")
        await type_into(page, "#nt-body-zh", f"{building}号楼电梯周六上午保养，请走楼梯。")
        await type_into(page, "#nt-title-en", "Lift maintenance")
        await type_into(page, "#nt-body-en", f"Building {building}: the lift is serviced on Saturday morning.")
        await page.evaluate("(() => { const s = document.querySelector('#nt-target-kind'); s.value = 'buildings';"
                            " s.dispatchEvent(new Event('change')); })()")
        checkbox = f".nt-building-box[value='{building}']"
        await page.wait_for(f"!!document.querySelector({json.dumps(checkbox)})")
        await click(page, checkbox)
        await click(page, "#nt-preview")
        await page.wait_for(visible("#nt-preview-count"))
        assert await page.evaluate("document.querySelector('#nt-preview-count').dataset.count") == "1"
        assert "将发送给 1 位居民" in await page.evaluate(text_of("#nt-preview-result"))
        assert "Telegram 1" in await page.evaluate(text_of(".nt-by-channel"))
        await screenshot(page, "preview")

        await page.evaluate("window.confirm = (text) => { window.asked = text; return true; }")
        await click(page, "#nt-send")
        await page.wait_for(visible("#notice-report"), timeout=30)
        assert "电梯保养通知" in await page.evaluate("window.asked") and "1 位居民" in await page.evaluate("window.asked")
        assert "已发送" in await page.evaluate(text_of("#nt-message"))
        delivered = notice_fakes.wait_for(lambda: [c for c in notice_fakes.find("telegram", "sendMessage", chat_id=chat_id)
                                                   if "电梯保养通知" in c.params["text"]])
        assert delivered[0].params["text"].startswith("【物业通知】电梯保养通知")

        # The report counts it as delivered once the worker has sent it (reopen the notice to refresh).
        for _ in range(20):
            await click(page, "#notice-table tbody tr.nt-row")
            await page.wait_for(visible("#notice-recipients"))
            if await page.evaluate("document.querySelector('.nt-c-sent').dataset.count") == "1":
                break
            await asyncio.sleep(0.5)
        assert await page.evaluate("document.querySelector('.nt-c-sent').dataset.count") == "1"
        assert str(chat_id) in await page.evaluate(text_of("#notice-recipients"))
        assert "电梯保养通知" in await page.evaluate(text_of("#notice-table tbody tr.nt-row"))
        await screenshot(page, "report")

        # In English the same page reads in English.
        await click(page, "#lang-toggle")
        await page.wait_for("document.documentElement.lang === 'en'")
        await page.wait_for(f"{text_of('#notice-table tbody tr.nt-row')}.includes('Lift maintenance')")
        assert "Some buildings" in await page.evaluate(text_of("#nt-target-kind"))
        assert await page.evaluate(text_of("#nav button[data-view='notices']")) == "Notices"
