"""The outbox on real SQLite and PostgreSQL: atomic claims, retries, dead letters, stale claims, order."""

from __future__ import annotations

import sys
import threading
import time
import types
from typing import Dict, List

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.engine import Engine

import bot
from bot.outbox.models import DEAD, PENDING, SENT, UNDELIVERABLE, outbox_table
from bot.outbox.settings import OutboxSettings
from bot.outbox.store import OutboxConflict, OutboxNotFound, OutboxStore
from bot.outbox.worker import Worker
from tests.outbox.helpers import FAST, RecordingSender, app_with_agent, bot_lines, channel_with, drain


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> List[tuple]:
    """A stand-in ``bot.metrics`` recording ``delivery_failed`` calls."""
    calls: List[tuple] = []
    module = types.SimpleNamespace(delivery_failed=lambda channel, kind: calls.append((channel, kind)))
    monkeypatch.setitem(sys.modules, "bot.metrics", module)
    monkeypatch.setattr(bot, "metrics", module, raising=False)
    return calls


def test_two_processes_racing_for_the_same_rows_claim_each_once(database_url: str) -> None:
    engines = [create_engine(database_url, future=True) for _ in range(2)]
    try:
        first, second = OutboxStore(engines[0]), OutboxStore(engines[1])
        ids = [first.enqueue("wechat", f"o-race-{i}", f"message {i}", "notification")[0] for i in range(60)]
        # Both see every row as due, then claim them all at the same moment.
        assert [m.id for m in first.due(100)] == [m.id for m in second.due(100)] == ids
        won: Dict[str, List[int]] = {"a": [], "b": []}
        barrier = threading.Barrier(2)

        def claim_all(store: OutboxStore, name: str) -> None:
            barrier.wait()
            for message_id in ids:
                if store.claim(message_id, f"host-{name}:1") is not None:
                    won[name].append(message_id)

        threads = [threading.Thread(target=claim_all, args=(store, name))
                   for store, name in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(won["a"] + won["b"]) == ids  # every row claimed, none twice
        assert not set(won["a"]) & set(won["b"])
        assert {first.get(i).attempts for i in ids} == {1}
        assert first.due(100) == []  # claimed rows are not due
    finally:
        for engine in engines:
            engine.dispose()


def test_the_same_dedupe_key_is_queued_once_by_any_process(database_url: str) -> None:
    engines = [create_engine(database_url, future=True) for _ in range(2)]
    try:
        first, second = OutboxStore(engines[0]), OutboxStore(engines[1])
        made = first.enqueue("wechat", "o-1", "hello", "notification", dedupe_key="ticket-event:7")
        again = second.enqueue("wechat", "o-1", "hello", "notification", dedupe_key="ticket-event:7")
        assert made[1] is True and again == (made[0], False)
        # Without a key, nothing is de-duplicated.
        assert first.enqueue("wechat", "o-1", "hello", "notification")[0] != made[0]
        assert first.counts()[PENDING] == 2
    finally:
        for engine in engines:
            engine.dispose()


async def test_failures_back_off_then_the_message_is_a_dead_letter(engine: Engine, metrics: List[tuple]) -> None:
    store = OutboxStore(engine)
    sender = RecordingSender()
    sender.down, sender.error = True, "503 from https://api.example/send?access_token=SECRET123456"
    channel = channel_with(sender)
    message_id, _ = store.enqueue(channel, "o-dead", "您的工单已更新", "notification")
    worker = Worker(store, FAST)

    await worker.run_once()
    first = store.get(message_id)
    assert first.status == PENDING and first.attempts == 1 and first.next_attempt_at > first.created_at
    assert "SECRET123456" not in first.last_error and "access_token=***" in first.last_error
    await drain(worker, lambda: store.get(message_id).status == DEAD)

    dead = store.get(message_id)
    assert dead.attempts == FAST.max_attempts == sender.tries and sender.sent == []
    assert [m.id for m in store.list([DEAD])[0]] == [message_id]
    assert metrics == [(channel, "notification")] * FAST.max_attempts
    await worker.run_once()
    assert sender.tries == FAST.max_attempts  # a dead letter is not retried on its own

    sender.down = False
    retried = store.retry(message_id)
    assert retried.status == PENDING and retried.attempts == 0
    await worker.run_once()
    assert store.get(message_id).status == SENT and sender.sent == [("o-dead", "您的工单已更新")]
    with pytest.raises(OutboxConflict):
        store.retry(message_id)  # sent: nothing to retry
    with pytest.raises(OutboxNotFound):
        store.retry(message_id + 1000)


def test_the_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    settings = OutboxSettings(backoff=5, max_backoff=600)
    assert [settings.delay(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert settings.delay(1, rand=lambda: 0.0) == 2.5  # jitter: half to all of the step
    assert settings.delay(30, rand=lambda: 1.0) == 600


async def test_a_channel_that_cannot_push_is_undeliverable_at_once(engine: Engine, metrics: List[tuple]) -> None:
    store = OutboxStore(engine)
    message_id, _ = store.enqueue("rest", "rest:someone", "您好", "agent_reply")  # REST only answers requests
    await Worker(store, FAST).run_once()
    message = store.get(message_id)
    assert message.status == UNDELIVERABLE and message.attempts == 1
    assert "rest" in message.last_error
    assert store.list([DEAD])[1] == 0 and metrics == []  # expected, not an alarm


async def test_a_stale_claim_is_taken_back_and_delivered_once(engine: Engine) -> None:
    store = OutboxStore(engine)
    sender = RecordingSender()
    channel = channel_with(sender)
    app = app_with_agent()
    message_id, _ = store.enqueue(channel, "o-stale", "状态已更新", "notification",
                                  transcript={"notification": "BX-1"})
    # A replica claimed it and died: its claim is older than the lease.
    crashed = store.claim(message_id, "crashed-replica:42")
    assert crashed is not None and store.due(10) == []
    with engine.begin() as conn:
        conn.execute(update(outbox_table).where(outbox_table.c.id == message_id)
                     .values(claimed_at=time.time() - 3600))

    worker = Worker(store, FAST, app, name="alive:7")
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    delivered = store.get(message_id)
    assert delivered.status == SENT and delivered.attempts == 2 and delivered.claimed_by == "alive:7"
    assert sender.sent == [("o-stale", "状态已更新")]
    # The crashed replica comes back and reports its old attempt: it no longer owns the row.
    assert store.complete(crashed) is False
    assert store.fail(crashed, "late", retry_at=time.time()) is False
    assert store.get(message_id).status == SENT
    conversation = f"{channel}:o-stale"
    assert await bot_lines(app, conversation) == [("状态已更新", {"notification": "BX-1"})]


async def test_retries_record_the_transcript_once_and_keep_each_residents_order(engine: Engine) -> None:
    store = OutboxStore(engine)
    sender = RecordingSender()
    channel = channel_with(sender)
    app = app_with_agent()
    ids = [store.enqueue(channel, "o-order", text, "notification", transcript={"n": text})[0]
           for text in ("first", "second", "third")]
    other, _ = store.enqueue(channel, "o-other", "elsewhere", "notification")
    worker = Worker(store, FAST, app)

    sender.down = True
    await worker.run_once()  # "first" fails; "second" and "third" wait behind it; "elsewhere" fails too
    assert [store.get(i).attempts for i in ids] == [1, 0, 0] and store.get(other).attempts == 1
    # "first" waits for its retry; a new message to that resident makes it due at once, ahead of itself.
    with engine.begin() as conn:
        conn.execute(update(outbox_table).where(outbox_table.c.id == ids[0]).values(next_attempt_at=time.time() + 3600))
    assert ids[0] not in [m.id for m in store.due(10)]
    ids.append(store.enqueue(channel, "o-order", "fourth", "notification", transcript={"n": "fourth"})[0])
    due = [m.id for m in store.due(10)]
    assert ids[0] in due and not set(ids[1:]) & set(due)
    sender.down = False
    await drain(worker, lambda: all(store.get(i).status == SENT for i in ids + [other]))

    order = ["first", "second", "third", "fourth"]
    assert [text for recipient, text in sender.sent if recipient == "o-order"] == order
    assert await bot_lines(app, f"{channel}:o-order") == [(text, {"n": text}) for text in order]
    assert await bot_lines(app, f"{channel}:o-other") == []  # no transcript metadata: the caller keeps it
    assert store.forget(f"{channel}:o-order") == 4 and store.list()[1] == 1  # erasure leaves the others
