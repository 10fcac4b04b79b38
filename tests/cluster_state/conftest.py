"""Shared state on the real Redis (127.0.0.1:6379, or ``TEST_REDIS_URL``).

Each run uses a random database number (so pub/sub channels ``linli:<name>:<db>``
differ from a developer's server and from other runs) and key prefixes of its own,
and deletes the keys it wrote.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Iterator

import pytest

BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def _reachable(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``redis://…/<random db>`` for this run; skips when no Redis answers."""
    url = f"{BASE}/{random.randint(1, 15)}"
    if not _reachable(url):
        pytest.skip(f"Redis is not reachable at {BASE}: start it (CI has one) or set TEST_REDIS_URL")
    return url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"linli-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
