"""Ticket status changes reach the resident on their channel, in their language."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import List, Tuple

import pytest
from sqlalchemy import create_engine

from bot import outbound
from bot.notifications import Notifier, register_notifications, status_message
from bot.outbox.settings import OutboxSettings
from bot.outbox.store import OutboxStore
from bot.outbox.worker import Worker
from bot.tickets import TicketStore
from tests.channels.fakes import FakeApis
from tests.servers import Stack


class RecordingSender:
    """A sender that remembers what it was asked to deliver."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    async def send_text(self, recipient_id: str, text: str) -> None:
        self.sent.append((recipient_id, text))


@pytest.fixture
def store(tmp_path: Path) -> TicketStore:
    return TicketStore(create_engine(f"sqlite:///{tmp_path / 'n.db'}", future=True))


async def test_each_status_change_is_sent_once_in_the_tickets_language(store: TicketStore) -> None:
    sender = RecordingSender()
    outbound.register_sender("test-channel", sender)
    old = store.create(ticket_type="repair", channel="test-channel", sender_id="r0", description="旧的")
    store.change_status(old.number, "in_progress", actor="staff")  # before notifications existed
    notifier = Notifier(store.engine)
    zh = store.create(ticket_type="repair", channel="test-channel", sender_id="r1", description="水管漏水", language="zh")
    en = store.create(ticket_type="complaint", channel="test-channel", sender_id="r2", description="noise", language="en")
    store.assign(zh.number, "王师傅", actor="staff")
    store.change_status(zh.number, "resolved", actor="staff", note="已更换水管")
    store.change_status(en.number, "in_progress", actor="staff")
    unknown = store.create(ticket_type="repair", channel="no-such-channel", sender_id="r3", description="x")
    store.change_status(unknown.number, "resolved", actor="staff")

    await notifier.run_once()
    await notifier.run_once()  # nothing is queued twice
    await Notifier(store.engine).run_once()  # nor by a second process
    assert sender.sent == []  # the notifier only queues: the outbox delivers
    worker = Worker(OutboxStore(store.engine))
    await worker.run_once()
    await worker.run_once()  # nor sent twice

    # Residents are served side by side; each one's messages arrive in order.
    assert sorted(r for r, _ in sender.sent) == ["r1", "r1", "r2"]
    assigned, resolved = (text for r, text in sender.sent if r == "r1")
    [progress] = (text for r, text in sender.sent if r == "r2")
    assert zh.number in assigned and "已派单" in assigned
    assert "已解决" in resolved and "已更换水管" in resolved and "仍未解决" in resolved
    assert progress == f"Update on your complaint ticket {en.number}: it is now in progress."


async def test_register_notifications_wakes_the_running_notifier(
    store: TicketStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.notifications as notifications
    from bot.outbox import service

    sender = RecordingSender()
    outbound.register_sender("test-wake", sender)
    notifier = Notifier(store.engine, interval=3600)  # only a wake-up can deliver within the test
    monkeypatch.setattr(notifications, "notifier", lambda: notifier)
    worker = Worker(OutboxStore(store.engine), OutboxSettings(interval=3600))  # woken by the notifier
    monkeypatch.setattr(service, "_worker", worker)
    register_notifications(store)
    notifier.start()
    worker.start()
    try:
        ticket = store.create(ticket_type="repair", channel="test-wake", sender_id="r9", description="灯不亮")
        await asyncio.sleep(0.3)  # the first round has run and the loop now waits an hour
        store.change_status(ticket.number, "closed", actor="staff")
        for _ in range(50):
            if sender.sent:
                break
            await asyncio.sleep(0.1)
    finally:
        await notifier.stop()
        await worker.stop()
    assert sender.sent and "已关闭" in sender.sent[0][1]


def test_status_message_english_resolved(store: TicketStore) -> None:
    ticket = store.create(ticket_type="repair", channel="x", sender_id="y", description="leak", language="en")
    updated = store.change_status(ticket.number, "resolved", actor="staff", note="pipe replaced")
    text = status_message(updated, updated.events[-1])
    assert text.startswith(f"Update on your repair ticket {ticket.number}: it is now resolved.")
    assert "Note: pipe replaced" in text and "just reply here" in text


def test_status_changes_from_another_process_reach_wechat_and_telegram(
    channel_stack: Stack, fake_apis: FakeApis
) -> None:
    """The staff desk may run anywhere: a change written to the database is delivered by the server."""
    store = TicketStore(create_engine(channel_stack.database_url, future=True))
    openid = f"o-notify-{uuid.uuid4().hex[:8]}"
    chat_id = random.randint(10**8, 10**9)
    on_wechat = store.create(ticket_type="repair", channel="wechat", sender_id=openid, description="leak", language="en")
    on_telegram = store.create(
        ticket_type="repair", channel="telegram", sender_id=str(chat_id), description="漏水", language="zh"
    )
    store.change_status(on_wechat.number, "resolved", actor="staff:test")
    store.change_status(on_telegram.number, "in_progress", actor="staff:test")

    wechat = fake_apis.wait_for(lambda: fake_apis.find("wechat", "message/custom/send", touser=openid))
    assert wechat[0].params["text"]["content"].startswith(
        f"Update on your repair ticket {on_wechat.number}: it is now resolved."
    )
    telegram = fake_apis.wait_for(lambda: fake_apis.find("telegram", "sendMessage", chat_id=chat_id))
    assert telegram[0].params["text"] == f"您的报修工单 {on_telegram.number} 状态已更新为：处理中。"
