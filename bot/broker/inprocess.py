"""An event broker that hands Rasa's events to consumers in the same process.

Configured in ``endpoints.yml``::

    event_broker:
      type: bot.broker.inprocess.InProcessEventBroker

Rasa publishes while it saves a tracker, inside the conversation's lock. Consumers must not
run there (one of them takes the same lock to answer an emergency), so events are queued and
consumed by a task on the event loop, in publishing order.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import AbstractEventLoop
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

Event = Dict[Text, Any]
Handler = Callable[[Event], Awaitable[None]]

#: Events kept while no consumer reads them (e.g. before the server has started its consumer).
MAX_BACKLOG = 10_000


class InProcessEventBroker(EventBroker):
    """Queues published events for :meth:`consume` (see the module docstring)."""

    def __init__(self) -> None:
        self._queue: "asyncio.Queue[Event]" = asyncio.Queue(maxsize=MAX_BACKLOG)
        self._dropped = 0

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[AbstractEventLoop] = None
    ) -> "InProcessEventBroker":
        """Rasa's factory for ``type: bot.broker.inprocess.InProcessEventBroker``."""
        return cls()

    def publish(self, event: Event) -> None:
        """Queue ``event`` (called by Rasa's tracker store for every new event)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped % 1000 == 1:  # say it, but not once per event
                logger.error("Event backlog full: %s events dropped (is the consumer running?)", self._dropped)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None

    async def consume(self, handlers: List[Handler]) -> None:
        """Deliver queued events to ``handlers`` until cancelled; a failing handler is logged."""
        while True:
            event = await self._queue.get()
            for handler in handlers:
                try:
                    await handler(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("Event consumer %s failed on a %s event", handler, event.get("event"))
