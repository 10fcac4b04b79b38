"""Texts the desk and the handoff machinery send outside a Rasa turn, from domain.yml."""

from __future__ import annotations

from typing import Optional

from bot.responses import render

#: Short keys used in code → the domain.yml response.
RESPONSES = {
    "taken": "utter_handoff_taken",
    "resumed": "utter_handoff_resumed",
    "timeout": "utter_handoff_timeout",
    "callback_created": "utter_callback_created",
    "callback_failed": "utter_callback_failed",
    "declined": "utter_handoff_declined",
    "nothing_pending": "utter_nothing_pending",
    "handoff_failed": "utter_handoff_failed",
}


def text(key: str, language: Optional[str], **values: str) -> str:
    """The text ``key`` in ``language`` (Chinese when unknown), formatted with ``values``."""
    return render(RESPONSES[key], language, **values)
