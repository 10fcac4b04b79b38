"""The dashboard's daily summary: repair categories and buildings rising against their recent average.

Today's tickets (local day, ``LINLI_TIMEZONE``) of each category and each building are compared
with the mean per day of the ``days`` days before; a row is *rising* when today has at least
``MIN_TODAY`` tickets and more than ``FACTOR`` times that mean (any count over a mean of zero).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.incidents.models import as_utc
from bot.tickets.models import Ticket

MIN_TODAY = 2
FACTOR = 1.5


def _rows(today: Counter, before: Counter, days: int, name: str) -> List[Dict[str, Any]]:
    rows = []
    for key in set(today) | set(before):
        count, average = today[key], before[key] / days
        rows.append({name: key, "today": count, "average": round(average, 2),
                     "ratio": round(count / average, 2) if average else None,
                     "rising": count >= MIN_TODAY and count > FACTOR * average})
    rows.sort(key=lambda r: (not r["rising"], -(r["today"] - r["average"]), str(r[name])))
    return rows


def rising(engine: Engine, tz: str, days: int = 7, now: Optional[datetime] = None) -> Dict[str, Any]:
    """Today's repair tickets per category and per building against the mean of the ``days`` before."""
    zone = ZoneInfo(tz)
    local_now = (now or datetime.now(timezone.utc)).astimezone(zone)
    today = local_now.date()
    start_today = datetime.combine(today, datetime.min.time(), zone)
    since = (start_today - timedelta(days=days)).astimezone(timezone.utc)
    counts = {"category": (Counter(), Counter()), "building": (Counter(), Counter())}
    query = select(Ticket.category, Ticket.building, Ticket.created_at).where(
        Ticket.type == "repair", Ticket.created_at >= since)
    with engine.connect() as conn:
        for category, building, created in conn.execute(query):
            local = as_utc(created).astimezone(zone)
            if local > local_now:
                continue
            slot = 0 if local.date() == today else 1
            if category:
                counts["category"][slot][category] += 1
            if building:
                counts["building"][slot][building] += 1
    categories = _rows(*counts["category"], days, "category")
    buildings = _rows(*counts["building"], days, "building")
    return {"day": today.isoformat(), "timezone": tz, "baseline_days": days, "min_today": MIN_TODAY,
            "factor": FACTOR, "categories": categories, "buildings": buildings,
            "rising": {"categories": [r for r in categories if r["rising"]],
                       "buildings": [r for r in buildings if r["rising"]]}}
