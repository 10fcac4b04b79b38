"""Small helpers shared by the outbox tests."""

from __future__ import annotations

import asyncio
import time
import types
import uuid
from typing import Any, Callable, List, Optional, Tuple

from aiohttp import web

from bot import outbound
from bot.outbound import DeliveryError
from bot.outbox.settings import OutboxSettings
from bot.outbox.worker import Worker
from tests.channels.fakes import FakeApis

#: Retries within milliseconds, so a test sees a whole series quickly.
FAST = OutboxSettings(interval=0.05, max_attempts=3, backoff=0.01, max_backoff=0.02, lease=30, concurrency=4,
                      wait=1.0)


class RecordingSender:
    """A channel sender that fails while ``down`` and remembers what it delivered."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []
        self.tries = 0
        self.down = False
        self.error = "the API answered 503"

    async def send_text(self, recipient_id: str, text: str) -> None:
        self.tries += 1
        if self.down:
            raise DeliveryError(self.error)
        self.sent.append((recipient_id, text))


class FlakyWeChat(FakeApis):
    """The WeChat/Telegram doubles, whose message API can be down (503) or slow."""

    def __init__(self) -> None:
        super().__init__()
        self.wechat_down = False
        self.refused = 0
        self.send_delay = 0.0

    async def _wechat_send(self, request: web.Request) -> web.Response:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        if self.wechat_down:
            await request.read()
            self.refused += 1
            return web.Response(status=503, text="service unavailable")
        return await super()._wechat_send(request)

    def delivered(self, openid: Optional[str] = None) -> List[str]:
        """Texts the message API accepted (to ``openid``), in order."""
        calls = self.find("wechat", "message/custom/send", **({"touser": openid} if openid else {}))
        return [c.params["text"]["content"] for c in calls if c.query.get("access_token", "").startswith("ACCESS-")]


def channel_with(sender: Any) -> str:
    """A channel name of its own, served by ``sender``."""
    name = f"test-outbox-{uuid.uuid4().hex[:8]}"
    outbound.register_sender(name, sender)
    return name


async def drain(worker: Worker, until: Callable[[], bool], timeout: float = 10.0) -> None:
    """Run delivery rounds until ``until()`` holds (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("the outbox did not get there in time")
        await worker.run_once()
        await asyncio.sleep(0.01)


def app_with_agent() -> Any:
    """Something shaped like the server app: ``app.ctx.agent`` with a real in-memory tracker store."""
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    domain = Domain.empty()
    agent = Agent(domain=domain, tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore())
    return types.SimpleNamespace(ctx=types.SimpleNamespace(agent=agent))


async def bot_lines(app: Any, conversation: str) -> List[Any]:
    """``(text, metadata)`` of every bot message in a conversation's transcript."""
    tracker = await app.ctx.agent.tracker_store.retrieve(conversation)
    if tracker is None:
        return []
    return [(e.text, e.metadata) for e in tracker.events if getattr(e, "type_name", "") == "bot"]


__all__ = ["FAST", "FlakyWeChat", "RecordingSender", "app_with_agent", "bot_lines", "channel_with", "drain"]
