"""Helpers every action module uses: language, resident identity, shared services."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

from rasa_sdk import Tracker

from bot.nlu.language import detect_language, normalise_language
from bot.tickets import TicketStore


def language_of(tracker: Tracker) -> str:
    """The language to answer in: the latest message's, else the conversation's."""
    detected = detect_language((tracker.latest_message or {}).get("text"))
    return detected or normalise_language(tracker.get_slot("language"))


def resident_of(tracker: Tracker) -> Tuple[str, str]:
    """``(channel, sender_id)``: a resident is known only by their channel identity."""
    return tracker.get_latest_input_channel() or "unknown", tracker.sender_id


def latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    """The newest ``user`` event, with its message id and timestamp."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def turn_key(tracker: Tracker, purpose: str) -> str:
    """An idempotency key for this conversation turn.

    A retried action call for the same user message yields the same key, so a
    ticket is created once even if the action server is called twice.
    """
    event = latest_user_event(tracker)
    marker: Optional[Any] = event.get("message_id") or event.get("timestamp")
    channel, sender = resident_of(tracker)
    return f"{purpose}:{channel}:{sender}:{marker}"


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    """The process-wide ticket store on ``DATABASE_URL``."""
    return TicketStore.from_env()
