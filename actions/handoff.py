"""``action_handoff``: hand the conversation to staff, or answer a pending offer.

Rules run this action for ``request_human`` (also inside forms) and for
``affirm`` / ``deny``. What it does depends on what the bot offered last:

* ``request_human``: open a handoff (queued for the staff desk) and pause the
  conversation with ``ConversationPaused``, so the bot stays silent while the
  Rasa tracker keeps logging the resident's messages.
* ``affirm`` right after the knowledge base abstained and offered a human
  (slot ``handoff_offered``): the same, with reason ``offer_accepted``.
* ``affirm`` right after a handoff timed out and a callback was offered: file a
  callback ticket.
* ``deny``, or ``affirm`` with nothing pending: a short neutral answer.

Rules also run it for a complaint when ``complaints_to_human`` is set (reason
``complaint``) and after repeated misunderstandings (``handoff_due``, reason ``fallback``,
see :mod:`actions.fallback`).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import language_of, resident_of, ticket_store, turn_key
from actions.fallback import COUNT_SLOT, DUE_SLOT
from bot.handoff.models import CALLBACK_OFFER
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)



@lru_cache(maxsize=1)
def handoff_store() -> HandoffStore:
    """The process-wide handoff store on ``DATABASE_URL``."""
    return HandoffStore.from_env()


def _events_before_latest_message(tracker: Tracker) -> List[Dict[str, Any]]:
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[:index]
    return events


def pending_offer(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """What the bot offered in its last turn: ``{"kind": "handoff"}``, ``{"kind": "callback", ...}`` or None.

    Only the bot's turn right before the resident's answer counts, so a "yes"
    many messages after an offer does not hand the conversation over.
    """
    for event in reversed(_events_before_latest_message(tracker)):
        kind = event.get("event")
        if kind == "bot":
            metadata = event.get("metadata") or {}
            if metadata.get("linli_handoff") == CALLBACK_OFFER:
                return {"kind": "callback", "handoff_id": metadata.get("handoff_id")}
        elif kind == "action" and event.get("name") not in ("action_listen", None):
            if event.get("name") == "action_answer_question" and tracker.get_slot("handoff_offered"):
                return {"kind": "handoff"}
            return None
        elif kind == "user":
            return None
    return None


class ActionHandoff(Action):
    """``action_handoff``: queue the conversation for staff and pause the bot."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        language = language_of(tracker)
        reset = [SlotSet("handoff_offered", False)]
        reason = "requested"
        if tracker.get_slot(DUE_SLOT):
            # Routed here by the rule after repeated misunderstandings (actions/fallback.py).
            reason = "fallback"
            reset += [SlotSet(DUE_SLOT, False), SlotSet(COUNT_SLOT, 0.0)]
        elif intent in ("affirm", "deny"):
            offer = pending_offer(tracker)
            if offer is None:
                dispatcher.utter_message(response="utter_nothing_pending")
                return reset
            if intent == "deny":
                dispatcher.utter_message(response="utter_handoff_declined")
                return reset
            if offer["kind"] == "callback":
                await self._file_callback(dispatcher, tracker, language, offer.get("handoff_id"))
                return reset
            reason = "offer_accepted"
        elif intent == "complaint":
            reason = "complaint"
        channel, sender = resident_of(tracker)
        message = (tracker.latest_message or {}).get("text")
        try:
            await asyncio.to_thread(handoff_store().open, sender, channel, language, reason, message)
        except SQLAlchemyError:
            logger.exception("Could not open a handoff for %s:%s", channel, sender)
            dispatcher.utter_message(response="utter_handoff_failed")
            return reset
        dispatcher.utter_message(response="utter_handoff")
        return reset + [ConversationPaused()]

    @staticmethod
    async def _file_callback(dispatcher: CollectingDispatcher, tracker: Tracker, language: str,
                       handoff_id: Optional[int]) -> None:
        """File a callback ticket for a handoff nobody took (once per handoff)."""
        channel, sender = resident_of(tracker)
        store = handoff_store()
        try:
            handoff = await asyncio.to_thread(
                lambda: store.get(int(handoff_id)) if handoff_id else store.latest_for(tracker.sender_id)
            )
            phone = tracker.get_slot("phone")
            if handoff is not None and handoff.callback_ticket:
                number = handoff.callback_ticket
            else:
                waiting = handoff.last_message if handoff is not None else None
                description = "回电请求 / callback request: 人工客服未能及时接入 (no agent was available)"
                if waiting:
                    description += f"\n居民留言 / resident said: {waiting}"
                ticket = await asyncio.to_thread(
                    ticket_store().create,
                    ticket_type="complaint", channel=channel, sender_id=sender, description=description,
                    language=language, phone=phone, category="callback",
                    idempotency_key=turn_key(tracker, "callback"),
                )
                number = ticket.number
                if handoff is not None:
                    await asyncio.to_thread(store.set_callback_ticket, handoff.id, number)
        except (SQLAlchemyError, LookupError, ValueError):
            logger.exception("Could not file a callback ticket for %s:%s", channel, sender)
            dispatcher.utter_message(response="utter_callback_failed")
            return
        suffix = (f"（{phone}）" if language == "zh" else f" ({phone})") if phone else ""
        dispatcher.utter_message(response="utter_callback_created", number=number, phone=suffix)
