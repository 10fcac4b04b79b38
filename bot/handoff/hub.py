"""Wake-ups for the desk's long polls, in this process and, with Redis, in every replica.

A long poll (``GET /api/handoffs/<id>/messages?wait=``, :mod:`bot.web.api`) waits
on a key, a conversation id or :data:`QUEUE`; whoever changes what it waits for
(the handoff relay, the desk) calls ``hub.notify(key)``. In one process that sets
an :class:`asyncio.Event`.

With ``REDIS_URL`` set, :func:`start` (run by ``bot.server``'s ``services()``)
also joins the hub to the Redis pub/sub channel ``linli:hub:<db>``
(:func:`bot.channels.state.redis_channel`): ``notify`` wakes this process's
waiters at once and publishes the keys; every other process's subscriber sets
its own events. So an agent's long poll on replica B wakes when the resident
wrote on replica A, instead of waiting out its timeout. Without ``REDIS_URL``
(``make run``: one process) the hub stays in process.

Delivery over Redis is best effort, and that is enough: a long poll re-reads
the state it waits for, so a lost wake-up costs at most one poll timeout, and
after every (re)subscription all local waiters are woken once, since
notifications may have been missed while Redis was away.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from bot.channels.state import redis_channel, redis_url

logger = logging.getLogger(__name__)

#: Key woken whenever the queue changes (handoff opened, taken, closed, new message).
QUEUE = "__queue__"
#: Wake-ups waiting to be published; beyond this (Redis unreachable for long) new ones are dropped.
OUTBOX_LIMIT = 10_000
#: Longest pause between reconnection attempts (seconds).
MAX_BACKOFF = 30.0


class Hub:
    """Long polls wait on a key (a conversation id or :data:`QUEUE`); writers notify it.

    All methods are for the event loop's thread (the relay, the desk and the API run there).
    """

    def __init__(self) -> None:
        self._events: Dict[str, asyncio.Event] = {}
        self._bus: Optional[RedisBus] = None

    def notify(self, *keys: str) -> None:
        """Wake everyone waiting on any of ``keys``: here now, in other processes via Redis."""
        self._wake(keys)
        if self._bus is not None:
            self._bus.publish(keys)

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

    def _wake(self, keys: Iterable[str]) -> None:
        for key in keys:
            event = self._events.pop(key, None)
            if event is not None:
                event.set()

    def _wake_all(self) -> None:
        self._wake(list(self._events))

    @property
    def shared(self) -> bool:
        """True while notifications reach other processes (subscribed to Redis)."""
        return self._bus is not None and self._bus.subscribed.is_set()

    async def connect(self, url: str, channel: Optional[str] = None, timeout: float = 5.0) -> bool:
        """Share wake-ups with every process using the Redis at ``url`` (``channel``: default
        ``linli:hub:<db>``). Waits up to ``timeout`` s for the subscription; returns whether it
        is in place (if not, it keeps retrying in the background)."""
        if self._bus is not None:
            raise RuntimeError("the hub is already connected to Redis")
        self._bus = RedisBus(url, channel or redis_channel("hub", url), self._wake, self._wake_all)
        return await self._bus.start(timeout)

    async def close(self) -> None:
        """Leave Redis (back to in-process wake-ups); waiters in this process are not affected."""
        bus, self._bus = self._bus, None
        if bus is not None:
            await bus.close()


class RedisBus:
    """Publishes a process's wake-ups on a Redis channel and hands everyone else's to ``on_keys``.

    ``notify`` cannot await, so :meth:`publish` queues the keys for a publisher task
    (which coalesces bursts into one message); a subscriber task listens, and
    reconnects with backoff when Redis goes away.
    """

    def __init__(self, url: str, channel: str, on_keys: Callable[[List[str]], None],
                 on_resubscribed: Callable[[], None]) -> None:
        import redis.asyncio as aioredis

        self.origin = uuid.uuid4().hex  # our own messages come back: skip them
        # Health checks PING an idle subscription, so a dead connection is noticed and replaced.
        self.redis = aioredis.Redis.from_url(url, health_check_interval=15, socket_keepalive=True,
                                             socket_connect_timeout=5, client_name=f"linli-hub-{self.origin[:12]}")
        self.url, self.channel = url, channel
        self.subscribed = asyncio.Event()
        self._on_keys, self._on_resubscribed = on_keys, on_resubscribed
        self._outbox: "asyncio.Queue[Iterable[str]]" = asyncio.Queue(OUTBOX_LIMIT)
        self._tasks: List["asyncio.Task[None]"] = []
        self._dropped = 0
        self._closing = False

    async def start(self, timeout: float) -> bool:
        """Start the publisher and subscriber; True once subscribed within ``timeout`` s."""
        self._tasks = [asyncio.create_task(self._subscriber(), name="linli-hub-subscriber"),
                       asyncio.create_task(self._publisher(), name="linli-hub-publisher")]
        try:
            await asyncio.wait_for(self.subscribed.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            logger.warning("Redis at %s did not answer within %ss: desk long polls on other replicas wake "
                           "only at their timeout until it does (retrying in the background)",
                           _safe(self.url), timeout)
            return False

    def publish(self, keys: Iterable[str]) -> None:
        """Queue ``keys`` for the other processes (never blocks)."""
        try:
            self._outbox.put_nowait(tuple(keys))
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                logger.warning("%s desk wake-ups dropped: Redis at %s is not taking them", self._dropped,
                               _safe(self.url))

    async def close(self) -> None:
        """Stop both tasks and close the connections."""
        self._closing = True
        pending = set(self._tasks)
        while pending:
            for task in pending:
                # Again each second: redis-py's timed get_message can swallow a cancellation that
                # lands as its timeout expires (async-timeout); the loop then also sees _closing.
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks = []
        self.subscribed.clear()
        await self.redis.close(close_connection_pool=True)

    async def _publisher(self) -> None:
        backoff = 0.5
        while True:
            keys: Set[str] = set(await self._outbox.get())
            while not self._outbox.empty():  # a burst (one resident message wakes two keys) → one message
                keys.update(self._outbox.get_nowait())
            payload = json.dumps({"origin": self.origin, "keys": sorted(keys)})
            try:
                await self.redis.publish(self.channel, payload)
                backoff = 0.5
            except Exception as exc:  # lost: long polls elsewhere wake at their timeout instead
                logger.warning("Could not publish desk wake-ups to Redis at %s (%s); retrying in %.1fs",
                               _safe(self.url), exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)

    async def _subscriber(self) -> None:
        backoff, first = 0.5, True
        while not self._closing:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                if not first:
                    logger.info("Desk wake-ups: subscribed to Redis again")
                    self._on_resubscribed()  # whatever was published meanwhile is lost: re-read
                first, backoff = False, 0.5
                while not self._closing:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is not None:
                        self._received(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.subscribed.clear()
                logger.warning("Desk wake-ups: lost the Redis subscription at %s (%s); retrying in %.1fs",
                               _safe(self.url), exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
            finally:
                try:
                    await pubsub.reset()
                except Exception:  # the connection is already gone
                    pass

    def _received(self, data: Any) -> None:
        try:
            message = json.loads(data)
            if message.get("origin") == self.origin:
                return
            keys = [key for key in message.get("keys", ()) if isinstance(key, str)]
        except (TypeError, ValueError, AttributeError):
            logger.warning("Ignored a malformed message on %s", self.channel)
            return
        self._on_keys(keys)


def _safe(url: str) -> str:
    """``url`` without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return scheme + sep + rest


hub = Hub()


async def start(app: Any = None) -> None:
    """Join the process-wide :data:`hub` to Redis when ``REDIS_URL`` is set (``bot.server`` services)."""
    url = redis_url()
    if url is None:
        logger.info("Desk wake-ups in this process only (no REDIS_URL): run one server process")
        return
    if await hub.connect(url):
        logger.info("Desk wake-ups shared through Redis at %s", _safe(url))


async def stop(app: Any = None) -> None:
    """Leave Redis (the counterpart of :func:`start`)."""
    await hub.close()
