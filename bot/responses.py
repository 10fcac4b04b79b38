"""Resident-facing texts from ``domain.yml``'s responses, for code that runs outside a Rasa turn.

Actions say responses with ``dispatcher.utter_message(response=...)``; the channels, the staff
desk and the notifier send messages of their own (a welcome, "an agent has joined", a ticket
update) and render the same responses here, so every text a resident reads is in one file, in
both languages. A response's unconditioned variation is the Chinese text; the variation with
the condition ``language == en`` is the English one, as everywhere in the domain.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot import ROOT

DOMAIN = ROOT / "domain.yml"
LANGUAGES = ("zh", "en")
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


class MissingResponse(KeyError):
    """``domain.yml`` has no such response (or no text variation for it)."""


@lru_cache(maxsize=4)
def _responses(path: Path = DOMAIN) -> Dict[str, Dict[str, str]]:
    """``{response name: {language: text}}`` from the domain file (read once per process)."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    table: Dict[str, Dict[str, str]] = {}
    for name, variations in (raw.get("responses") or {}).items():
        texts: Dict[str, str] = {}
        for variation in variations or []:
            if not isinstance(variation, dict) or "text" not in variation:
                continue
            language = _language_of(variation.get("condition"))
            if language is not None:
                texts.setdefault(language, variation["text"])
        if texts:
            table[name] = texts
    return table


def _language_of(conditions: Optional[List[Dict[str, Any]]]) -> Optional[str]:
    """``zh`` for an unconditioned variation, the language for ``language == xx``, else None."""
    if not conditions:
        return "zh"
    for condition in conditions:
        if condition.get("name") == "language" and condition.get("value") in LANGUAGES:
            return condition["value"]
    return None


def render(name: str, language: Optional[str], **values: Any) -> str:
    """The response ``name`` in ``language`` (Chinese when unknown), its ``{slots}`` filled."""
    texts = _responses().get(name)
    if texts is None:
        raise MissingResponse(f"domain.yml has no text response {name!r}")
    template = texts.get(language or "zh") or texts["zh"]
    # Like Rasa's interpolation: a placeholder without a value stays as written.
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def bilingual(name: str, **values: Any) -> str:
    """Chinese, then English: for a message sent before the resident's language is known."""
    return f"{render(name, 'zh', **values)}\n\n{render(name, 'en', **values)}"
