"""Desk wake-ups across replicas: two hubs as two server processes have them, each with
its own Redis connections and subscriber (bot/handoff/hub.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import AsyncIterator, Tuple

import pytest

from bot.handoff import hub as hub_module
from bot.handoff.hub import QUEUE, Hub

CONVERSATION = "socketio:0123456789abcdef0123456789abcdef"


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Tuple[Hub, Hub]]:
    """Hubs A and B on a channel of this test's own."""
    channel = f"linli-test-{uuid.uuid4().hex[:12]}:hub"
    a, b = Hub(), Hub()
    assert await a.connect(redis_url, channel) and await b.connect(redis_url, channel)
    yield a, b
    await a.close()
    await b.close()


async def test_in_process_the_hub_wakes_the_waiters_of_the_notified_key_only() -> None:
    local = Hub()
    woken, other = local.event(CONVERSATION), local.event("socketio:someone-else")
    local.notify(CONVERSATION, QUEUE)
    assert await local.wait(CONVERSATION, 5, woken) is True
    assert await local.wait("socketio:someone-else", 0.2, other) is False
    assert not local.shared


async def test_a_long_poll_on_one_replica_wakes_when_another_replica_notifies(replicas) -> None:
    a, b = replicas
    conversation, queue = a.event(CONVERSATION), a.event(QUEUE)
    started = time.perf_counter()
    b.notify(CONVERSATION, QUEUE)  # the resident wrote on replica B
    assert await a.wait(CONVERSATION, 10, conversation) is True  # not the 10 s timeout
    elapsed = time.perf_counter() - started
    assert await a.wait(QUEUE, 10, queue) is True
    print(f"cross-replica wake-up after {elapsed * 1000:.1f} ms")
    # The notifier's own waiters wake at once (no round trip), and only once.
    own = b.event(QUEUE)
    b.notify(QUEUE)
    assert own.is_set()


async def test_without_redis_a_notify_on_another_replica_does_not_wake_the_poll() -> None:
    """The situation before: what the test above would see if the hubs did not share."""
    a, b = Hub(), Hub()
    waiting = a.event(CONVERSATION)
    b.notify(CONVERSATION, QUEUE)
    assert await a.wait(CONVERSATION, 0.3, waiting) is False


async def test_a_dropped_subscription_comes_back_and_wakes_every_waiter(replicas, redis_url: str) -> None:
    import redis.asyncio as aioredis

    a, b = replicas
    waiting = a.event(CONVERSATION)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        name = a._bus.redis.connection_pool.connection_kwargs["client_name"]  # type: ignore[union-attr]
        subscriber = [c for c in await admin.client_list() if c.get("name") == name and int(c.get("sub", 0)) > 0]
        assert subscriber, "the hub's subscriber connection is not in CLIENT LIST"
        await admin.client_kill_filter(_id=subscriber[0]["id"])
    finally:
        await admin.close()
    # Whatever was published while it was away is lost, so every local waiter re-reads its state.
    assert await a.wait(CONVERSATION, 10, waiting) is True
    deadline = asyncio.get_running_loop().time() + 10
    while not a.shared and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert a.shared
    again = a.event(CONVERSATION)
    b.notify(CONVERSATION)
    assert await a.wait(CONVERSATION, 10, again) is True


async def test_the_server_service_joins_the_process_hub_to_redis_url(redis_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``start``/``stop`` as bot.server's services() run them, on the default channel."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    await hub_module.start(None)
    assert not hub_module.hub.shared  # make run: in process only

    monkeypatch.setenv("REDIS_URL", redis_url)
    other = Hub()
    await hub_module.start(None)
    try:
        assert hub_module.hub.shared
        assert await other.connect(redis_url)  # another replica with the same REDIS_URL
        waiting = hub_module.hub.event(QUEUE)
        other.notify(QUEUE)
        assert await hub_module.hub.wait(QUEUE, 10, waiting) is True
    finally:
        await hub_module.stop(None)
        await other.close()
    assert not hub_module.hub.shared
