"""Where a repair is, as the repair form keeps it in slots.

The slot ``unit`` holds the display text ("3栋2单元502", "5号楼电梯"); ``location``
the same place as JSON of :class:`bot.tickets.location.Location` (or
``{"kind": "text", "text": ...}`` when the resident's words were accepted as
given); ``location_partial`` a place still missing its building or room.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any, Dict, Optional, Union

from bot.tickets.location import Location, parse_location

FREE_TEXT = "text"


def to_json(place: Union[Location, str, None]) -> Optional[str]:
    """JSON for a slot: a parsed place, or free text accepted as given."""
    if place is None:
        return None
    if isinstance(place, str):
        return json.dumps({"kind": FREE_TEXT, "text": place}, ensure_ascii=False)
    return json.dumps(asdict(place), ensure_ascii=False)


def from_json(value: Any) -> Union[Location, str, None]:
    """The place stored in a slot: a :class:`Location`, free text, or ``None``."""
    if not value:
        return None
    try:
        data: Dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    except (TypeError, ValueError):
        return None
    if data.get("kind") == FREE_TEXT:
        return str(data.get("text") or "") or None
    known = {f.name for f in fields(Location)}
    try:
        return Location(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None


def display(place: Union[Location, str, None], language: str, fallback: Optional[str] = None) -> str:
    """How a place reads in a message to the resident."""
    if isinstance(place, Location):
        return place.display(language)
    return place or fallback or "-"


def is_flat(place: Union[Location, str, None]) -> bool:
    """True for a flat (a technician visits the resident at home)."""
    return isinstance(place, Location) and place.kind == "flat"


def merge(partial: Union[Location, str, None], answer: Optional[Location]) -> Optional[Location]:
    """Complete a partial place with the resident's answer ("楼道" + "3号楼1单元" → "3号楼1单元楼道")."""
    if answer is None or not isinstance(partial, Location) or answer.complete:
        return answer
    building = answer.building or partial.building
    entrance = answer.entrance or partial.entrance
    room = answer.room or partial.room
    area = answer.area or partial.area
    if not building:
        return answer
    text = f"{building}号楼" + (f"{entrance}单元" if entrance else "") + (area or room or "")
    combined = parse_location(text)
    return combined if combined is not None else answer


def ticket_fields(place: Union[Location, str, None]) -> Dict[str, Any]:
    """A ticket's location columns for a place: display text, structured parts, and ``unit`` for a flat."""
    if isinstance(place, Location):
        return {
            "unit": place.canonical() if place.kind == "flat" and place.complete else None,
            "location": place.canonical(),
            "building": place.building,
            "entrance": place.entrance,
            "room": place.room,
            "area": place.area,
        }
    return {"location": place} if place else {}
