"""Who a notice reaches: the residents Linli knows on a channel that can deliver, and their units.

A resident is known when they have a ticket, a unit in ``resident_units``, a notice
subscription row, or a conversation in Rasa's tracker store, on WeChat, Telegram or the web
widget (``socketio``); REST conversations cannot receive messages Linli starts, so they are
never targeted. Their units are the confirmed and staff ones plus those of their flat tickets,
less the units staff removed (:mod:`bot.residence`). Targets:

- ``all``: every known resident;
- ``buildings``: residents with a unit in one of the buildings (a flat ticket naming only the
  building counts too);
- ``units``: residents of one of the units; building and room must match, the entrance too when
  both sides name one ("3栋502" matches "3栋2单元502").

Each recipient's language is the one they last wrote in (channel memory,
:func:`bot.channels.common.known_language`), else that of their latest ticket or conversation,
else Chinese.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from bot.channels.identity import resident_id, split
from bot.nlu.patterns import Unit, chinese_numeral, parse_unit
from bot.notices.models import ALL, BUILDINGS, MAX_TARGETS, TARGET_KINDS, UNITS, notice_subscriptions
from bot.residence.models import ACTIVE, REMOVED, resident_units, unit_key
from bot.tickets.models import Ticket

logger = logging.getLogger(__name__)

#: Channels on which Linli can start a conversation.
DELIVERABLE = ("wechat", "telegram", "socketio")
LanguageOf = Callable[[str, str], Optional[str]]


class TargetError(ValueError):
    """A target the API refuses; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """Who a notice is for."""

    kind: str
    buildings: Tuple[str, ...] = ()
    units: Tuple[Unit, ...] = ()

    def as_json(self) -> Optional[List[Any]]:
        """What ``notices.target`` stores."""
        if self.kind == BUILDINGS:
            return list(self.buildings)
        if self.kind == UNITS:
            return [{"building": u.building, "entrance": u.entrance, "room": u.room} for u in self.units]
        return None

    def describe(self) -> Dict[str, Any]:
        """For the API: kind, buildings, units (with displays)."""
        return {"kind": self.kind, "buildings": list(self.buildings),
                "units": [{"building": u.building, "entrance": u.entrance, "room": u.room, "unit": u.canonical(),
                           "unit_en": u.english()} for u in self.units]}

    @classmethod
    def from_row(cls, kind: str, stored: Any) -> "Target":
        """The target of a stored notice."""
        if kind == BUILDINGS:
            return cls(BUILDINGS, tuple(stored or ()))
        if kind == UNITS:
            return cls(UNITS, units=tuple(Unit(building=u["building"], room=u["room"], entrance=u.get("entrance"))
                                          for u in stored or ()))
        return cls(ALL)


_BUILDING = re.compile(r"^(?i:building|block|bldg\.?|no\.?)?\s*([0-9]{1,4}|[A-Za-z]{1,2}[0-9]{0,3}|[零〇一二两三四五六七八九十百]{1,4})"
                       r"\s*(?:号楼|栋|幢|座|号|楼|#)?$")


def parse_building(value: Any) -> str:
    """``"3"`` from ``"3"``, ``"3栋"``, ``"3号楼"``, ``"三号楼"``, ``"Building 3"``, ``"b"`` → ``"B"``."""
    match = _BUILDING.match(str(value if value is not None else "").strip())
    if not match:
        raise TargetError("bad_building", f"{value!r} is not a building: write its number or letter, e.g. \"3\" or \"3栋\".")
    raw = match.group(1)
    number = chinese_numeral(raw) if raw[0] in "零〇一二两三四五六七八九十百" else None
    return number if number is not None else raw.upper()


def parse_unit_value(value: Any) -> Unit:
    """A unit from ``"3栋2单元502"`` / ``"3-2-502"`` / ``{"building", "entrance"?, "room"}``."""
    if isinstance(value, dict):
        try:
            building = parse_building(value.get("building"))
        except TargetError:
            raise TargetError("bad_unit", f"{value!r}: the unit's building is missing or not a building.") from None
        room = str(value.get("room") or "").strip()
        entrance = str(value.get("entrance") or "").strip() or None
        if not re.fullmatch(r"[0-9A-Za-z]{1,8}", room) or (entrance and not re.fullmatch(r"[0-9A-Za-z]{1,4}", entrance)):
            raise TargetError("bad_unit", f"{value!r}: a unit needs a room such as 502 (and an optional entrance such as 2).")
        return Unit(building=building, room=room.upper(), entrance=entrance)
    unit = parse_unit(str(value or "")) if isinstance(value, str) and len(value) <= 64 else None
    if unit is None:
        raise TargetError("bad_unit", f"{value!r} is not a unit: write e.g. \"3栋2单元502\", \"3-2-502\" or \"5栋1203\".")
    return unit


def parse_target(data: Any) -> Target:
    """The ``target`` of a request: ``{"kind": "all"}``, ``{"kind": "buildings", "buildings": [...]}``,
    ``{"kind": "units", "units": [...]}``; :class:`TargetError` says what is wrong."""
    if not isinstance(data, dict):
        raise TargetError("bad_target", "target must be an object: {\"kind\": \"all\" | \"buildings\" | \"units\", ...}.")
    kind = data.get("kind")
    if kind not in TARGET_KINDS:
        raise TargetError("bad_target", f"target.kind must be one of {', '.join(TARGET_KINDS)}, not {kind!r}.")
    if kind == ALL:
        return Target(ALL)
    items = data.get(kind)
    if not isinstance(items, list) or not items:
        raise TargetError("bad_target", f"target.{kind} must be a non-empty list.")
    if len(items) > MAX_TARGETS:
        raise TargetError("bad_target", f"target.{kind} names {len(items)}; at most {MAX_TARGETS}.")
    if kind == BUILDINGS:
        buildings: List[str] = []
        for item in items:
            building = parse_building(item)
            if building not in buildings:
                buildings.append(building)
        return Target(BUILDINGS, tuple(buildings))
    units: List[Unit] = []
    for item in items:
        unit = parse_unit_value(item)
        if unit not in units:
            units.append(unit)
    return Target(UNITS, units=tuple(units))


# ---------------------------------------------------------------- residents
@dataclass
class Resident:
    """A resident Linli can reach, with what targeting needs to know."""

    channel: str
    sender_id: str
    units: Set[Tuple[str, Optional[str], str]] = field(default_factory=set)  # (building, entrance, room)
    buildings: Set[str] = field(default_factory=set)
    language: Optional[str] = None
    language_at: float = 0.0
    subscribed: bool = True

    @property
    def conversation(self) -> str:
        """``"<channel>:<platform id>"``."""
        return resident_id(self.channel, self.sender_id)

    def matches(self, target: Target) -> bool:
        """Whether ``target`` includes this resident."""
        if target.kind == ALL:
            return True
        if target.kind == BUILDINGS:
            return bool(self.buildings & set(target.buildings))
        return any(b == u.building and r == u.room and (not e or not u.entrance or e == u.entrance)
                   for b, e, r in self.units for u in target.units)


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def _norm_language(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    return "en" if str(value).lower().startswith("en") else "zh"


def _tracker_residents(trackers: Optional[Engine]) -> Iterable[Tuple[str, str, Optional[str], float]]:
    """``(channel, platform id, language, at)`` of the tracker store's conversations on deliverable channels."""
    if trackers is None:
        return []
    try:
        if not inspect(trackers).has_table("events"):
            return []
        likes = " OR ".join(f"sender_id LIKE '{c}:%'" for c in DELIVERABLE)
        with trackers.connect() as conn:
            senders = [s for (s,) in conn.execute(text(f"SELECT DISTINCT sender_id FROM events WHERE {likes}"))]
            languages: Dict[str, Tuple[Optional[str], float]] = {}
            rows = conn.execute(text(
                "SELECT e.sender_id, e.data, e.timestamp FROM events e JOIN (SELECT sender_id, MAX(id) AS id FROM events "
                "WHERE type_name = 'slot' AND action_name = 'language' GROUP BY sender_id) latest ON e.id = latest.id"))
            for sender, data, at in rows:
                try:
                    languages[sender] = (json.loads(data or "{}").get("value"), float(at or 0))
                except ValueError:
                    continue
    except Exception:  # the tracker store is Rasa's: a problem there must not stop a notice
        logger.exception("Could not read the conversations of the tracker store")
        return []
    found = []
    for sender in senders:
        channel, platform = split(sender)
        if channel in DELIVERABLE:
            language, at = languages.get(sender, (None, 0.0))
            found.append((channel, platform, language, at))
    return found


def known_residents(engine: Engine, trackers: Optional[Engine] = None,
                    language_of: Optional[LanguageOf] = None) -> List[Resident]:
    """Every resident Linli can reach, with units, buildings, language and subscription."""
    residents: Dict[Tuple[str, str], Resident] = {}

    def get(channel: str, sender_id: str) -> Resident:
        key = (channel, sender_id)
        if key not in residents:
            residents[key] = Resident(channel, sender_id)
        return residents[key]

    def saw_language(resident: Resident, language: Optional[str], at: float) -> None:
        language = _norm_language(language)
        if language and at >= resident.language_at:
            resident.language, resident.language_at = language, at

    tables = set(inspect(engine).get_table_names())
    removed: Set[Tuple[str, str]] = set()
    with engine.connect() as conn:
        if resident_units.name in tables:
            for row in conn.execute(select(resident_units).where(resident_units.c.channel.in_(DELIVERABLE))):
                if row.status == REMOVED:
                    removed.add((row.resident, row.unit_key))
                elif row.status == ACTIVE:
                    resident = get(row.channel, row.sender_id)
                    resident.units.add((row.building, row.entrance, row.room))
                    resident.buildings.add(row.building)
        if Ticket.__tablename__ in tables:
            query = (select(Ticket.channel, Ticket.sender_id, Ticket.language, Ticket.created_at, Ticket.building,
                            Ticket.entrance, Ticket.room, Ticket.area)
                     .where(Ticket.channel.in_(DELIVERABLE)).order_by(Ticket.id))
            for channel, sender_id, language, created, building, entrance, room, area in conn.execute(query):
                resident = get(channel, sender_id)
                saw_language(resident, language, _epoch(created))
                if not building or area:
                    continue  # a public place is no home
                if room and (resident.conversation, unit_key(building, entrance, room)) in removed:
                    continue
                resident.buildings.add(building)
                if room:
                    resident.units.add((building, entrance, room))
        if notice_subscriptions.name in tables:
            for row in conn.execute(select(notice_subscriptions).where(notice_subscriptions.c.channel.in_(DELIVERABLE))):
                get(row.channel, row.sender_id).subscribed = bool(row.subscribed)
    for channel, platform, language, at in _tracker_residents(trackers):
        saw_language(get(channel, platform), language, at)
    if language_of is not None:
        for resident in residents.values():
            try:
                remembered = language_of(resident.channel, resident.sender_id)
            except Exception:  # channel memory down: the stored languages still stand
                logger.exception("Could not read the remembered language of %s", resident.conversation)
                remembered = None
            if remembered:
                resident.language = _norm_language(remembered)
    for resident in residents.values():
        resident.language = resident.language or "zh"
    return sorted(residents.values(), key=lambda r: (r.channel, r.sender_id))


def recipients(engine: Engine, target: Target, trackers: Optional[Engine] = None,
               language_of: Optional[LanguageOf] = None) -> List[Resident]:
    """The known residents ``target`` includes (opted-out ones too: the sender decides)."""
    return [r for r in known_residents(engine, trackers, language_of) if r.matches(target)]


def preview(engine: Engine, target: Target, urgent: bool, trackers: Optional[Engine] = None,
            language_of: Optional[LanguageOf] = None) -> Dict[str, Any]:
    """How many residents a notice would reach: ``total`` targeted, ``opted_out`` of them, ``will_send``
    (opted-out ones are skipped unless ``urgent``), and ``will_send`` split by channel and language."""
    found = recipients(engine, target, trackers, language_of)
    sending = [r for r in found if urgent or r.subscribed]
    return {"total": len(found), "opted_out": sum(1 for r in found if not r.subscribed),
            "will_send": len(sending), "skipped": len(found) - len(sending), "urgent": bool(urgent),
            "by_channel": dict(Counter(r.channel for r in sending)),
            "by_language": dict(Counter(r.language for r in sending)), "target": target.describe()}


def known_buildings(engine: Engine, trackers: Optional[Engine] = None) -> List[Dict[str, Any]]:
    """Buildings with the number of known residents in each (the desk's target picker)."""
    counts: Counter = Counter()
    for resident in known_residents(engine, trackers):
        counts.update(resident.buildings)

    def order(building: str) -> Tuple[int, int, str]:
        return (0, int(building), "") if building.isdigit() else (1, 0, building)
    return [{"building": b, "residents": counts[b]} for b in sorted(counts, key=order)]


__all__ = ["DELIVERABLE", "Resident", "Target", "TargetError", "known_buildings", "known_residents", "parse_building",
           "parse_target", "parse_unit_value", "preview", "recipients"]
