"""Staff look-ups answered from the ticket store: open tickets of a building, one ticket's status, counts.

Lists come from :meth:`bot.tickets.store.TicketStore.search` with the same filters as the
desk's ticket list, serialised like it (:func:`bot.web.serialize.ticket_dict` without history:
phones masked), so the assistant never shows more than the list would.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional, Tuple

from bot.tickets import TicketNotFound
from bot.web.serialize import ticket_dict
from bot.web.stats import OPEN_STATUSES

#: Most tickets one answer lists (the desk's list has the rest).
MAX_LISTED = 20


def open_in_building(store: Any, building: str, ticket_type: Optional[str] = "repair") -> Dict[str, Any]:
    """Every not-yet-resolved ticket of ``building`` (newest first, at most :data:`MAX_LISTED`) and the total."""
    filters = {"status": list(OPEN_STATUSES), "building": building, "ticket_type": ticket_type}
    tickets = store.search(limit=MAX_LISTED, **filters)
    return {"building": building.upper(), "ticket_type": ticket_type, "total": store.count(**filters),
            "tickets": [ticket_dict(t, full=False) for t in tickets]}


def status_of(store: Any, number: str) -> Optional[Dict[str, Any]]:
    """One ticket as the desk's list shows it, or ``None`` when there is no such ticket."""
    try:
        return ticket_dict(store.get(number), full=False)
    except TicketNotFound:
        return None


def period_bounds(period: str, tz: Any, now: Optional[datetime] = None) -> Tuple[datetime, datetime]:
    """``(since, until)`` in UTC of a period of the community's local calendar (``LINLI_TIMEZONE``)."""
    local = (now or datetime.now(timezone.utc)).astimezone(tz)
    today = datetime.combine(local.date(), datetime.min.time(), tz)
    if period == "yesterday":
        since, until = today - timedelta(days=1), today
    elif period == "week":
        since, until = today - timedelta(days=6), today + timedelta(days=1)
    elif period == "month":
        since, until = today.replace(day=1), today + timedelta(days=1)
    else:
        since, until = today, today + timedelta(days=1)
    return since.astimezone(timezone.utc), until.astimezone(timezone.utc)


def counts(store: Any, ticket_type: Optional[str], period: str = "today") -> Dict[str, Any]:
    """Tickets of ``ticket_type`` (every type when ``None``) created in ``period``, and how many are still open."""
    since, until = period_bounds(period, store.timezone)
    filters = {"ticket_type": ticket_type, "since": since, "until": until}
    return {"ticket_type": ticket_type, "period": period, "since": since.isoformat(), "until": until.isoformat(),
            "count": store.count(**filters), "open": store.count(status=list(OPEN_STATUSES), **filters)}
