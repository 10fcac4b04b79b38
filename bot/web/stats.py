"""The property manager's first dashboards, computed from the ticket tables and the
knowledge base's unanswered-question log."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.tickets.models import Ticket, TicketEvent
from bot.privacy import mask_phones
from bot.web.serialize import iso

OPEN_STATUSES = ("open", "assigned", "in_progress")
#: Age buckets of open tickets: (key, upper bound in days).
AGE_BUCKETS = (("lt_1d", 1), ("1_3d", 3), ("3_7d", 7), ("7_30d", 30), ("gt_30d", None))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def tickets_per_day(store: Any, days: int = 30) -> Dict[str, Any]:
    """Tickets opened and resolved on each of the last ``days`` local days (``LINLI_TIMEZONE``)."""
    tz = store.timezone
    today = datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tz).astimezone(timezone.utc)
    opened: Counter = Counter()
    resolved: Counter = Counter()
    with Session(store.engine) as session:
        for (created,) in session.execute(select(Ticket.created_at).where(Ticket.created_at >= since)):
            opened[_utc(created).astimezone(tz).date()] += 1
        for (at,) in session.execute(select(TicketEvent.at).where(
                TicketEvent.at >= since, TicketEvent.action == "status", TicketEvent.to_status == "resolved")):
            resolved[_utc(at).astimezone(tz).date()] += 1
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        series.append({"day": day.isoformat(), "opened": opened[day], "resolved": resolved[day]})
    return {"timezone": str(tz), "days": series,
            "total_opened": sum(opened.values()), "total_resolved": sum(resolved.values())}


def open_by_age(store: Any, oldest: int = 10) -> Dict[str, Any]:
    """Open tickets (open, assigned, in progress) counted by age bucket, with the oldest ones."""
    now = datetime.now(timezone.utc)
    buckets: Dict[str, int] = {key: 0 for key, _ in AGE_BUCKETS}
    rows: List[Dict[str, Any]] = []
    with Session(store.engine) as session:
        tickets = session.execute(
            select(Ticket.number, Ticket.created_at, Ticket.status, Ticket.category, Ticket.unit)
            .where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.created_at)).all()
    for number, created, status, category, unit in tickets:
        age_days = (now - _utc(created)).total_seconds() / 86400
        for key, bound in AGE_BUCKETS:
            if bound is None or age_days < bound:
                buckets[key] += 1
                break
        if len(rows) < oldest:
            rows.append({"number": number, "created_at": iso(created), "status": status, "category": category,
                         "unit": unit, "age_days": round(age_days, 1)})
    return {"total": len(tickets), "buckets": [{"bucket": k, "count": buckets[k]} for k, _ in AGE_BUCKETS],
            "oldest": rows}


def unanswered(limit: int = 200, engine: Any = None) -> Dict[str, Any]:
    """Latest questions the knowledge base abstained on that nobody reviewed yet (status ``new``:
    ignored and answered ones are off the dashboard), and the most frequent, similar ones grouped."""
    try:
        from knowledge.question_groups import group_questions
        from knowledge.unanswered import latest as latest_unanswered

        entries = latest_unanswered(limit, status="new", engine=engine)  # every replica's, from kb_unanswered
        groups = group_questions(entries)
    except Exception as exc:  # a broken knowledge base must not break the desk
        return {"latest": [], "top": [], "error": f"unanswered questions unavailable: {exc}"}
    top = [{"question": g["question"], "count": g["count"]} for g in groups[:20]]
    latest = [{k: e.get(k) for k in ("ts", "question", "language", "confidence", "sender_id")} for e in entries]
    for entry in latest:  # a dashboard, not a resident's page: no phone numbers
        entry["question"] = mask_phones(entry.get("question"))
    top = [{**t, "question": mask_phones(t["question"])} for t in top]
    return {"latest": latest, "top": top}
