"""``action_session_start``: Rasa's session start, plus what a new session must keep.

Rasa starts a new session after ``session_expiration_time`` (domain.yml); a new session
forgets that the conversation was paused. A conversation handed off to staff must stay
paused though, however long the agent takes: the handoff table is the source of truth, so
the new session is paused again while a handoff is queued or active.

It also sets ``complaints_to_human`` from ``LINLI_COMPLAINTS_TO_HUMAN``, which the rules
read to send complaints to staff instead of the complaint form.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.handoff import handoff_store
from bot.handoff.settings import HandoffSettings

logger = logging.getLogger(__name__)

#: Slots a session start always sets from the settings, never carried over.
SETTING_SLOTS = ("complaints_to_human",)


def _carried_over(tracker: Tracker, domain: DomainDict) -> List[EventType]:
    """The previous session's slots, as Rasa's own session start carries them over (its slot events)."""
    if not (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True):
        return []
    values: Dict[str, Any] = {}
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") not in SETTING_SLOTS:
            values[event["name"]] = event.get("value")
    return [SlotSet(name, value) for name, value in values.items()]


class ActionSessionStart(Action):
    """``action_session_start`` (see the module docstring)."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SessionStarted(), *_carried_over(tracker, domain)]
        if HandoffSettings.from_env().complaints_to_human:  # false is the slot's initial value
            events.append(SlotSet("complaints_to_human", True))
        if await self._handed_off(tracker.sender_id):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events

    @staticmethod
    async def _handed_off(sender_id: str) -> bool:
        try:
            return await asyncio.to_thread(handoff_store().active_for, sender_id) is not None
        except SQLAlchemyError:  # the bot answers rather than going silent on a database hiccup
            logger.exception("Could not read the handoff state of %s at session start", sender_id)
            return False
