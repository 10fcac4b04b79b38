"""Sending a notice through a real outbox and worker (SQLite and PostgreSQL), channels replaced by
recording senders: each resident gets it once, in their language, with the template payload;
opted-out residents are skipped unless urgent; the report counts sent / queued / failed /
undeliverable / skipped with reasons; a sent notice cannot be sent again."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from bot import outbound
from bot.nlu.patterns import Unit
from bot.notices.models import metadata as notice_tables
from bot.notices.report import delivery_report
from bot.notices.sending import send_notice
from bot.notices.store import NoticeConflict, NoticeError, NoticeStore
from bot.notices.targeting import TargetError
from bot.outbox.models import metadata as outbox_tables, outbox_table
from bot.outbox.settings import OutboxSettings
from bot.outbox.store import OutboxStore
from bot.outbox.worker import Worker
from bot.residence.models import metadata as residence_tables
from bot.residence.store import ResidenceStore
from bot.tickets import TicketStore
from bot.tickets.models import Base as ticket_tables


class Recording:
    """A channel's sender that keeps what it delivered (or always fails)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: List[Tuple[str, str]] = []
        self.fail = fail

    async def send_text(self, recipient_id: str, text: str) -> None:
        if self.fail:
            raise outbound.DeliveryError("HTTP 503 from the channel")
        self.sent.append((recipient_id, text))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, future=True)
    for metadata in (notice_tables, residence_tables, outbox_tables, ticket_tables.metadata):
        metadata.drop_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def senders(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Recording]:
    """WeChat delivers, Telegram is down, the web widget's socket.io is not running here."""
    found = {"wechat": Recording(), "telegram": Recording(fail=True)}
    for channel, sender in found.items():
        monkeypatch.setitem(outbound._senders, channel, sender)
    monkeypatch.delitem(outbound._senders, "socketio", raising=False)
    return found


NOTICE = {"title_zh": "停水通知", "body_zh": "3号楼明天9:00-12:00停水检修。", "title_en": "Water cut",
          "body_en": "Building 3: no water tomorrow 9:00-12:00 (maintenance).",
          "target": {"kind": "buildings", "buildings": ["3"]}}


def community(engine: Engine) -> NoticeStore:
    tickets, residence, notices = TicketStore(engine), ResidenceStore(engine), NoticeStore(engine)
    tickets.create(ticket_type="repair", channel="wechat", sender_id="o-en", description="leak", language="en",
                   building="3", entrance="2", room="502")
    tickets.create(ticket_type="repair", channel="wechat", sender_id="o-zh", description="漏水", building="3", room="601")
    residence.confirm("telegram", "1003", Unit("3", "701"))
    residence.confirm("socketio", "web3", Unit("3", "801"), source="staff", actor="staff:wang")
    residence.confirm("wechat", "o-out", Unit("3", "901"))
    notices.set_subscribed("wechat", "o-out", False)
    residence.confirm("wechat", "o-five", Unit("5", "101"))  # another building
    return notices


async def deliver(engine: Engine, enqueued: List[Dict[str, Any]], urgent: bool = False) -> Tuple[NoticeStore, int]:
    notices = community(engine)
    outbox = OutboxStore(engine)

    async def enqueue(channel: str, sender_id: str, text: str, kind: str, **options: Any) -> int:
        enqueued.append({"channel": channel, "sender_id": sender_id, "text": text, "kind": kind, **options})
        return outbox.enqueue(channel, sender_id, text, kind, **options)[0]

    notice = notices.create("admin", {**NOTICE, "urgent": urgent})
    sent = await send_notice(notices, notice.id, "admin", enqueue=enqueue)
    assert sent.status == "sent" and sent.recipients == 5
    return notices, notice.id


async def test_a_building_notice_reaches_its_residents_in_their_languages(engine: Engine,
                                                                          senders: Dict[str, Recording]) -> None:
    enqueued: List[Dict[str, Any]] = []
    notices, notice_id = await deliver(engine, enqueued)
    # Queued, not yet delivered: the report says so.
    assert delivery_report(engine, notice_id)["counts"] == {"sent": 0, "queued": 4, "failed": 0, "undeliverable": 0,
                                                           "skipped": 1, "total": 5}
    assert sorted((e["channel"], e["sender_id"]) for e in enqueued) == [
        ("socketio", "web3"), ("telegram", "1003"), ("wechat", "o-en"), ("wechat", "o-zh")]
    english = next(e for e in enqueued if e["sender_id"] == "o-en")
    assert english["kind"] == "notice" and english["dedupe_key"] == f"notice:{notice_id}:wechat:o-en"
    assert english["transcript"] == {"notice": notice_id}
    fields = english["payload"]["template"]["fields"]
    assert english["payload"]["template"]["name"] == "notice"
    assert (fields["title"], fields["body"]) == ("Water cut", NOTICE["body_en"]) and len(fields["time"]) == 16

    worker = Worker(OutboxStore(engine), OutboxSettings(max_attempts=1))
    await worker.run_once()
    assert sorted(senders["wechat"].sent) == [
        ("o-en", "[Property notice] Water cut\n" + NOTICE["body_en"] + "\n(Reply \"unsubscribe\" to stop non-urgent notices.)"),
        ("o-zh", "【物业通知】停水通知\n" + NOTICE["body_zh"] + "\n（回复“退订通知”可不再接收非紧急通知）")]
    report = delivery_report(engine, notice_id)
    assert report["counts"] == {"sent": 2, "queued": 0, "failed": 1, "undeliverable": 1, "skipped": 1, "total": 5}
    by_resident = {r["resident"]: r for r in report["recipients"]}
    assert by_resident["telegram:1003"]["status"] == "failed" and "503" in by_resident["telegram:1003"]["reason"]
    assert by_resident["socketio:web3"]["status"] == "undeliverable" and by_resident["socketio:web3"]["reason"]
    assert by_resident["wechat:o-out"] == {**by_resident["wechat:o-out"], "status": "skipped", "reason": "opted_out",
                                           "outbox_id": None}
    assert by_resident["wechat:o-zh"]["language"] == "zh" and by_resident["wechat:o-en"]["sent_at"]

    with pytest.raises(NoticeConflict):  # sent once
        await send_notice(notices, notice_id, "admin")
    with engine.connect() as conn:
        assert len(list(conn.execute(select(outbox_table.c.id)))) == 4


async def test_an_urgent_notice_also_reaches_residents_who_opted_out(engine: Engine,
                                                                     senders: Dict[str, Recording]) -> None:
    enqueued: List[Dict[str, Any]] = []
    _, notice_id = await deliver(engine, enqueued, urgent=True)
    await Worker(OutboxStore(engine), OutboxSettings(max_attempts=1)).run_once()
    assert {r for r, _ in senders["wechat"].sent} == {"o-en", "o-zh", "o-out"}
    assert all(text.startswith("【紧急通知】停水通知") for r, text in senders["wechat"].sent if r != "o-en")
    assert "退订" not in dict(senders["wechat"].sent)["o-out"]
    assert delivery_report(engine, notice_id)["counts"]["skipped"] == 0


def test_a_notice_needs_both_languages_and_a_valid_target(engine: Engine) -> None:
    notices = NoticeStore(engine)
    for change, code in [({"title_en": ""}, "missing_field"), ({"body_zh": None}, "missing_field"),
                         ({"title_zh": "长" * 101}, "too_long"), ({"urgent": "yes"}, "bad_urgent")]:
        with pytest.raises(NoticeError) as refused:
            notices.create("admin", {**NOTICE, **change})
        assert refused.value.code == code
    with pytest.raises(TargetError):
        notices.create("admin", {**NOTICE, "target": {"kind": "units", "units": ["somewhere"]}})
    assert notices.list() == ([], 0)  # nothing was stored


async def test_a_send_that_stopped_half_way_resumes_without_sending_twice(engine: Engine,
                                                                          senders: Dict[str, Recording]) -> None:
    notices = community(engine)
    outbox = OutboxStore(engine)
    calls: List[str] = []

    async def flaky(channel: str, sender_id: str, text: str, kind: str, **options: Any) -> int:
        calls.append(sender_id)
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return outbox.enqueue(channel, sender_id, text, kind, **options)[0]

    notice = notices.create("admin", NOTICE)
    with pytest.raises(RuntimeError):
        await send_notice(notices, notice.id, "admin", enqueue=flaky)
    with pytest.raises(NoticeConflict):  # being sent: refused for a while
        await send_notice(notices, notice.id, "admin", enqueue=flaky)
    with engine.begin() as conn:  # ...until the claim is stale
        from bot.notices.models import notices as table
        conn.execute(table.update().values(sending_at=0))
    await send_notice(notices, notice.id, "admin", enqueue=flaky)
    assert delivery_report(engine, notice.id)["counts"]["total"] == 5
    assert len(calls) == 5 and len(set(calls)) == 4  # the one that failed was tried again, the first was not
