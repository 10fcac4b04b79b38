"""What staff do with a handoff: take it, reply, close it; and the timeout sweep.

Runs in the server process next to Rasa (``app.ctx.agent``). Agent messages are
appended to the Rasa tracker as ``BotUttered`` with metadata ``{"agent": name}``
first (so the transcript is complete), then queued in the outbox (:mod:`bot.outbox`),
which delivers them on the resident's own channel and retries while it is down.
The desk waits a moment (``LINLI_OUTBOX_WAIT``, at most 3 s) for the first attempt
and tells the agent the outcome: ``delivered`` true, or ``delivery`` ``queued``
(still trying), ``undeliverable`` (a channel that cannot deliver proactively,
such as REST: the message is in the transcript only) or ``dead``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed

from bot.conversations import append_events
from bot.handoff.hub import QUEUE, hub
from bot.handoff.models import CALLBACK_OFFER, Handoff, HandoffStatus
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffConflict, HandoffStore
from bot.handoff.texts import text
from bot import outbox
from bot.satisfaction.asking import ask_after_handoff

logger = logging.getLogger(__name__)


async def deliver(channel: str, sender_id: str, message: str, kind: str = "agent_reply",
                  wait: Optional[float] = None) -> Dict[str, Any]:
    """Queue ``message`` for the resident and wait briefly for the first attempt.

    Returns ``{"delivered": bool, "delivery": "sent"|"queued"|"undeliverable"|"dead",
    "error": str|None, "outbox_id": int}``. The caller has recorded the message in the
    transcript already, so the outbox does not record it again.
    """
    try:
        return await outbox.send(channel, sender_id, message, kind, wait=wait)
    except Exception as exc:  # the database is down: the message is in the tracker, say it was not sent
        logger.exception("Could not queue a message to %s:%s", channel, sender_id)
        return {"delivered": False, "delivery": None, "error": f"not queued: {type(exc).__name__}", "outbox_id": None}


def _language(tracker: Any, handoff: Handoff) -> str:
    slot = tracker.get_slot("language") if tracker is not None else None
    return slot if slot in ("zh", "en") else (handoff.language or "zh")


class Desk:
    """Staff operations on handoffs, bound to a Rasa agent and a handoff store."""

    def __init__(self, agent: Any, store: HandoffStore) -> None:
        self.agent = agent
        self.store = store

    async def _say(self, handoff: Handoff, message: str, metadata: Dict[str, Any], kind: str,
                   before: tuple = (), after: tuple = (), wait: Optional[float] = None) -> Dict[str, Any]:
        """Log a bot/agent message in the tracker (between ``before`` and ``after`` events), then deliver it."""
        events = [*before, BotUttered(message, metadata=metadata), *after]
        await append_events(self.agent, handoff.sender_id, events)
        hub.notify(handoff.sender_id, QUEUE)  # the desk shows it now, while the outbox sends it
        return await deliver(handoff.channel, handoff.sender_id, message, kind, wait)

    async def take(self, handoff_id: int, username: str, name: str, force: bool = False) -> Dict[str, Any]:
        """Take a queued handoff and tell the resident who joined."""
        before = self.store.get(handoff_id)
        handoff = self.store.take(handoff_id, username, name, force)
        result: Dict[str, Any] = {"delivered": None, "delivery": None, "error": None, "outbox_id": None}
        if before.agent != username:
            tracker = await self.agent.tracker_store.retrieve(handoff.sender_id)
            greeting = text("taken", _language(tracker, handoff), agent=name)
            result = await self._say(handoff, greeting, {"agent": name, "linli_handoff": "taken"}, "handoff_taken")
        return {"handoff": self.store.get(handoff_id).as_dict(), **result}

    async def reply(self, handoff_id: int, username: str, name: str, message: str,
                    is_admin: bool = False) -> Dict[str, Any]:
        """Send an agent message; a queued handoff is taken by the agent who answers first."""
        message = message.strip()
        if not message:
            raise ValueError("the message is empty")
        handoff = self.store.get(handoff_id)
        if handoff.status == HandoffStatus.QUEUED.value:
            handoff = self.store.take(handoff_id, username, name)
        elif handoff.status != HandoffStatus.ACTIVE.value:
            raise HandoffConflict(f"handoff {handoff_id} is {handoff.status}")
        elif handoff.agent != username and not is_admin:
            raise HandoffConflict(f"handoff {handoff_id} is taken by {handoff.agent}")
        result = await self._say(handoff, message, {"agent": name, "agent_username": username}, "agent_reply")
        return {"handoff": self.store.get(handoff_id).as_dict(), **result}

    async def close(self, handoff_id: int, username: str, is_admin: bool = False) -> Dict[str, Any]:
        """End a handoff: the bot resumes (``ConversationResumed``) and says it is back."""
        handoff = self.store.get(handoff_id)
        if handoff.status == HandoffStatus.ACTIVE.value and handoff.agent != username and not is_admin:
            raise HandoffConflict(f"handoff {handoff_id} is taken by {handoff.agent}")
        # The database first: should the tracker write fail, the gate resumes the
        # conversation on the resident's next message (it is paused with no open handoff).
        handoff = self.store.close(handoff_id, username)
        result = await self._resume(handoff, "resumed", {"linli_handoff": "resumed"}, "handoff_resumed")
        # Then the satisfaction prompt (once per handoff; never fails the close): bot.satisfaction.
        await ask_after_handoff(self.agent, handoff)
        return {"handoff": handoff.as_dict(), **result}

    async def _resume(self, handoff: Handoff, key: str, metadata: Dict[str, Any], kind: str,
                      wait: Optional[float] = None) -> Dict[str, Any]:
        tracker = await self.agent.tracker_store.retrieve(handoff.sender_id)
        message = text(key, _language(tracker, handoff))
        resume = (ConversationResumed(),) if tracker is None or tracker.is_paused() else ()
        # The bot's next prediction expects to follow action_listen, as after any bot turn.
        return await self._say(handoff, message, metadata, kind, resume, (ActionExecuted("action_listen"),), wait)

    async def time_out(self, handoff: Handoff) -> Dict[str, Any]:
        """Nobody took ``handoff`` in time: resume the bot and offer a callback ticket."""
        # Atomic queued → timed_out: an agent who takes it at this very moment wins.
        self.store.close(handoff.id, "system", HandoffStatus.TIMED_OUT.value, only_from=(HandoffStatus.QUEUED.value,))
        hub.notify(QUEUE)
        # Nobody waits for this answer (the sweep): queue it and move on.
        result = await self._resume(handoff, "timeout", {"linli_handoff": CALLBACK_OFFER, "handoff_id": handoff.id},
                                    "handoff_timeout", wait=0)
        logger.info("Handoff %s timed out; callback offered to %s", handoff.id, handoff.sender_id)
        return result

    async def sweep(self, settings: HandoffSettings) -> int:
        """Time out every queued handoff older than the configured timeout; returns how many."""
        if settings.timeout_seconds <= 0:
            return 0
        count = 0
        for handoff in self.store.due_for_timeout(settings.timeout_seconds):
            try:
                await self.time_out(handoff)
                count += 1
            except HandoffConflict:
                pass  # taken or closed meanwhile
            except Exception:
                logger.exception("Could not time out handoff %s", handoff.id)
        return count


async def run_timeouts(get_desk: Any, settings: HandoffSettings, interval: Optional[float] = None) -> None:
    """Background task of the server: sweep for timed-out handoffs until cancelled.

    State is in the database, so after a restart the sweep picks up handoffs
    queued before it.
    """
    if settings.timeout_seconds <= 0:
        logger.info("Handoff timeout disabled (HANDOFF_TIMEOUT_SECONDS=0)")
        return
    interval = interval or max(1.0, min(15.0, settings.timeout_seconds / 4))
    while True:
        try:
            desk = get_desk()
            if desk is not None:
                await desk.sweep(settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Handoff timeout sweep failed; retrying in %.0fs", interval)
        await asyncio.sleep(interval)
