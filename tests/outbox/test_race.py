"""Two worker processes on one PostgreSQL database deliver every message exactly once, in order."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
import uuid

from sqlalchemy import create_engine, text

from bot.channels.state import SqlKeyValueStore
from bot.outbox.models import SENT
from bot.outbox.store import OutboxStore
from tests.outbox.helpers import FlakyWeChat
from tests.servers import ROOT

MESSAGES_PER_RESIDENT = 3
RESIDENTS = 30


def test_two_worker_processes_deliver_each_message_exactly_once(postgres_url: str, flaky_wechat: FlakyWeChat) -> None:
    engine = create_engine(postgres_url, future=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS outbox"))
    store = OutboxStore(engine)
    SqlKeyValueStore(engine)  # the token cache's table, made here: two processes would race to create it
    env = {**os.environ, "DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)}
    names = ("replica-a:1", "replica-b:2")
    workers = [subprocess.Popen([sys.executable, "-m", "tests.outbox.worker_process", f"{flaky_wechat.url}/wechat", name],
                                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for name in names]
    flaky_wechat.send_delay = 0.02  # each send takes a moment, so both replicas have work in flight
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        run = uuid.uuid4().hex[:6]
        openids = [f"o-race-{run}-{r}" for r in range(RESIDENTS)]
        for n in range(MESSAGES_PER_RESIDENT):  # interleaved, as residents' messages arrive
            for openid in openids:
                store.enqueue("wechat", openid, f"{openid} #{n}", "notification")
        deadline = time.monotonic() + 60
        while store.counts()[SENT] < RESIDENTS * MESSAGES_PER_RESIDENT and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        flaky_wechat.send_delay = 0.0
        for worker in workers:
            worker.stdin.close()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    messages, total = store.list([SENT], limit=500)
    engine.dispose()
    assert total == RESIDENTS * MESSAGES_PER_RESIDENT
    delivered = [t for t in flaky_wechat.delivered() if t.startswith(f"o-race-{run}-")]
    counts = collections.Counter(delivered)
    assert len(counts) == RESIDENTS * MESSAGES_PER_RESIDENT and set(counts.values()) == {1}  # exactly once each
    for openid in openids:  # and each resident got theirs in order
        assert [t for t in delivered if t.startswith(openid + " ")] == [f"{openid} #{n}" for n in range(MESSAGES_PER_RESIDENT)]
    assert {m.claimed_by for m in messages} == set(names)  # both replicas took part
    assert {m.attempts for m in messages} == {1}
