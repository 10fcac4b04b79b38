"""The dashboards drawn as SVG charts (charts.js, dashboards.js) in headless Chromium:
the bars carry the API's figures, satisfaction shows its figures or "no ratings yet"."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from sqlalchemy import create_engine, update

from bot.tickets import TicketStore
from bot.tickets.models import Ticket
from knowledge.unanswered import UnansweredStore

from tests.channels.browser import Browser
from tests.handoff.conftest import ADMIN_PASSWORD, Desk
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.servers import Stack

# What the page shows, read back from the SVG: per day [label, opened, resolved], and so on.
PER_DAY = """[...document.querySelectorAll('#chart-per-day svg g.group')].map(g => [g.dataset.label,
  Number(g.querySelector('rect.s-opened').dataset.value), Number(g.querySelector('rect.s-resolved').dataset.value)])"""
ROWS = """(sel => [...document.querySelectorAll(sel + ' svg g.row')].map(g => [g.dataset.label, Number(g.dataset.value)]))"""

SATISFACTION = {
    "count": 7, "average": 4.29, "distribution": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 4},
    "per_day": [{"day": "2026-11-30", "count": 3, "average": 4.0}, {"day": "2026-12-01", "count": 4, "average": 4.5}],
    "recent": [{"rating": 5, "comment": "师傅来得很快", "subject_type": "ticket", "subject_id": "BX-1",
                "at": "2026-12-01T08:00:00+00:00", "language": "zh"}],
}
EMPTY = {"count": 0, "average": None, "distribution": {str(r): 0 for r in range(1, 6)}, "per_day": [], "recent": []}


def fake_satisfaction(status: int, body: Dict[str, Any]) -> str:
    """Make the page's fetch of /api/stats/satisfaction answer ``status``/``body`` (other calls go through)."""
    return f"""(() => {{
      if (!window.__realFetch) window.__realFetch = window.fetch;
      window.fetch = (url, opts) => String(url).startsWith('/api/stats/satisfaction')
        ? Promise.resolve(new Response(JSON.stringify({json.dumps(body)}), {{status: {status}, headers: {{'Content-Type': 'application/json'}}}}))
        : window.__realFetch(url, opts);
      const before = document.querySelector('#view-dashboards').dataset.loaded;
      window.LinliDesk.show('dashboards');
      return before;
    }})()"""


async def reloaded(page: Browser, before: str) -> None:
    await page.wait_for(f"document.querySelector('#view-dashboards').dataset.loaded !== {json.dumps(before)}")


async def test_dashboard_charts_carry_the_api_figures(stack: Stack, accounts: dict, admin: Desk, chromium: str) -> None:
    store = TicketStore(create_engine(stack.database_url, future=True), timezone="Asia/Shanghai")
    marker = uuid.uuid4().hex[:6]
    # Three tickets opened 12 days ago, one open for 40 days (the "> 30 days" bucket).
    created = [store.create(ticket_type="repair", channel="rest", sender_id=f"dash-{marker}",
                            description=f"图表测试{i} {marker}").number for i in range(4)]
    now = datetime.now(timezone.utc)
    with store.engine.begin() as conn:
        conn.execute(update(Ticket).where(Ticket.number.in_(created[:3])).values(created_at=now - timedelta(days=12)))
        conn.execute(update(Ticket).where(Ticket.number == created[3]).values(created_at=now - timedelta(days=40)))
    day = (now - timedelta(days=12)).astimezone(store.timezone).date().isoformat()
    question = f"小区能不能养羊驼{marker}？"
    unanswered = UnansweredStore(create_engine(stack.database_url, future=True))
    for _ in range(3):
        unanswered.record(question, "zh", 0.2, f"rest:dash-{marker}")

    per_day = admin.get("/api/stats/tickets-per-day?days=30").json()
    by_age = admin.get("/api/stats/open-by-age").json()
    top = admin.get("/api/stats/unanswered?limit=200").json()["top"]
    satisfaction = admin.get("/api/stats/satisfaction?days=30")
    opened_that_day = next(d["opened"] for d in per_day["days"] if d["day"] == day)
    assert opened_that_day >= 3

    async with Browser(chromium) as page:
        await page.send("Emulation.setDeviceMetricsOverride", width=1366, height=768, deviceScaleFactor=1, mobile=False)
        await page.send("Page.addScriptToEvaluateOnNewDocument", source="localStorage.setItem('linli_console_lang', 'zh')")
        await page.goto(f"{stack.rasa_url}/console#dashboards")
        await page.wait_for(visible("#login-form"))
        await type_into(page, "#login-username", accounts["admin"])
        await type_into(page, "#login-password", ADMIN_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for("document.querySelectorAll('#chart-per-day svg rect.bar').length === 60")
        await page.wait_for("document.querySelector('#view-dashboards').dataset.loaded")

        # Tickets per day: one group per day, the bars' values are the API's, day by day.
        drawn = await page.evaluate(PER_DAY)
        assert drawn == [[d["day"][5:], d["opened"], d["resolved"]] for d in per_day["days"]]
        label = day[5:]
        bar = await page.evaluate(f"""(() => {{ const g = document.querySelector('#chart-per-day g.group[data-label="{label}"]');
            const r = g.querySelector('rect.s-opened');
            return {{ height: Number(r.getAttribute('height')), title: r.querySelector('title').textContent,
                      value: g.querySelector('text.value[data-series=opened]').textContent }}; }})()""")
        assert bar["value"] == str(opened_that_day) and bar["title"] == f"{day} · 新增: {opened_that_day}" and bar["height"] > 0
        aria = await page.evaluate("document.querySelector('#chart-per-day svg').getAttribute('aria-label')")
        assert f"{day}: 新增 {opened_that_day}" in aria
        assert await page.evaluate("document.querySelector('#chart-per-day svg').getAttribute('role')") == "img"

        # Open tickets by age: one bar per bucket with the API's count; the oldest ones listed.
        ages = await page.evaluate(ROWS + "('#chart-by-age')")
        assert [v for _, v in ages] == [b["count"] for b in by_age["buckets"]] and ages[-1][1] >= 1
        assert by_age["oldest"][0]["number"] in await page.evaluate(text_of("#chart-by-age table.oldest"))

        # The most frequent unanswered questions as horizontal bars: ours, asked three times.
        rows = dict(await page.evaluate(ROWS + "('#unanswered')"))
        expected = next(q["count"] for q in top if q["question"] == question)
        assert expected == 3 and rows[question] == expected

        # Satisfaction as the route answers it now (404 until the ratings feature is installed).
        if satisfaction.status_code == 404 or not satisfaction.json()["count"]:
            await page.wait_for(f"{text_of('#chart-satisfaction')} === '暂无评分'")
        else:
            count = await page.evaluate("document.querySelector('#chart-satisfaction .sat-count').dataset.count")
            assert int(count) == satisfaction.json()["count"]

        # Ratings drawn: the average and count as text, the distribution 5..1 as bars, a comment.
        before = await page.evaluate(fake_satisfaction(200, SATISFACTION))
        await reloaded(page, before)
        assert await page.evaluate(text_of("#chart-satisfaction .sat-headline")) == "4.3 / 5 分 · 7 条评分"
        assert await page.evaluate(ROWS + "('#chart-satisfaction')") == [
            ["5 星", 4], ["4 星", 2], ["3 星", 0], ["2 星", 1], ["1 星", 0]]
        assert await page.evaluate("document.querySelectorAll('#chart-satisfaction svg circle.dot').length") == 2
        assert "师傅来得很快" in await page.evaluate(text_of("#chart-satisfaction .comments"))
        # No ratings yet: count 0, or the route missing (404), in both languages.
        before = await page.evaluate(fake_satisfaction(200, EMPTY))
        await reloaded(page, before)
        assert await page.evaluate(text_of("#chart-satisfaction")) == "暂无评分"
        before = await page.evaluate(fake_satisfaction(404, {"error": "not_found", "message": "no route"}))
        await reloaded(page, before)
        assert await page.evaluate(text_of("#chart-satisfaction")) == "暂无评分"
        await click(page, "#lang-toggle")
        await page.wait_for(f"{text_of('#chart-satisfaction')} === 'no ratings yet'")
        await page.wait_for(f"{text_of('#view-dashboards h2')} === 'Tickets opened / resolved per day (30 days)'")
        title = await page.evaluate(f"""document.querySelector('#chart-per-day g.group[data-label="{label}"] rect.s-opened title').textContent""")
        assert title == f"{day} · opened: {opened_that_day}"
        # A route that fails leaves the other cards drawn and says what went wrong.
        before = await page.evaluate(fake_satisfaction(500, {"error": "boom", "message": "database down"}))
        await reloaded(page, before)
        assert "database down" in await page.evaluate(text_of("#chart-satisfaction .error"))
        assert await page.evaluate("document.querySelectorAll('#chart-per-day svg rect.bar').length") == 60
