"""Nonces, de-duplication and the login throttle on Redis, seen by two replicas: two
store instances, each with its own connection (bot/channels/state.py, bot/staff/throttle.py)."""

from __future__ import annotations

from typing import Iterator, Tuple

import pytest

from bot.channels import state
from bot.channels.state import RedisKeyValueStore
from bot.staff.throttle import LoginThrottle


@pytest.fixture
def stores(redis_url: str, key_prefix: str) -> Iterator[Tuple[RedisKeyValueStore, RedisKeyValueStore]]:
    a, b = RedisKeyValueStore(redis_url, key_prefix), RedisKeyValueStore(redis_url, key_prefix)
    yield a, b
    a.redis.close()
    b.redis.close()


def test_a_nonce_or_message_claimed_on_one_replica_is_refused_on_the_other(stores) -> None:
    a, b = stores
    assert a.claim("wechat:nonce:1700000000-abc", 600) is True
    assert b.claim("wechat:nonce:1700000000-abc", 600) is False  # a replayed request on replica B
    assert b.claim("telegram:update:123:42", 600) is True
    assert a.claim("telegram:update:123:42", 600) is False  # Telegram's retry reached replica A
    assert 0 < a.redis.pttl(a.prefix + "wechat:nonce:1700000000-abc") <= 600_000  # it expires


def test_login_attempts_are_counted_across_replicas(stores) -> None:
    a, b = stores
    on_a, on_b = LoginThrottle(3, 60, store=a), LoginThrottle(3, 60, store=b)
    assert [on_a.attempt("10.0.0.7", "admin"), on_b.attempt("10.0.0.7", "Admin "),
            on_a.attempt("10.0.0.7", "admin")] == [0, 0, 0]
    assert on_b.attempt("10.0.0.7", "admin") == 60  # the fourth guess, wherever it lands
    on_a.succeeded("10.0.0.7", "admin")  # the right password on replica A clears the window for B
    assert on_b.attempt("10.0.0.7", "admin") == 0
    assert 0 < a.redis.pttl(next(iter(a.redis.scan_iter(match=a.prefix + "login:pair:*")))) <= 60_000


def test_unshared_counters_would_let_the_fourth_guess_through(redis_url: str, key_prefix: str) -> None:
    """What per-process state did: proves the test above can fail."""
    a, b = RedisKeyValueStore(redis_url, key_prefix + "a:"), RedisKeyValueStore(redis_url, key_prefix + "b:")
    try:
        on_a, on_b = LoginThrottle(3, 60, store=a), LoginThrottle(3, 60, store=b)
        assert [on_a.attempt("10.0.0.8", "admin") for _ in range(2)] == [0, 0]
        assert [on_b.attempt("10.0.0.8", "admin") for _ in range(2)] == [0, 0]
    finally:
        a.redis.close()
        b.redis.close()


def test_redis_url_puts_every_shared_record_on_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state.kv_store.cache_clear()
    monkeypatch.setenv("REDIS_URL", redis_url)
    try:
        store = state.kv_store()
        assert isinstance(store, RedisKeyValueStore)
        assert LoginThrottle().store is store
        assert state.redis_channel("hub", redis_url) == f"linli:hub:{redis_url.rsplit('/', 1)[1]}"
    finally:
        state.kv_store.cache_clear()  # the next caller gets the store of its own environment
