"""Language helpers: detect zh/en for chunks and questions."""

from __future__ import annotations

import re
from typing import Optional

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: Optional[str]) -> Optional[str]:
    """Return "zh", "en" or None; uses the bot's detector when the bot package is present."""
    try:
        from bot.nlu.language import detect_language as bot_detect

        return bot_detect(text)
    except ImportError:  # knowledge is usable without the bot package
        if not text:
            return None
        han, latin = len(_HAN.findall(text)), len(_LATIN_WORD.findall(text))
        if han == 0 and latin == 0:
            return None
        return "zh" if han >= latin else "en"


def language_or(text: str, default: str = "zh") -> str:
    """Detected language of ``text``, or ``default`` when it carries none."""
    return detect_language(text) or default
