"""Channel state that must survive a restart: de-duplication records, cached
API tokens, photos waiting for a ticket.

Everything lives in the database on ``DATABASE_URL`` (tables ``channel_kv`` and
``channel_pending_photos``), so several server processes share it. When
``REDIS_URL`` is set, the short-lived key/value records go to Redis instead
(keys ``linli:…``): WeChat and Telegram de-duplication, WeChat nonces, cached
API tokens and the staff login throttle (:mod:`bot.staff.throttle`); pending
photos always stay in the database next to the tickets. Every such record goes
through :func:`kv_store`: no process keeps one in memory, so replicas and
restarts see the same state.

``REDIS_URL`` also carries the other shared state of a cluster, each through its
own module: the desk's wake-ups (:mod:`bot.handoff.hub`) and the widget's
socket.io rooms (:mod:`bot.channels.webchat`), both on Redis pub/sub channels
named by :func:`redis_channel`.

All methods are synchronous (SQLAlchemy / redis-py); async callers run them
with ``asyncio.to_thread`` so the event loop never blocks on I/O.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache
from typing import List, Optional, Protocol

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, cast, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db import get_engine
from bot.settings import Redis

metadata = MetaData()

kv_table = Table(
    "channel_kv",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),  # epoch seconds
)

pending_photos_table = Table(
    "channel_pending_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False, index=True),
    Column("ref", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


class KeyValueStore(Protocol):
    """Strings with a time to live, shared between processes."""

    def claim(self, key: str, ttl: float) -> bool:
        """Atomically create ``key``; ``False`` if it already exists (and has not expired)."""

    def get(self, key: str) -> Optional[str]:
        """The value of ``key``, or ``None`` if missing or expired."""

    def set(self, key: str, value: str, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if missing)."""

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        """Atomically add ``amount`` to the counter ``key`` (created with ``ttl``); the new value."""


class SqlKeyValueStore:
    """:class:`KeyValueStore` on a SQL table; expired rows are purged lazily."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def claim(self, key: str, ttl: float) -> bool:
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(delete(kv_table).where(kv_table.c.key == key, kv_table.c.expires_at <= now))
            if random.random() < 0.01:  # keep the table small without a cron job
                conn.execute(delete(kv_table).where(kv_table.c.expires_at <= now))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kv_table).values(key=key, value="1", expires_at=now + ttl))
            return True
        except IntegrityError:  # the unique key makes the claim atomic across processes
            return False

    def get(self, key: str) -> Optional[str]:
        with self.engine.connect() as conn:
            return conn.scalar(
                select(kv_table.c.value).where(kv_table.c.key == key, kv_table.c.expires_at > time.time())
            )

    def set(self, key: str, value: str, ttl: float) -> None:
        expires = time.time() + ttl
        with self.engine.begin() as conn:
            done = conn.execute(update(kv_table).where(kv_table.c.key == key).values(value=value, expires_at=expires))
            if done.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kv_table).values(key=key, value=value, expires_at=expires))
        except IntegrityError:  # another process inserted it meanwhile: last writer wins
            with self.engine.begin() as conn:
                conn.execute(update(kv_table).where(kv_table.c.key == key).values(value=value, expires_at=expires))

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(kv_table).where(kv_table.c.key == key))

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        # A fixed window: the counter expires ``ttl`` after its first increment.
        for _attempt in range(5):
            now = time.time()
            with self.engine.begin() as conn:
                conn.execute(delete(kv_table).where(kv_table.c.key == key, kv_table.c.expires_at <= now))
                done = conn.execute(
                    update(kv_table).where(kv_table.c.key == key)
                    .values(value=cast(cast(kv_table.c.value, Integer) + amount, Text)))
                if done.rowcount:
                    return int(conn.scalar(select(kv_table.c.value).where(kv_table.c.key == key)))
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(kv_table).values(key=key, value=str(amount), expires_at=now + ttl))
                return amount
            except IntegrityError:  # created concurrently: increment it
                continue
        raise RuntimeError(f"could not count {key}")


class RedisKeyValueStore:
    """:class:`KeyValueStore` on Redis (``REDIS_URL``)."""

    def __init__(self, url: str, prefix: str = "linli:") -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix

    def claim(self, key: str, ttl: float) -> bool:
        return bool(self.redis.set(self.prefix + key, "1", nx=True, px=max(1, int(ttl * 1000))))

    def get(self, key: str) -> Optional[str]:
        return self.redis.get(self.prefix + key)

    def set(self, key: str, value: str, ttl: float) -> None:
        self.redis.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        pipe = self.redis.pipeline()  # MULTI/EXEC: the window starts with the first attempt
        pipe.set(self.prefix + key, 0, nx=True, px=max(1, int(ttl * 1000)))
        pipe.incrby(self.prefix + key, amount)
        _, value = pipe.execute()
        return int(value)


def redis_url() -> Optional[str]:
    """``REDIS_URL`` (``redis://host:6379/0``), or ``None`` when unset or empty (one process, no Redis)."""
    return Redis.read("url")


def redis_channel(name: str, url: str) -> str:
    """The pub/sub channel ``linli:<name>:<db>`` of the Redis database ``url`` names.

    Pub/sub ignores database numbers, so two deployments sharing one Redis on
    different databases would otherwise hear each other's messages.
    """
    from redis.connection import parse_url

    try:
        db = int(parse_url(url).get("db") or 0)
    except (ValueError, TypeError):
        db = 0
    return f"linli:{name}:{db}"


@lru_cache(maxsize=None)
def kv_store() -> KeyValueStore:
    """The process-wide key/value store: Redis if ``REDIS_URL`` is set, else the database."""
    url = redis_url()
    if url:
        return RedisKeyValueStore(url)
    return SqlKeyValueStore(get_engine())


class PendingPhotos:
    """Photos a resident sent before they had an open ticket, kept until one exists."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def add(self, channel: str, sender_id: str, ref: str) -> None:
        """Remember ``ref`` (media id / file id / URL) for this resident."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(pending_photos_table).values(channel=channel, sender_id=sender_id, ref=ref, created_at=time.time())
            )

    def peek(self, channel: str, sender_id: str) -> List[str]:
        """The resident's waiting photo references, oldest first."""
        table = pending_photos_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.ref)
                .where(table.c.channel == channel, table.c.sender_id == sender_id)
                .order_by(table.c.id)
            )
            return [row[0] for row in rows]

    def take(self, channel: str, sender_id: str) -> List[str]:
        """Remove and return the waiting references (each returned by one caller only)."""
        table = pending_photos_table
        taken: List[str] = []
        with self.engine.begin() as conn:
            rows = list(
                conn.execute(
                    select(table.c.id, table.c.ref)
                    .where(table.c.channel == channel, table.c.sender_id == sender_id)
                    .order_by(table.c.id)
                )
            )
            for row_id, ref in rows:
                # Deleting row by row: a concurrent taker that deleted it first gets rowcount 0.
                if conn.execute(delete(table).where(table.c.id == row_id)).rowcount:
                    taken.append(ref)
        return taken


@lru_cache(maxsize=None)
def pending_photos() -> PendingPhotos:
    """The process-wide pending-photo store on ``DATABASE_URL``."""
    return PendingPhotos(get_engine())
