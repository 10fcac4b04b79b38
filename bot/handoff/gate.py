"""The handoff gate: wraps the Rasa processor's prediction loop in ``bot.server``.

For every resident message (any channel), after Rasa has logged it:

* conversation handed off (a queued/active row in the database) → no
  prediction: the bot stays silent, the message stays in the tracker, the desk
  is woken at once — except for an emergency, whose safety advice is given at
  once (``action_emergency`` raises the handoff to urgent and pauses again). If the tracker is not paused (e.g. Rasa started a new
  session, which clears the pause) it is paused again: the database is the
  source of truth.
* complaint and ``LINLI_COMPLAINTS_TO_HUMAN`` → handoff instead of the form.
* otherwise the normal prediction; then, if the bot failed to understand the
  last ``HANDOFF_AFTER_FALLBACKS`` messages in a row → handoff.

``ConversationPaused`` is also what ``action_handoff`` returns, so even a plain
``rasa run`` (without this gate) keeps a handed-off conversation silent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List

from rasa.core.actions.action import action_for_name_or_text
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff.hub import QUEUE, hub
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

GATE_POLICY = "LinliHandoffGate"


def _turn_failed(events: List[Any]) -> bool:
    """A turn (user message + bot actions) in which the bot did not understand.

    Either Rasa's core fallback ran, or NLU fell back and the knowledge base
    could not answer either (it then sets ``handoff_offered``).
    """
    user = next((e for e in events if isinstance(e, UserUttered)), None)
    actions = [e.action_name for e in events if isinstance(e, ActionExecuted)]
    if "action_default_fallback" in actions:
        return True
    nlu_fallback = user is not None and (user.intent or {}).get("name") == "nlu_fallback"
    abstained = any(isinstance(e, SlotSet) and e.key == "handoff_offered" and e.value for e in events)
    return nlu_fallback and abstained


def failed_in_a_row(tracker: DialogueStateTracker) -> int:
    """How many of the latest turns in a row the bot failed to understand (since the last handoff)."""
    count, turn = 0, []
    for event in reversed(tracker.events):
        if isinstance(event, (ConversationResumed, ConversationPaused, SessionStarted)):
            break
        if isinstance(event, ActionExecuted) and event.action_name == "action_handoff":
            break
        turn.append(event)
        if isinstance(event, UserUttered):
            if not _turn_failed(turn):
                break
            count, turn = count + 1, []
    return count


class HandoffGate:
    """Installs itself on a Rasa ``MessageProcessor``; see the module docstring."""

    def __init__(self, store: HandoffStore, settings: HandoffSettings) -> None:
        self.store = store
        self.settings = settings

    def install(self, processor: Any) -> None:
        """Wrap ``processor._run_prediction_loop`` (once per processor)."""
        if getattr(processor, "_linli_handoff_gate", None) is self:
            return
        original = processor._run_prediction_loop

        async def gated(output_channel: Any, tracker: DialogueStateTracker) -> None:
            if await self.before_prediction(processor, output_channel, tracker):
                return
            await original(output_channel, tracker)
            await self.after_prediction(processor, output_channel, tracker)

        processor._run_prediction_loop = gated
        processor._linli_handoff_gate = self
        logger.info("Handoff gate installed (timeout %ss, complaints to human: %s, after %s fallbacks)",
                    self.settings.timeout_seconds, self.settings.complaints_to_human, self.settings.after_fallbacks)

    async def before_prediction(self, processor: Any, output_channel: Any, tracker: DialogueStateTracker) -> bool:
        """True when the bot must not predict (the conversation is with staff)."""
        # Per message on the server's event loop: the database lookup runs in a worker thread.
        handoff = await asyncio.to_thread(self.store.active_for, tracker.sender_id)
        if handoff is not None:
            if not tracker.is_paused():
                tracker.update(ConversationPaused())
            latest = tracker.latest_message
            await asyncio.to_thread(self.store.record_resident_message, handoff.id, latest.text if latest else None)
            hub.notify(tracker.sender_id, QUEUE)  # the relay: the desk's long poll wakes now
            if latest is not None and (latest.intent or {}).get("name") == "emergency":
                # Safety advice cannot wait for staff: the bot answers this one message
                # (action_emergency raises the handoff to urgent and pauses again).
                tracker.update(ConversationResumed())
                return False
            return True
        if tracker.is_paused():
            latest = await asyncio.to_thread(self.store.latest_for, tracker.sender_id)
            if latest is None:
                return True  # paused by something other than a handoff: respect Rasa's semantics
            # The handoff ended but the tracker was not resumed (a failed write): don't stay silent forever.
            logger.warning("Conversation %s was still paused after handoff %s ended; resuming",
                           tracker.sender_id, latest.id)
            tracker.update(ConversationResumed())
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if self.settings.complaints_to_human and intent == "complaint" and tracker.active_loop_name is None:
            await self.open(processor, output_channel, tracker, "complaint")
            return tracker.is_paused()
        return False

    async def after_prediction(self, processor: Any, output_channel: Any, tracker: DialogueStateTracker) -> None:
        """Hand off after repeated misunderstandings; wake the desk when the bot handed off."""
        if tracker.is_paused():
            hub.notify(QUEUE)
            return
        limit = self.settings.after_fallbacks
        if limit > 0 and tracker.active_loop_name is None and failed_in_a_row(tracker) >= limit:
            await self.open(processor, output_channel, tracker, "fallback")

    async def open(self, processor: Any, output_channel: Any, tracker: DialogueStateTracker, reason: str) -> None:
        """Queue the conversation for staff, say so (``utter_handoff``) and pause the bot."""
        language = tracker.get_slot("language") or "zh"
        channel = tracker.get_latest_input_channel() or output_channel.name()
        latest = tracker.latest_message
        try:
            self.store.open(tracker.sender_id, channel, language, reason, latest.text if latest else None)
        except Exception:
            logger.exception("Could not open a %s handoff for %s; the bot carries on", reason, tracker.sender_id)
            return
        action = action_for_name_or_text("utter_handoff", processor.domain, processor.action_endpoint)
        prediction = PolicyPrediction.for_action_name(processor.domain, "utter_handoff", GATE_POLICY)
        await processor._run_action(action, tracker, output_channel, processor.nlg, prediction)
        tracker.update(SlotSet("handoff_offered", False))
        tracker.update(ConversationPaused())
        hub.notify(QUEUE)
        logger.info("Conversation %s handed off (%s)", tracker.sender_id, reason)

