"""How often agents use suggested replies: shown / inserted / sent, per local day.

Counters live in the shared key/value store (:func:`bot.channels.state.kv_store`: the
``channel_kv`` table, or Redis in a cluster), one key per event and day
(``assist:inserted:2026-12-01``), kept :data:`KEEP_DAYS` days: no table of their own.
A message's suggestions count as shown once, however often the conversation is opened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Dict, Optional

from bot.channels.state import kv_store

EVENTS = ("shown", "inserted", "sent")
#: Days a counter is kept (a little over a year, like the dashboards' longest range).
KEEP_DAYS = 400
_TTL = KEEP_DAYS * 86400.0


def _key(event: str, day: date) -> str:
    return f"assist:{event}:{day.isoformat()}"


def record(event: str, tz: Any, amount: int = 1, when: Optional[datetime] = None) -> int:
    """Count ``event`` (one of :data:`EVENTS`) on today's local day; returns the day's count."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {', '.join(EVENTS)}")
    day = (when or datetime.now(tz)).astimezone(tz).date()
    return kv_store().incr(_key(event, day), _TTL, amount)


def first_showing(handoff_id: int, message_ts: float) -> bool:
    """True the first time the suggestions for this message of this handoff are shown."""
    return kv_store().claim(f"assist:shown-once:{handoff_id}:{message_ts:.6f}", _TTL)


def daily(tz: Any, days: int = 30) -> Dict[str, Any]:
    """Each of the last ``days`` local days with its counts, oldest first, and the totals."""
    store = kv_store()
    today = datetime.now(tz).date()
    rows = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        rows.append({"day": day.isoformat(), **{e: int(store.get(_key(e, day)) or 0) for e in EVENTS}})
    totals = {e: sum(r[e] for r in rows) for e in EVENTS}
    return {"days": rows, "totals": totals,
            "insert_rate": round(totals["inserted"] / totals["shown"], 3) if totals["shown"] else None}
