"""Resident messages to the staff desk, from Rasa's event stream (:mod:`bot.broker`).

While a conversation is handed off it is paused (``ConversationPaused`` from
``action_handoff``): Rasa logs the resident's messages and predicts nothing. This consumer
of the ``user`` events then

* notes the message on the handoff (count, preview, time) and wakes the desk's long polls
  (on every replica: :mod:`bot.handoff.hub`);
* answers an emergency at once even though staff have the conversation: it runs
  ``action_emergency`` (safety advice, urgent ticket, the handoff raised to urgent) through
  Rasa's ``Agent.execute_action`` under the conversation's lock, and the advice reaches the
  resident on their own channel as a proactive message;
* after an emergency, runs ``action_emergency_place`` the same way on each message, so the
  place the emergency reply asked for goes onto the urgent ticket and the resident hears
  that it was passed on (only for messages that name a place).

Queue changes (a handoff opened by the bot) wake the desk's queue view.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timezone
from typing import Any, Callable, Dict, Optional

from rasa.core.channels.channel import OutputChannel

from bot.handoff.hub import QUEUE, hub
from bot.handoff.store import HandoffStore
from bot.tickets.location import parse_location

logger = logging.getLogger(__name__)

#: Actions after which the desk's queue has changed.
QUEUE_ACTIONS = frozenset({"action_handoff", "action_emergency"})
EMERGENCY_POLICY = "LinliHandoffRelay"


class ProactiveOutputChannel(OutputChannel):
    """Bot messages of an out-of-turn action, delivered like an agent's reply.

    Each text goes through :func:`bot.handoff.desk.deliver`, so it takes the same path (and
    the same retries) as everything else sent outside a request.
    """

    def __init__(self, channel: str, sender_id: str, kind: str = "emergency_advice") -> None:
        self.channel = channel
        self.sender_id = sender_id
        self.kind = kind  # the outbox's label for these messages

    @classmethod
    def name(cls) -> str:
        return "linli_proactive"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        from bot.handoff.desk import deliver

        result = await deliver(self.channel, self.sender_id, text, kind=self.kind)
        if not result.get("delivered"):
            logger.warning("Out-of-turn message (%s) to %s could not be delivered: %s", self.kind, self.sender_id,
                           result.get("error"))


class HandoffRelay:
    """The event consumer described in the module docstring."""

    def __init__(self, store: HandoffStore, agent: Callable[[], Any]) -> None:
        self.store = store
        self.agent = agent  # the server's current agent (Rasa may load a new model)

    async def __call__(self, event: Dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "user":
            await self._resident_message(event)
        elif kind == "pause" or (kind == "action" and event.get("name") in QUEUE_ACTIONS):
            hub.notify(QUEUE)

    async def _resident_message(self, event: Dict[str, Any]) -> None:
        sender = event.get("sender_id")
        if not sender:
            return
        handoff = await asyncio.to_thread(self.store.active_for, sender)
        if handoff is None or not _before(handoff, event):
            return  # not handed off, or handed off by this very message (the handoff row has it)
        await asyncio.to_thread(self.store.record_resident_message, handoff.id, event.get("text"))
        hub.notify(sender, QUEUE)
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == "emergency":
            if await self._execute(sender, handoff.channel, "action_emergency", "emergency_advice"):
                logger.warning("Emergency during the handoff of %s answered by the bot", sender)
            else:
                logger.error("EMERGENCY from %s during a handoff, but no model is loaded to answer it", sender)
        elif handoff.reason == "emergency" and parse_location(event.get("text") or "") is not None:
            # Only a message naming a place is worth a turn of the action server (and an
            # action in the transcript); the action decides whether the ticket needs it.
            await self._execute(sender, handoff.channel, "action_emergency_place", "emergency_place")

    async def _execute(self, sender: str, channel: str, action: str, kind: str) -> bool:
        """Run ``action`` out of turn under the conversation's lock; False when no model is loaded."""
        agent = self.agent()
        if agent is None or not agent.is_ready():
            return False
        output = ProactiveOutputChannel(channel, sender, kind)
        async with agent.lock_store.lock(sender):
            await agent.execute_action(sender, action, output, EMERGENCY_POLICY, 1.0)
        hub.notify(sender, QUEUE)
        return True


def _before(handoff: Any, event: Dict[str, Any]) -> bool:
    """Whether ``handoff`` was opened before the message of ``event`` was sent."""
    created: Optional[Any] = getattr(handoff, "created_at", None)
    timestamp = event.get("timestamp")
    if created is None or timestamp is None:
        return True
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created.timestamp() <= float(timestamp)
