"""A notice's delivery report: how many were sent, queued, failed, undeliverable or skipped, and why.

Read from ``notice_deliveries`` joined with the outbox rows that carry them: ``sent`` (delivered),
``queued`` (pending or being sent: the outbox keeps trying), ``failed`` (a dead letter: every
attempt failed; staff may retry it in Deliveries), ``undeliverable`` (the channel cannot deliver
proactively, e.g. not configured), ``skipped`` (the resident opted out of non-urgent notices).
An outbox row deleted by retention shows as ``unknown``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.notices.models import SKIPPED, notice_deliveries as d
from bot.notices.store import iso
from bot.outbox.models import DEAD, PENDING, SENDING, SENT, UNDELIVERABLE, outbox_table as o

COUNTS = ("sent", "queued", "failed", "undeliverable", "skipped")
_STATUS = {SENT: "sent", PENDING: "queued", SENDING: "queued", DEAD: "failed", UNDELIVERABLE: "undeliverable"}
#: Most recipients listed in one report (the counts cover all).
LIST_LIMIT = 1000


def _status(outcome: str, outbox_status: Optional[str]) -> str:
    if outcome == SKIPPED:
        return "skipped"
    return _STATUS.get(outbox_status or "", "unknown")


def delivery_report(engine: Engine, notice_id: int, limit: int = LIST_LIMIT) -> Dict[str, Any]:
    """``{"counts": {sent, queued, failed, undeliverable, skipped, total}, "recipients": [...]}``."""
    query = (select(d.c.resident, d.c.channel, d.c.sender_id, d.c.language, d.c.outcome, d.c.reason, d.c.outbox_id,
                    o.c.status, o.c.last_error, o.c.attempts, o.c.sent_at)
             .select_from(d.outerjoin(o, o.c.id == d.c.outbox_id))
             .where(d.c.notice_id == notice_id).order_by(d.c.id))
    counts: Dict[str, int] = {name: 0 for name in COUNTS}
    listed: List[Dict[str, Any]] = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            status = _status(row.outcome, row.status)
            counts[status] = counts.get(status, 0) + 1
            if len(listed) < limit:
                reason = row.reason if row.outcome == SKIPPED else (None if status == "sent" else row.last_error)
                if status == "unknown":
                    reason = "the outbox row was deleted (retention)"
                listed.append({"resident": row.resident, "channel": row.channel, "platform_id": row.sender_id,
                               "language": row.language, "status": status, "reason": reason,
                               "outbox_id": row.outbox_id, "attempts": row.attempts or 0, "sent_at": iso(row.sent_at)})
    counts["total"] = sum(v for k, v in counts.items())
    return {"counts": counts, "recipients": listed}
