"""A ticket notification while WeChat's API is down reaches the resident once it is back."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot import outbound
from bot.channels.state import SqlKeyValueStore
from bot.channels.wechat import LinliWeChatClient, SharedTokenStorage, WeChatSender
from bot.notifications import Notifier
from bot.outbox.models import PENDING, SENT
from bot.outbox.settings import OutboxSettings
from bot.outbox.worker import Worker
from bot.tickets import TicketStore
from tests.outbox.helpers import FlakyWeChat, app_with_agent, bot_lines, drain

#: Enough attempts to outlast the outage below; retries a few milliseconds apart.
PATIENT = OutboxSettings(interval=0.05, max_attempts=8, backoff=0.01, max_backoff=0.05, lease=30)


async def test_a_notification_while_wechat_is_down_is_delivered_after_it_comes_back(
    tmp_path: Path, flaky_wechat: FlakyWeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'outage.db'}", future=True)
    tickets = TicketStore(engine)
    client = LinliWeChatClient("wx-outage-test", "outage-secret", f"{flaky_wechat.url}/wechat",
                               SharedTokenStorage(SqlKeyValueStore(engine)))
    monkeypatch.setitem(outbound._senders, "wechat", WeChatSender(client))  # the real sender, the fake API
    notifier = Notifier(engine)
    store = notifier.outbox
    app = app_with_agent()
    worker = Worker(store, PATIENT, app)
    openid = f"o-outage-{uuid.uuid4().hex[:8]}"
    ticket = tickets.create(ticket_type="repair", channel="wechat", sender_id=openid, description="leak",
                            language="en")
    flaky_wechat.wechat_down = True
    try:
        tickets.change_status(ticket.number, "in_progress", actor="staff:test")
        assert await notifier.run_once() == 1
        assert await notifier.run_once() == 0  # queued once
        [queued], _ = store.list([PENDING])
        await drain(worker, lambda: store.get(queued.id).attempts >= 3)
        failing = store.get(queued.id)
        assert failing.status == PENDING and flaky_wechat.refused >= 3 and flaky_wechat.delivered(openid) == []
        assert "WeChat could not deliver" in failing.last_error and "ACCESS-" not in failing.last_error
    finally:
        flaky_wechat.wechat_down = False

    await drain(worker, lambda: store.get(queued.id).status == SENT)
    sent = store.get(queued.id)
    assert sent.attempts == failing.attempts + 1  # every try is counted
    expected = f"Update on your repair ticket {ticket.number}: it is now in progress."
    assert flaky_wechat.delivered(openid) == [expected]
    assert await bot_lines(app, f"wechat:{openid}") == [(expected, {"notification": ticket.number})]

    # Nothing is sent or recorded twice afterwards, by this notifier, a second one or the worker.
    assert await notifier.run_once() == 0 and await Notifier(engine).run_once() == 0
    assert await worker.run_once() == 0
    assert flaky_wechat.delivered(openid) == [expected]
    assert len(await bot_lines(app, f"wechat:{openid}")) == 1
    engine.dispose()
