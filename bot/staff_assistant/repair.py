"""Filing a repair for a caller or walk-in: the draft staff confirm, checked like the resident's form.

:func:`draft` pre-fills the fields residents give the repair form (description, place,
category, urgency, phone, visit time) from the staff member's message; the panel shows
them as a card staff correct. :func:`validate` checks the card with the same parsers and
normalisers the resident repair form (:mod:`actions.repair_form`) reads answers with —
places through :func:`bot.tickets.location.parse_location` and :mod:`actions.places`,
phones through :mod:`bot.nlu.patterns`, category, urgency and visit time through
:mod:`bot.tickets.triage` — and :func:`file` records the ticket with the channel ``phone``
or ``walk-in`` and the staff member as its creator (the ``created`` event's actor).
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional, Tuple

from actions import places
from bot.nlu.patterns import find_phones, normalise_phone
from bot.staff_assistant.intents import repair_description
from bot.tickets.labels import LABELS
from bot.tickets.location import parse_location
from bot.tickets.triage import (
    clean_description,
    extract_visit_time,
    infer_category,
    infer_urgency,
    normalise_category,
    normalise_urgency,
)

#: Channels a ticket filed by staff may carry.
CHANNELS = ("phone", "walk-in")
#: The card's fields, in order; the first four are required (the resident form asks for them too).
FIELDS = ("description", "place", "phone", "urgency", "category", "visit_time", "channel", "language")
REQUIRED = ("description", "place", "phone")
MAX_TEXT = 500


def draft(text: str, language: str) -> Dict[str, Any]:
    """The card pre-filled from a message ("给3栋2单元502登记报修，厨房水管漏水，业主电话13812345678，不急")."""
    description = repair_description(text)
    place = parse_location(text)
    phones = [m.value for m in find_phones(text)]
    values: Dict[str, Any] = {
        "description": description or "",
        "place": place.display(language) if place is not None else "",
        "phone": phones[0] if phones else "",
        "urgency": infer_urgency(text) or ("normal" if description else ""),
        "category": (infer_category(description) if description else None) or "",
        "visit_time": extract_visit_time(text) or "",
        "channel": "phone",
        "language": language,
        "draft_id": uuid.uuid4().hex,
    }
    checked, errors = validate(values)
    values["missing"] = [name for name in REQUIRED if name in errors]
    values["errors"] = {k: v for k, v in errors.items() if k not in values["missing"] or values[k]}
    if place is not None and not place.complete:
        values["errors"]["place"] = f"place_missing_{place.missing or 'room'}"
    return values


def _text(data: Dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def validate(data: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """``(ticket fields, errors)``: the card checked field by field; ``errors`` maps a field to a code.

    Codes: ``required``, ``place_unknown``, ``place_missing_building`` / ``_room``,
    ``phone_invalid``, ``category_unknown``, ``urgency_unknown``, ``channel_unknown``,
    ``language_unknown``.
    """
    errors: Dict[str, str] = {}
    fields: Dict[str, Any] = {}
    description = _text(data, "description")
    if not description:
        errors["description"] = "required"
    else:
        fields["description"] = clean_description(description) or description
    place_text = _text(data, "place")
    place = parse_location(place_text) if place_text else None
    if not place_text:
        errors["place"] = "required"
    elif place is None:
        errors["place"] = "place_unknown"
    elif not place.complete:
        errors["place"] = f"place_missing_{place.missing or 'room'}"
    else:
        fields.update(places.ticket_fields(place))
    phone_text = _text(data, "phone")
    phones = [m.value for m in find_phones(phone_text)] or ([normalise_phone(phone_text)] if phone_text else [])
    if not phone_text:
        errors["phone"] = "required"
    elif not phones or not phones[-1]:
        errors["phone"] = "phone_invalid"
    else:
        fields["phone"] = phones[-1]
    urgency = _text(data, "urgency")
    if urgency:
        code = urgency if urgency in LABELS["urgency"] else normalise_urgency(urgency)
        if code:
            fields["urgency"] = code
        else:
            errors["urgency"] = "urgency_unknown"
    else:
        fields["urgency"] = infer_urgency(description) or "normal"
    category = _text(data, "category")
    if category:
        code = category if category in LABELS["category"] else normalise_category(category)
        if code:
            fields["category"] = code
        else:
            errors["category"] = "category_unknown"
    else:
        fields["category"] = infer_category(description) or "other" if description else "other"
    visit = _text(data, "visit_time")
    # Like the form: a visit time only matters for a non-urgent problem inside a flat.
    if visit and fields.get("urgency") != "urgent" and places.is_flat(place):
        fields["visit_time"] = extract_visit_time(visit) or visit[:120]
    channel = _text(data, "channel") or "phone"
    if channel not in CHANNELS:
        errors["channel"] = "channel_unknown"
    fields["channel"] = channel
    language = _text(data, "language") or "zh"
    if language not in ("zh", "en"):
        errors["language"] = "language_unknown"
    fields["language"] = language
    return fields, errors


def file(store: Any, fields: Dict[str, Any], creator: str, draft_id: Optional[str] = None) -> Any:
    """Record the checked card as a repair ticket filed by ``creator`` (``staff:<username>``).

    The reporter's identity is the call (``phone`` / ``walk-in`` and an id of its own): the
    phone is on the ticket, never in the identity, which lists show unmasked. The same
    ``draft_id`` never files twice (a double click, a retried request).
    """
    call_id = (draft_id or uuid.uuid4().hex)[:32]
    location = {k: fields.get(k) for k in ("unit", "location", "building", "entrance", "room", "area")}
    ticket = store.create(
        ticket_type="repair", channel=fields["channel"], sender_id=f"{fields['channel']}-{call_id}",
        description=fields["description"], language=fields["language"], category=fields.get("category"),
        urgency=fields.get("urgency"), phone=fields.get("phone"), visit_time=fields.get("visit_time"),
        idempotency_key=f"staff-assistant:{call_id}", actor=creator, **location)
    return store.get(ticket.number)  # with its history and attachments loaded, for the API


def missing_fields(errors: Dict[str, str]) -> List[str]:
    """The required fields still empty (for the reply's "还缺：…")."""
    return [name for name in REQUIRED if errors.get(name) == "required"]
