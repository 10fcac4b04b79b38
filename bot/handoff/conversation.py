"""Read and write a Rasa conversation from the server process (the desk's side of the tracker)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from rasa.shared.core.events import BotUttered, ConversationPaused, Event, UserUttered
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


def transcript(tracker: Optional[DialogueStateTracker], after: float = 0.0, limit: int = 500) -> List[Dict[str, Any]]:
    """Messages of a conversation newer than ``after`` (a timestamp), oldest first.

    ``from`` is ``resident``, ``bot``, ``agent`` (a bot message with metadata
    ``agent``) or ``system`` (pause/resume markers).
    """
    items: List[Dict[str, Any]] = []
    if tracker is None:
        return items
    desk_texts = set()
    for event in tracker.events:
        if isinstance(event, BotUttered) and (event.metadata or {}).get("proactive") and event.text in desk_texts:
            # The widget's sender also records what it delivers; the desk already logged it with its author.
            desk_texts.discard(event.text)
            continue
        if isinstance(event, BotUttered) and {"agent", "linli_handoff"} & set(event.metadata or {}):
            desk_texts.add(event.text)
        if event.timestamp <= after:
            continue
        if isinstance(event, UserUttered):
            items.append({"ts": event.timestamp, "from": "resident", "text": event.text or "",
                          "intent": (event.intent or {}).get("name")})
        elif isinstance(event, BotUttered):
            metadata = event.metadata or {}
            item: Dict[str, Any] = {"ts": event.timestamp, "text": event.text or "",
                                    "from": "agent" if metadata.get("agent") else "bot"}
            if metadata.get("agent"):
                item["agent"] = metadata["agent"]
            buttons = (event.data or {}).get("buttons")
            if buttons:
                item["buttons"] = [b.get("title") for b in buttons]
            items.append(item)
        elif isinstance(event, ConversationPaused):
            items.append({"ts": event.timestamp, "from": "system", "event": "paused"})
        elif event.type_name == "resume":
            items.append({"ts": event.timestamp, "from": "system", "event": "resumed"})
    return items[-limit:]
