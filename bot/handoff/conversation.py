"""The desk's view of a Rasa conversation: its transcript."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def transcript(tracker: Optional[DialogueStateTracker], after: float = 0.0, limit: int = 500) -> List[Dict[str, Any]]:
    """Messages of a conversation newer than ``after`` (a timestamp), oldest first.

    ``from`` is ``resident``, ``bot``, ``agent`` (a bot message with metadata
    ``agent``) or ``system`` (pause/resume markers).
    """
    items: List[Dict[str, Any]] = []
    if tracker is None:
        return items
    for event in tracker.events:
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
