"""JSON forms of tickets for the staff desk API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Optional

from bot.privacy import mask_phone, mask_phones
from bot.tickets.labels import label


def iso(value: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC (SQLite returns naive datetimes, which are UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def _labels(kind: str, code: Optional[str]) -> Dict[str, str]:
    return {"zh": label(kind, code, "zh"), "en": label(kind, code, "en")}


def ticket_dict(ticket: Any, full: bool = True) -> Dict[str, Any]:
    """A ticket for the API; ``full`` adds its history and attachments.

    Lists (``full=False``) mask the resident's phone number (``138****5678``), also
    inside the description; only the ticket's own page shows it in full.
    """
    data: Dict[str, Any] = {
        "number": ticket.number,
        "type": ticket.type,
        "status": ticket.status,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "unit": ticket.unit,
        "location": ticket.location,
        "building": ticket.building,
        "entrance": ticket.entrance,
        "room": ticket.room,
        "area": ticket.area,
        "visit_time": ticket.visit_time,
        "description": ticket.description,
        "phone": ticket.phone,
        "assignee": ticket.assignee,
        "channel": ticket.channel,
        "sender_id": ticket.sender_id,
        "language": ticket.language,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "labels": {
            "type": _labels("type", ticket.type),
            "status": _labels("status", ticket.status),
            "category": _labels("category", ticket.category),
            "urgency": _labels("urgency", ticket.urgency),
        },
    }
    if not full:
        data["phone"] = mask_phone(data["phone"])
        data["description"] = mask_phones(data["description"])
    if full:
        data["events"] = [
            {"at": iso(e.at), "actor": e.actor, "action": e.action, "from_status": e.from_status,
             "to_status": e.to_status, "note": e.note}
            for e in ticket.events
        ]
        data["attachments"] = [
            {"id": a.id, "kind": a.kind, "ref": a.ref, "created_at": iso(a.created_at),
             "url": a.ref if a.ref.startswith(("http://", "https://"))
             else f"/api/tickets/{ticket.number}/attachments/{a.id}"}
            for a in ticket.attachments
        ]
        data["rating"] = _rating(ticket)
    return data


def _rating(ticket: Any) -> Optional[Dict[str, Any]]:
    """The resident's satisfaction rating of the ticket, ``{"rating", "comment", "at"}`` or ``None``,
    read from the database the ticket came from (its session's, else ``DATABASE_URL``)."""
    from sqlalchemy.orm import object_session

    from bot.satisfaction.asking import rating_of

    session = object_session(ticket)
    return rating_of("ticket", ticket.number, session.get_bind() if session is not None else None)
