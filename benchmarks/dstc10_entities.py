"""Which hotel, restaurant or attraction a DSTC10 track 2 dialogue is about.

DSTC10's FAQ selection first needs the entity under discussion; the dialogues are
spoken (ASR output: "the s. w. hotel", "harbor court har hot", "in union square").
This tracker matches entity names at word level and picks the latest mention,
with the rules that the validation errors called for:

- name variants: the full name, the part before " - Area" or ", a ... Hotel",
  without a leading "the" or a trailing "San Francisco"/"Hotel"/"Restaurant"
  (multi-word variants only, and only those naming a single entity);
- branches ("Super Duper Burgers - Union Square" / "- Duboce Triangle") are told
  apart by the latest area mentioned in the dialogue;
- a name that is also a neighbourhood ("Union Square", "North Beach", "Nopa")
  preceded by "in"/"near"/"around" is a place, not the entity;
- spelled letters ("s. w.") are joined, and digits in names are also matched as
  spoken words ("3D" -> "three d").

Benchmark code only: the product's own dialogue has no entity tracking to do.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

Entity = Tuple[str, str]  # (domain, entity id)

_DIGITS = "zero one two three four five six seven eight nine".split()
_GENERIC_TAIL = ("san francisco", "hotel", "restaurant")
# Before a neighbourhood name these mean a place ("in union square", "taylor street union square").
_LOCATIVE = {"in", "near", "around", "street", "avenue", "road", "boulevard"}
_SPELLED = re.compile(r"\b(?:[a-z]\. ?){2,}")


def words(text: str) -> List[str]:
    """Lower-case word tokens; "&" is "and", apostrophes vanish, spelled letters are joined."""
    text = text.lower().replace("&", " and ").replace("'", "").replace("’", "")
    text = _SPELLED.sub(lambda m: m.group(0).replace(".", "").replace(" ", "") + " ", text)
    return re.findall(r"[a-z0-9]+", text)


def _spoken_digits(tokens: List[str]) -> List[str]:
    """"3d" -> "three d": how a recogniser writes a name with digits."""
    out: List[str] = []
    for tok in tokens:
        parts = re.findall(r"\d|[a-z]+", tok)
        if any(p.isdigit() for p in parts):
            out += [_DIGITS[int(p)] if p.isdigit() else p for p in parts]
        else:
            out.append(tok)
    return out


def _variants(name: str) -> List[Tuple[Tuple[str, ...], bool]]:
    """(tokens, shortened?) for each way of saying an entity name.

    "Shortened" forms (a generic tail removed) need two words, and are dropped later
    when they start another entity's name ("Nob Hill Hotel" -> "nob hill" would
    otherwise claim "Nob Hill Motor Inn").
    """
    found: Dict[Tuple[str, ...], bool] = {}
    for base in {name, name.split(" - ")[0], name.split(",")[0]}:
        toks = words(base)
        forms = [(toks, False)]
        if toks[:1] == ["the"]:
            forms.append((toks[1:], False))
        for form, _ in list(forms):
            for tail in _GENERIC_TAIL:
                t = tail.split()
                if len(form) > len(t) + 1 and form[-len(t):] == t:
                    forms.append((form[:-len(t)], True))
        for form, short in forms:
            for variant in (tuple(form), tuple(_spoken_digits(form))):
                found[variant] = found.get(variant, True) and short
    return [(v, short) for v, short in found.items() if len("".join(v)) >= 4]


def _key(tokens: Sequence[str]) -> str:
    """Spacing-free form: "dragon eats" and "DragonEats", "sea food" and "Seafood" agree."""
    return "".join(tokens)


class EntityTracker:
    """Finds the entity a dialogue is currently about (see the module docstring)."""

    def __init__(self, knowledge: Dict[str, Dict[str, Dict]]) -> None:
        by_key: Dict[str, set] = defaultdict(set)
        shortened: Dict[str, bool] = {}
        self.base_of: Dict[Entity, str] = {}
        self.area_of: Dict[Entity, str] = {}
        full_keys: Dict[str, Entity] = {}
        for domain, ents in knowledge.items():
            for eid, ent in ents.items():
                name = ent.get("name")
                if not name:
                    continue
                entity = (domain, eid)
                self.base_of[entity] = _key(words(name.split(" - ")[0]))
                full_keys[_key(words(name))] = entity
                if " - " in name:
                    self.area_of[entity] = _key(words(name.split(" - ", 1)[1]))
                for variant, short in _variants(name):
                    key = _key(variant)
                    by_key[key].add(entity)
                    shortened[key] = shortened.get(key, True) and short
        self.variants: Dict[str, List[Entity]] = {}
        for key, entities in by_key.items():
            bases = {self.base_of[e] for e in entities}
            if len(bases) > 1:
                continue  # names different entities: ambiguous
            if shortened[key] and any(k != key and k.startswith(key) and full_keys[k] not in entities
                                      for k in full_keys):
                continue  # a shortened name that begins another entity's name
            self.variants[key] = sorted(entities)
        self.areas = set(self.area_of.values())
        self.place_like = {k for k, entities in self.variants.items()
                           if k in self.areas or any(e[0] == "attraction" for e in entities)}
        self.max_tokens = 10

    def _mentions(self, toks: Sequence[str], table) -> List[Tuple[int, int, str]]:
        """(start, end, key) of every match, the longest match at each start position."""
        found = []
        for i in range(len(toks)):
            for n in range(min(self.max_tokens, len(toks) - i), 0, -1):
                key = _key(toks[i:i + n])
                if key in table:
                    found.append((i, i + n, key))
                    break
        return found

    def _is_place(self, toks: Sequence[str], start: int, key: str) -> bool:
        if key not in self.place_like:
            return False
        prev = [t for t in toks[max(0, start - 2):start] if t != "the"]
        return bool(prev) and prev[-1] in _LOCATIVE

    def entity_of(self, turns: Sequence[str]) -> Optional[Entity]:
        """The entity of the latest mention in the dialogue's turns (oldest first), or None."""
        toks = words(" ".join(turns))
        best: Optional[Tuple[int, int, str]] = None
        for start, end, key in self._mentions(toks, self.variants):
            if self._is_place(toks, start, key):
                continue
            if best is None or end > best[1] or (end == best[1] and len(key) > len(best[2])):
                best = (start, end, key)
        if best is None:
            return None
        candidates = self.variants[best[2]]
        if len(candidates) == 1:
            return candidates[0]
        # Branches of one chain: the area mentioned last in the dialogue decides.
        area_end = {key: end for _, end, key in self._mentions(toks, self.areas)}
        return max(candidates, key=lambda e: area_end.get(self.area_of.get(e, ""), -1))
