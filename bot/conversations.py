"""Read and write Rasa conversations from the server process.

Messages that reach a resident outside Rasa's own prediction loop (agent
replies, ticket notifications) are appended to the conversation's tracker here,
under Rasa's per-conversation lock, so the transcript stays complete.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker


async def append_events(agent: Any, sender_id: str, events: Iterable[Event]) -> DialogueStateTracker:
    """Append ``events`` to a conversation under Rasa's per-conversation lock and save it."""
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
        for event in events:
            tracker.update(event)
        await agent.tracker_store.save(tracker)
    return tracker


async def full_tracker(agent: Any, sender_id: str) -> Optional[DialogueStateTracker]:
    """The whole conversation (every session), or None if it does not exist."""
    store = agent.tracker_store
    if hasattr(store, "retrieve_full_tracker"):
        return await store.retrieve_full_tracker(sender_id)
    return await store.retrieve(sender_id)
