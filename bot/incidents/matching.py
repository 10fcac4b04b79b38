"""Which incident a resident's message is about: outage words per kind, buildings named, questions.

Two readings, both by patterns (no retraining):

- :func:`kinds_in` — the kinds of outage a text mentions: an outage word on its own ("停水",
  "没电", "来电", "blackout") or a kind's noun with an outage cue ("电梯" + "坏", "lift" +
  "broken", "water" + "no"). "水费怎么交" and "the water bill" mention no outage.
- :func:`asks_about_outage` — the message asks about one ("停水了吗？", "什么时候来电",
  "is the lift broken in building 5?", "why is there no water"): a question that mentions an
  outage kind.

A report matches an incident of the same kind, or one whose kind explains its repair category
(:data:`bot.incidents.models.KIND_CATEGORIES`), in an affected building.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Pattern, Tuple

from bot.nlu.questions import is_question
from bot.tickets.location import parse_location

# kind -> (outage words that say it alone, the kind's nouns)
_WORDS: Dict[str, Tuple[str, str]] = {
    "water": (r"停水|断水|没水|没有水|无水|没自来水|来水|供水|水停了|水还没来|水压低|\bno water\b|\bwater (is )?(off|out|cut)\b"
              r"|\bwater outage\b|\bwater supply\b",
              r"自来水|用水|\bwater\b|\btap water\b"),
    "power": (r"停电|断电|没电|没有电|来电|供电|电停了|电还没来|\bblackout\b|\bpower (cut|outage|failure)\b|\bno power\b"
              r"|\bno electricity\b|\bpower is (off|out)\b",
              r"电力|\bpower\b|\belectricity\b"),
    "lift": (r"电梯停运|电梯维修|电梯检修|电梯故障|电梯坏|\blift (is )?(out|broken|down)\b|\belevator (is )?(out|broken|down)\b",
             r"电梯|\blifts?\b|\belevators?\b"),
    "gas": (r"停气|断气|没气|没有燃气|没燃气|没有煤气|没煤气|没有天然气|供气|\bno gas\b|\bgas (is )?(off|out|cut)\b",
            r"燃气|煤气|天然气|\bgas\b"),
    "network": (r"断网|没网|没有网|网断了|网络故障|宽带故障|\bno (internet|wifi|wi-fi|network)\b|\binternet (is )?(down|out)\b",
                r"网络|宽带|网速|\binternet\b|\bwifi\b|\bwi-fi\b|\bbroadband\b|\bnetwork\b"),
}
_CUE = re.compile(r"停|断|没|坏|不能用|用不了|不动|不亮|故障|维修|检修|恢复|什么时候|多久|怎么回事|怎么了|好了吗|还要|来了吗"
                  r"|\b(no|not|out|off|cut|down|broken|outage|working|work|stopped|back|restored|when|why|again)\b",
                  re.IGNORECASE)
_PATTERNS: Dict[str, Tuple[Pattern[str], Pattern[str]]] = {
    kind: (re.compile(alone, re.IGNORECASE), re.compile(nouns, re.IGNORECASE)) for kind, (alone, nouns) in _WORDS.items()
}
_BUILDING = re.compile(r"(?<![\dA-Za-z])([A-Za-z]|\d{1,3})\s*(?:号楼|號樓|栋|棟|幢|座|号)"
                       r"|\b(?:building|block|bldg\.?|tower)\s*#?\s*([A-Za-z]|\d{1,3})\b", re.IGNORECASE)


def kinds_in(text: str) -> List[str]:
    """The outage kinds ``text`` mentions (see the module docstring), in declaration order."""
    if not text:
        return []
    cue = bool(_CUE.search(text))
    return [kind for kind, (alone, nouns) in _PATTERNS.items()
            if alone.search(text) or (cue and nouns.search(text))]


def asks_about_outage(text: str, intent: Optional[str] = None) -> List[str]:
    """The kinds a *question* is about; empty when the message is no question about an outage."""
    kinds = kinds_in(text)
    if not kinds:
        return []
    asking = is_question(text) or intent in ("ask_question", "nlu_fallback", "out_of_scope")
    return kinds if asking else []


def buildings_in(text: str) -> List[str]:
    """Buildings a message names ("3号楼", "5栋1203", "building 5")."""
    found: List[str] = []
    place = parse_location(text or "")
    if place is not None and getattr(place, "building", None):
        found.append(str(place.building).upper())
    for match in _BUILDING.finditer(text or ""):
        building = (match.group(1) or match.group(2) or "").upper()
        if building and building not in found:
            found.append(building)
    return found
