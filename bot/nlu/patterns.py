"""Patterns for the structured entities residents type: units, phones, ticket ids.

Pure functions shared by the NLU extractor (``bot.nlu.pattern_extractor``) and
the form validation in the action server, so that what the NLU finds and what
the form accepts can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional

# ---------------------------------------------------------------- phones
# Chinese mobile numbers (optionally +86/0086, spaced or dashed), landlines
# (area code 0xx/0xxx) and E.164-style international numbers.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:"
    r"(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}"  # CN mobile
    r"|0\d{2,3}[\s-]?\d{7,8}"  # CN landline
    r"|\+\d{1,3}(?:[\s-]?\d{2,4}){2,5}"  # international
    r")(?![0-9A-Za-z])"
)
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> Optional[str]:
    """Return a canonical phone number, or ``None`` when ``raw`` is not one.

    Chinese mobiles become 11 digits ("13812345678"), landlines "021-12345678"
    style digits without separators, international numbers "+" and digits.
    """
    text = raw.strip()
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    if digits.startswith("+86") and _CN_MOBILE.match(digits[3:]):
        return digits[3:]
    if _CN_MOBILE.match(digits):
        return digits
    if re.fullmatch(r"0\d{9,11}", digits):
        return digits
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None


# ---------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    """A flat address inside the community: building, optional entrance, room."""

    building: str
    room: str
    entrance: Optional[str] = None

    def canonical(self) -> str:
        """The property office's own notation, e.g. ``3栋2单元502``."""
        entrance = f"{self.entrance}单元" if self.entrance else ""
        return f"{self.building}栋{entrance}{self.room}"

    def english(self) -> str:
        """English rendering, e.g. ``Building 3, Unit 2, Room 502``."""
        entrance = f", Unit {self.entrance}" if self.entrance else ""
        return f"Building {self.building}{entrance}, Room {self.room}"


_ZH_UNIT = re.compile(
    r"(?P<b>\d{1,3}|[A-Za-z])\s*(?:栋|幢|号楼|座|号)\s*"
    r"(?:(?P<e>\d{1,2})\s*(?:单元|门)\s*)?"
    r"(?P<r>\d{3,4})(?:\s*(?:室|号|房))?"
)
_EN_UNIT = re.compile(
    r"\b(?:building|bldg|block|blk|tower)\.?\s*#?\s*(?P<b>\d{1,3}|[A-Za-z])\b\s*,?\s*"
    r"(?:(?:unit|entrance)\s*#?\s*(?P<e>\d{1,2})\s*,?\s*)?"
    r"(?:(?:room|rm|apt|apartment|flat|unit|no)\.?\s*#?\s*)?(?P<r>\d{3,4})\b",
    re.IGNORECASE,
)
# Compact forms: "3-2-502", "B3-502", "3-502".
_DASH_UNIT = re.compile(
    r"(?<![0-9A-Za-z-])(?:[Bb](?P<bb>\d{1,3})|(?P<b>\d{1,3}))-(?:(?P<e>\d{1,2})-)?(?P<r>\d{3,4})(?![0-9A-Za-z-])"
)


@dataclass(frozen=True)
class Match:
    """An entity found in a text, with exact character offsets."""

    entity: str
    start: int
    end: int
    text: str
    value: str


def _unit_from(m: re.Match) -> Unit:
    groups = m.groupdict()
    building = (groups.get("b") or groups.get("bb") or "").upper()
    return Unit(building=building, room=groups["r"], entrance=groups.get("e"))


def find_units(text: str) -> Iterator[Match]:
    """Yield every unit mention in ``text`` with its canonical value."""
    for pattern in (_ZH_UNIT, _EN_UNIT, _DASH_UNIT):
        for m in pattern.finditer(text):
            yield Match("unit", m.start(), m.end(), m.group(0), _unit_from(m).canonical())


def parse_unit(text: str) -> Optional[Unit]:
    """Parse the first unit mentioned in ``text``; ``None`` if there is none."""
    best: Optional[re.Match] = None
    for pattern in (_ZH_UNIT, _EN_UNIT, _DASH_UNIT):
        m = pattern.search(text)
        if m and (best is None or m.start() < best.start()):
            best = m
    return _unit_from(best) if best else None


def find_phones(text: str) -> Iterator[Match]:
    """Yield every phone number in ``text`` with its normalised value."""
    for m in _PHONE.finditer(text):
        value = normalise_phone(m.group(0))
        if value:
            yield Match("phone", m.start(), m.end(), m.group(0), value)


# ---------------------------------------------------------------- tickets
_TICKET = re.compile(r"(?<![0-9A-Za-z-])(?P<p>BX|TS)-?(?P<d>\d{8})-?(?P<n>\d{4})(?![0-9A-Za-z-])", re.IGNORECASE)


def find_ticket_ids(text: str) -> Iterator[Match]:
    """Yield ticket numbers such as ``BX-20261124-0007`` (case and dashes forgiven)."""
    for m in _TICKET.finditer(text):
        value = f"{m.group('p').upper()}-{m.group('d')}-{m.group('n')}"
        yield Match("ticket_id", m.start(), m.end(), m.group(0), value)


def find_entities(text: str) -> List[Match]:
    """All structured entities in ``text``, left to right, without overlaps.

    Ticket ids win over phones and units (their digits look like both), and
    phones over units ("021-12345678" is not building 21).
    """
    found: List[Match] = []
    for finder in (find_ticket_ids, find_phones, find_units):
        for match in finder(text):
            if not any(match.start < f.end and f.start < match.end for f in found):
                found.append(match)
    return sorted(found, key=lambda m: m.start)
