"""Helpers every action module uses: language, resident identity, shared services."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Set, Tuple

from rasa_sdk import Tracker

from bot.channels.identity import split as split_conversation_id
from bot.nlu.language import detect_language, normalise_language
from bot.tickets import TicketStore


def _offered_payloads(tracker: Tracker) -> Set[str]:
    """Button payloads of the bot's last message (what a button click sends back)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            return {str(b.get("payload", "")).strip() for b in buttons}
    return set()


def message_language(tracker: Tracker) -> Optional[str]:
    """The language of the latest message, or ``None`` when it carries none.

    A clicked button sends its payload ("plumbing", "urgent"): that says nothing
    about the resident's language, whatever the payload's spelling.
    """
    text = (tracker.latest_message or {}).get("text")
    if text and text.strip() in _offered_payloads(tracker):
        return None
    return detect_language(text)


def language_of(tracker: Tracker) -> str:
    """The language to answer in: the latest message's, else the conversation's."""
    return message_language(tracker) or normalise_language(tracker.get_slot("language"))


def resident_of(tracker: Tracker) -> Tuple[str, str]:
    """``(channel, platform id)``: a resident is known only by their channel identity.

    Derived from the conversation id (``"wechat:<openid>"``, ``"rest:<sender>"``, see
    :mod:`bot.channels.identity`), which each channel builds itself, never from the
    message's ``input_channel``: a caller cannot claim another channel's resident.
    """
    return split_conversation_id(tracker.sender_id)


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
