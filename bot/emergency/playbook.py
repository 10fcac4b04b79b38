"""Loads the emergency playbook and finds hazards in a message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Sequence

import yaml

from bot.settings import Community

DEFAULT_PATH = Path(__file__).with_name("playbook.yml")
# How far back from a hazard word a negation may stand ("没有闻到煤气味", "there is no smoke").
_NEGATION_WINDOW = 8


@dataclass(frozen=True)
class Hazard:
    """One kind of emergency: how residents say it, and what to tell them."""

    id: str
    category: str
    label: Dict[str, str]
    advice: Dict[str, str]
    numbers: Sequence[str]
    patterns: Dict[str, Sequence[Pattern[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class HazardMatch:
    """A hazard found in a text, with the words that said it."""

    hazard: Hazard
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Playbook:
    """Every hazard, the public numbers and the property's duty phone."""

    duty_phone: str
    numbers: Dict[str, Dict[str, str]]
    hazards: Sequence[Hazard]
    generic: Hazard
    not_now: Sequence[Pattern[str]]
    negation: Dict[str, Pattern[str]]
    cues: Sequence[Pattern[str]] = ()

    def hazard(self, hazard_id: Optional[str]) -> Hazard:
        """The hazard with ``hazard_id``, or the generic emergency."""
        return next((h for h in self.hazards if h.id == hazard_id), self.generic)

    def number_lines(self, hazards: Sequence[Hazard], language: str) -> List[str]:
        """Public numbers for ``hazards`` (no repeats), then the duty phone."""
        seen: List[str] = []
        for hazard in hazards:
            for key in hazard.numbers:
                if key not in seen and key in self.numbers:
                    seen.append(key)
        lines = [self.numbers[key][language] for key in seen if key != "duty"]
        lines.append(self.numbers["duty"][language].format(phone=self.duty_phone))
        return lines


def _compile(patterns: Sequence[str]) -> List[Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _hazard(raw: dict, hazard_id: str) -> Hazard:
    return Hazard(
        id=hazard_id,
        category=raw.get("category", "other"),
        label=raw["label"],
        advice=raw["advice"],
        numbers=tuple(raw.get("numbers") or ()),
        patterns={lang: _compile(raw.get("patterns", {}).get(lang, [])) for lang in ("zh", "en")},
    )


def playbook_path() -> Path:
    """``LINLI_EMERGENCY_PLAYBOOK`` when set, else the bundled playbook."""
    return Path(Community.read("emergency_playbook") or DEFAULT_PATH)


@lru_cache(maxsize=4)
def _load(path: str, duty_phone: Optional[str]) -> Playbook:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return Playbook(
        duty_phone=duty_phone or str(raw["duty_phone"]),
        numbers=raw["numbers"],
        hazards=tuple(_hazard(h, h["id"]) for h in raw["hazards"]),
        generic=_hazard(raw["generic"], "generic"),
        not_now=_compile(raw["not_now"]["zh"] + raw["not_now"]["en"]),
        negation={lang: re.compile(raw["negations"][lang], re.IGNORECASE) for lang in ("zh", "en")},
        cues=_compile(list((raw["generic"].get("cues") or {}).values())),
    )


def load_playbook(path: Optional[Path] = None) -> Playbook:
    """The playbook in force (cached; ``LINLI_DUTY_PHONE`` overrides its duty phone)."""
    return _load(str(path or playbook_path()), Community.read("duty_phone") or None)


def _negated(playbook: Playbook, text: str, start: int) -> bool:
    before = text[max(0, start - _NEGATION_WINDOW * 3): start]
    zh_before = text[max(0, start - _NEGATION_WINDOW): start]
    # Only the clause the hazard is in: "不是很急，但是水漫出来了" is not negated.
    zh_clause = re.split(r"[，,。.!！?？；;但]", zh_before)[-1]
    en_clause = re.split(r"[,.;!?]|\bbut\b", before)[-1]
    return bool(playbook.negation["zh"].search(zh_clause) or playbook.negation["en"].search(en_clause))


def is_not_now(text: str, playbook: Optional[Playbook] = None) -> bool:
    """True for hypothetical, preventive or past wording ("如果着火怎么办", "yesterday the lift…")."""
    playbook = playbook or load_playbook()
    return any(p.search(text) for p in playbook.not_now)


def says_emergency(text: str, playbook: Optional[Playbook] = None) -> bool:
    """True when a message calls itself an emergency ("救命", "help me", "紧急情况") without naming a hazard."""
    playbook = playbook or load_playbook()
    if not text or is_not_now(text, playbook):
        return False
    return any(not _negated(playbook, text, m.start()) for p in playbook.cues for m in p.finditer(text))


def detect_hazards(text: str, playbook: Optional[Playbook] = None) -> List[HazardMatch]:
    """Hazards happening now in ``text``, most pressing first; empty when there are none.

    A mention that is negated ("没有烟味"), hypothetical ("如果电梯困人怎么办") or in
    the past ("昨天停电了") is not an emergency now.
    """
    playbook = playbook or load_playbook()
    if not text or text.startswith("/") or is_not_now(text, playbook):
        return []
    found: List[HazardMatch] = []
    for hazard in playbook.hazards:
        for pattern in (*hazard.patterns.get("zh", ()), *hazard.patterns.get("en", ())):
            match = next((m for m in pattern.finditer(text) if not _negated(playbook, text, m.start())), None)
            if match:
                found.append(HazardMatch(hazard, match.start(), match.end(), match.group(0)))
                break
    return found
