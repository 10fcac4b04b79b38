"""In-process wake-ups for the desk's long polls (one server worker, see bot.server)."""

from __future__ import annotations

import asyncio
from typing import Dict

#: Key woken whenever the queue changes (handoff opened, taken, closed, new message).
QUEUE = "__queue__"


class Hub:
    """Long polls wait on a key (a conversation id or :data:`QUEUE`); writers notify it."""

    def __init__(self) -> None:
        self._events: Dict[str, asyncio.Event] = {}

    def notify(self, *keys: str) -> None:
        """Wake everyone waiting on any of ``keys``."""
        for key in keys:
            event = self._events.pop(key, None)
            if event is not None:
                event.set()

    def event(self, key: str) -> asyncio.Event:
        """The event the next :meth:`notify` of ``key`` sets.

        Take it *before* reading the state you wait on, so a notification that
        lands between the read and the wait is not missed.
        """
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        return event

    async def wait(self, key: str, timeout: float, event: "asyncio.Event | None" = None) -> bool:
        """Wait until ``key`` is notified (True) or ``timeout`` seconds pass (False)."""
        event = event or self.event(key)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False


hub = Hub()
