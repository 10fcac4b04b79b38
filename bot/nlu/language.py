"""Language detection for zh/en messages.

Residents write Chinese, English, or a mix ("我家elevator坏了"). We answer in the
language that carries most of the message: every Han character counts as one
unit, every Latin word as one unit. Messages with neither (a phone number,
"👍") are language-neutral and return ``None`` so callers keep the previous
language of the conversation.
"""

from __future__ import annotations

import re
from typing import Optional

SUPPORTED_LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Latin words of two or more letters; single letters are usually unit codes ("B3-502").
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Rasa intent payloads such as "/affirm" or '/inform{"urgency": "urgent"}' carry no language.
_PAYLOAD = re.compile(r"^/\w+")


def detect_language(text: Optional[str]) -> Optional[str]:
    """Return ``"zh"``, ``"en"`` or ``None`` when the text carries no language."""
    if not text or _PAYLOAD.match(text.strip()):
        return None
    han = len(_HAN.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if han == 0 and latin == 0:
        return None
    # One Han character carries about as much as one English word; ties go to
    # Chinese, the first language of most residents.
    return "zh" if han >= latin else "en"


def normalise_language(value: Optional[str]) -> str:
    """Map a slot or metadata value onto a supported language code."""
    return "en" if value and value.lower().startswith("en") else DEFAULT_LANGUAGE
