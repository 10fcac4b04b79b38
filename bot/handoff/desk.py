"""What staff do with a handoff: take it, reply, close it; and the timeout sweep.

Runs in the server process next to Rasa (``app.ctx.agent``). Agent messages are
appended to the Rasa tracker as ``BotUttered`` with metadata ``{"agent": name}``
(so the transcript is complete) and delivered on the resident's own channel with
:func:`bot.outbound.send_text`. A channel that cannot deliver proactively (REST)
still gets the message in its transcript; the caller learns it was not delivered.
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
from bot.outbound import DeliveryError, send_text

logger = logging.getLogger(__name__)



async def deliver(channel: str, sender_id: str, message: str) -> Dict[str, Any]:
    """Send ``message`` to the resident; returns ``{"delivered": bool, "error": str|None}``."""
    try:
        await send_text(channel, sender_id, message)
        return {"delivered": True, "error": None}
    except DeliveryError as exc:
        return {"delivered": False, "error": str(exc)}
    except Exception as exc:  # a broken channel must not lose the message: it is in the tracker
        logger.exception("Delivery to %s:%s failed", channel, sender_id)
        return {"delivered": False, "error": f"{type(exc).__name__}: {exc}"}


def _language(tracker: Any, handoff: Handoff) -> str:
    slot = tracker.get_slot("language") if tracker is not None else None
    return slot if slot in ("zh", "en") else (handoff.language or "zh")


class Desk:
    """Staff operations on handoffs, bound to a Rasa agent and a handoff store."""

    def __init__(self, agent: Any, store: HandoffStore) -> None:
        self.agent = agent
        self.store = store

    async def _say(self, handoff: Handoff, message: str, metadata: Dict[str, Any],
                   before: tuple = (), after: tuple = ()) -> Dict[str, Any]:
        """Log a bot/agent message in the tracker (between ``before`` and ``after`` events), then deliver it."""
        events = [*before, BotUttered(message, metadata=metadata), *after]
        await append_events(self.agent, handoff.sender_id, events)
        result = await deliver(handoff.channel, handoff.sender_id, message)
        hub.notify(handoff.sender_id, QUEUE)
        return result

    async def take(self, handoff_id: int, username: str, name: str, force: bool = False) -> Dict[str, Any]:
        """Take a queued handoff and tell the resident who joined."""
        before = self.store.get(handoff_id)
        handoff = self.store.take(handoff_id, username, name, force)
        result: Dict[str, Any] = {"delivered": None, "error": None}
        if before.agent != username:
            tracker = await self.agent.tracker_store.retrieve(handoff.sender_id)
            greeting = text("taken", _language(tracker, handoff), agent=name)
            result = await self._say(handoff, greeting, {"agent": name, "linli_handoff": "taken"})
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
        result = await self._say(handoff, message, {"agent": name, "agent_username": username})
        return {"handoff": self.store.get(handoff_id).as_dict(), **result}

    async def close(self, handoff_id: int, username: str, is_admin: bool = False) -> Dict[str, Any]:
        """End a handoff: the bot resumes (``ConversationResumed``) and says it is back."""
        handoff = self.store.get(handoff_id)
        if handoff.status == HandoffStatus.ACTIVE.value and handoff.agent != username and not is_admin:
            raise HandoffConflict(f"handoff {handoff_id} is taken by {handoff.agent}")
        # The database first: should the tracker write fail, the gate resumes the
        # conversation on the resident's next message (it is paused with no open handoff).
        handoff = self.store.close(handoff_id, username)
        result = await self._resume(handoff, "resumed", {"linli_handoff": "resumed"})
        return {"handoff": handoff.as_dict(), **result}

    async def _resume(self, handoff: Handoff, key: str, metadata: Dict[str, Any]) -> Dict[str, Any]:
        tracker = await self.agent.tracker_store.retrieve(handoff.sender_id)
        message = text(key, _language(tracker, handoff))
        resume = (ConversationResumed(),) if tracker is None or tracker.is_paused() else ()
        # The bot's next prediction expects to follow action_listen, as after any bot turn.
        return await self._say(handoff, message, metadata, resume, (ActionExecuted("action_listen"),))

    async def time_out(self, handoff: Handoff) -> Dict[str, Any]:
        """Nobody took ``handoff`` in time: resume the bot and offer a callback ticket."""
        # Atomic queued → timed_out: an agent who takes it at this very moment wins.
        self.store.close(handoff.id, "system", HandoffStatus.TIMED_OUT.value, only_from=(HandoffStatus.QUEUED.value,))
        hub.notify(QUEUE)
        result = await self._resume(handoff, "timeout", {"linli_handoff": CALLBACK_OFFER, "handoff_id": handoff.id})
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
