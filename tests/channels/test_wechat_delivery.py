"""WeChat's delivery rules (issue 14): the 48-hour customer-service window, its quota,
template messages (模板消息) and which path delivered.

One module-scoped WeChat channel (the real ``WeChatInput``, its webhook served over HTTP by
Sanic, safe mode) in front of a stub Rasa that answers every text, the fake WeChat API
(tests/channels/fakes.py) behind it, and a real outbox worker on a SQLite database; the desk's
``GET /api/outbox`` is served by the same app. The resident's clock is moved forward through
the window's ``clock`` (WeChat's side cannot wait 49 hours).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from sanic import Sanic
from sqlalchemy import create_engine

from bot import outbound
from bot.channels import common, state
from bot.channels.state import RedisKeyValueStore, SqlKeyValueStore
from bot.channels.wechat import WeChatInput
from bot.channels.wechat_delivery import ServiceWindow, parse_templates
from bot.notifications import Notifier
from bot.outbox import service as outbox_service
from bot.outbox.models import PENDING, SENT, UNDELIVERABLE
from bot.outbox.store import OutboxStore
from bot.outbox.worker import Worker
from bot.settings import SettingError, WeChat
from bot.staff.store import StaffStore
from bot.tickets import TicketStore
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.wechat_client import WeChatServer, message_xml, next_msg_id, text_xml
from tests.outbox.helpers import FAST, drain

TEMPLATES = """
ticket_update:
  template_id: "TPL-ticket-progress"
  url: "https://wy.example.com/tickets/{number}"
  fields:
    character_string1: "{number}"
    thing2: "{type}"
    phrase3: "{status}"
    time4: "{time}"
    thing5: "{note:.20}"
generic:
  template_id: "TPL-service-reply"
  fields:
    thing1: "{text:.20}"
    time2: {value: "{time}", color: "#173177"}
"""
ONLY_NOTICE = """
notice:
  template_id: "TPL-notice"
  fields: {thing1: "{title}", thing2: "{body}", time3: "{time}"}
"""
HOURS = 3600.0


class Channel:
    """The channel under test and what the tests need around it."""

    def __init__(self, url: str, input_channel: WeChatInput, engine: Any, staff_token: str,
                 templates: Path, only_notice: Path) -> None:
        self.url = url
        self.input = input_channel
        self.engine = engine
        self.tickets = TicketStore(engine)
        self.outbox = OutboxStore(engine)
        self.worker = Worker(self.outbox, FAST)
        self.notifier = Notifier(engine)  # before any change: every later change is announced
        self.staff_token = staff_token
        self.templates = templates
        self.only_notice = only_notice
        self.wechat = WeChatServer(url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)

    @property
    def window(self) -> ServiceWindow:
        return self.input.window

    def later(self, hours: float) -> None:
        """Move the channel's clock ``hours`` forward (the resident's last message gets older)."""
        self.window.clock = lambda: time.time() + hours * HOURS

    def writes(self, openid: str, text: str = "你好") -> None:
        """The resident sends a text; the (stub) bot answers it passively."""
        reply = self.wechat.post(text_xml(openid, text), openid=openid)
        assert reply.status == 200 and reply.content == "收到", reply

    def outbox_json(self, status: str = "sent,undeliverable,pending") -> List[Dict[str, Any]]:
        answer = requests.get(f"{self.url}/api/outbox", params={"status": status, "limit": 500},
                              headers={"Authorization": f"Bearer {self.staff_token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["messages"]


def _serve(app: Sanic) -> str:
    """Serve ``app`` on a free port in a background thread; its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(app.create_server(host="127.0.0.1", port=port, access_log=False,
                                                           return_asyncio_server=True))
        loop.run_until_complete(server.startup())
        loop.run_until_complete(server.before_start())
        loop.run_until_complete(server.after_start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True, name="wechat-delivery-app").start()
    assert ready.wait(20), "the test app did not start"
    return f"http://127.0.0.1:{port}"


def clear_caches() -> None:
    """Forget the process-wide stores opened on another DATABASE_URL (and, afterwards, on ours)."""
    state.kv_store.cache_clear()
    state.pending_photos.cache_clear()
    common.ticket_store.cache_clear()
    outbox_service.outbox_store.cache_clear()


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory, fake_apis: FakeApis) -> Iterator[Channel]:
    folder = tmp_path_factory.mktemp("wechat-delivery")
    templates, only_notice = folder / "templates.yml", folder / "only_notice.yml"
    templates.write_text(TEMPLATES, encoding="utf-8")
    only_notice.write_text(ONLY_NOTICE, encoding="utf-8")
    url = f"sqlite:///{folder / 'linli.db'}"
    previous_sender = outbound.sender_for("wechat")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("REDIS_URL", "")
        env.setenv("LINLI_TIMEZONE", "Asia/Shanghai")
        clear_caches()
        engine = create_engine(url, future=True)
        staff = StaffStore(engine)
        staff.create_user("deliveries-admin", "a-long-test-password-1", "admin")
        token, _identity, _expires = staff.login("deliveries-admin", "a-long-test-password-1")
        wechat = WeChatInput(WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET, encoding_aes_key=WECHAT_AES_KEY,
                             api_base_url=f"{fake_apis.url}/wechat", templates=str(templates))

        async def stub_rasa(message: Any) -> None:  # Rasa's place: every text gets "收到"
            await message.output_channel.send_text_message(message.sender_id, "收到")

        from bot.web.outbox_api import blueprint as outbox_api

        app = Sanic(f"wechat_delivery_{uuid.uuid4().hex[:8]}", configure_logging=False)
        app.ctx.staff_store = staff
        app.blueprint(wechat.blueprint(stub_rasa), url_prefix="/webhooks/wechat")
        app.blueprint(outbox_api)
        yield Channel(_serve(app), wechat, engine, token, templates, only_notice)
        clear_caches()
    if previous_sender is not None:
        outbound.register_sender("wechat", previous_sender)
    engine.dispose()


@pytest.fixture(autouse=True)
def real_time(channel: Channel) -> Iterator[None]:
    """Each test starts at the real time, with the configured templates and WeChat's quota."""
    channel.window.clock = time.time
    channel.window.quota = 20
    channel.input.sender.delivery.templates_path = str(channel.templates)
    yield
    channel.window.clock = time.time


@pytest.fixture
def openid() -> str:
    return f"o-deliv-{uuid.uuid4().hex[:12]}"


def ticket_for(channel: Channel, openid: str, language: str = "zh") -> Any:
    return channel.tickets.create(ticket_type="repair", channel="wechat", sender_id=openid, description="厨房水管漏水",
                                  language=language)


async def notify(channel: Channel) -> None:
    """The notifier queues what changed, the worker makes one attempt at everything due."""
    await channel.notifier.run_once()
    await channel.worker.run_once()


def row_of(channel: Channel, openid: str, index: int = -1) -> Any:
    rows = [m for m in channel.outbox.list(limit=500)[0] if m.sender_id == openid]
    return sorted(rows, key=lambda m: m.id)[index]


def sends(fake: FakeApis, openid: str, method: str = "message/custom/send") -> List[Any]:
    return fake.find("wechat", method, touser=openid)


# ---------------------------------------------------------------- the window
async def test_a_status_change_49_hours_after_the_last_message_goes_as_the_configured_template(
    channel: Channel, fake_apis: FakeApis, openid: str
) -> None:
    channel.writes(openid, "我家水管漏水")
    ticket = ticket_for(channel, openid)
    channel.later(49)
    channel.tickets.change_status(ticket.number, "resolved", actor="staff:test", note="已更换水管接头")
    await notify(channel)

    assert sends(fake_apis, openid) == []  # WeChat would have answered 45015: not even tried
    [call] = sends(fake_apis, openid, "message/template/send")
    body = call.params
    assert body["template_id"] == "TPL-ticket-progress"
    assert body["url"] == f"https://wy.example.com/tickets/{ticket.number}"
    data = {key: value["value"] for key, value in body["data"].items()}
    assert data["character_string1"] == ticket.number and data["thing2"] == "报修"
    assert data["phrase3"] == "已解决" and data["thing5"] == "已更换水管接头"
    assert len(data["time4"]) == 16 and data["time4"][:2] == "20"  # 2026-12-01 14:30, Beijing time
    row = row_of(channel, openid)
    assert (row.status, row.delivered_via, row.kind) == (SENT, "template", "notification")
    [shown] = [m for m in channel.outbox_json() if m["id"] == row.id]
    assert shown["delivered_via"] == "template" and shown["status"] == "sent"


async def test_within_the_window_it_goes_by_customer_service(channel: Channel, fake_apis: FakeApis,
                                                            openid: str) -> None:
    channel.writes(openid)
    ticket = ticket_for(channel, openid, "en")
    channel.later(47)
    channel.tickets.change_status(ticket.number, "in_progress", actor="staff:test")
    await notify(channel)

    [call] = sends(fake_apis, openid)
    assert call.params["text"]["content"] == f"Update on your repair ticket {ticket.number}: it is now in progress."
    assert sends(fake_apis, openid, "message/template/send") == []
    row = row_of(channel, openid)
    assert (row.status, row.delivered_via) == (SENT, "customer_service")
    assert [m["delivered_via"] for m in channel.outbox_json() if m["id"] == row.id] == ["customer_service"]


async def test_events_that_open_the_window_and_those_that_do_not(channel: Channel, openid: str) -> None:
    sent_at = iter(range(int(time.time()), int(time.time()) + 100))  # events are told apart by their time

    def event(name: str, **fields: str) -> None:
        xml = message_xml(openid, "event", {"Event": name, **fields}, create_time=next(sent_at))
        assert channel.wechat.post(xml, openid=openid).status == 200

    assert not channel.window.state(openid).known
    event("VIEW", EventKey="https://wy.example.com")  # a menu link, a location report, unfollowing: no window
    event("LOCATION", Latitude="31.2", Longitude="121.5", Precision="10")
    event("unsubscribe")
    assert not channel.window.state(openid).known
    event("subscribe")
    assert channel.window.state(openid).open
    channel.later(49)
    assert not channel.window.state(openid).open
    event("CLICK", EventKey="MENU_REPAIR")  # a menu click opens a new window (at the moved clock)
    assert channel.window.state(openid).open
    channel.later(49 + 49)
    assert not channel.window.state(openid).open
    place = message_xml(openid, "location", {"Location_X": "31.2", "Location_Y": "121.5", "Scale": "15",
                                             "Label": "3栋"}, next_msg_id())
    assert channel.wechat.post(place, openid=openid).status == 200  # any message the resident sends
    state_now = channel.window.state(openid)
    assert state_now.open and state_now.sent == 0


# ---------------------------------------------------------------- falling back
async def test_45015_from_customer_service_falls_back_to_a_template(channel: Channel, fake_apis: FakeApis,
                                                                   openid: str) -> None:
    """A resident Linli never recorded (e.g. before this release) is tried by customer service; WeChat
    refuses with 45015, the template goes in the same attempt, and later messages go straight to it."""
    fake_apis.wechat_send_errors[openid] = [45015]
    await outbox_service.enqueue("wechat", openid, "王师傅明天上午九点上门维修。", "agent_reply")
    await channel.worker.run_once()

    assert len(sends(fake_apis, openid)) == 1
    [call] = sends(fake_apis, openid, "message/template/send")
    assert call.params["template_id"] == "TPL-service-reply"
    assert call.params["data"]["thing1"]["value"] == "王师傅明天上午九点上门维修。"
    assert call.params["data"]["time2"]["color"] == "#173177"
    row = row_of(channel, openid)
    assert (row.status, row.delivered_via, row.attempts) == (SENT, "template", 1)

    await outbox_service.enqueue("wechat", openid, "维修已完成。", "agent_reply")
    await channel.worker.run_once()
    assert len(sends(fake_apis, openid)) == 1  # known closed: no second 45015
    assert len(sends(fake_apis, openid, "message/template/send")) == 2
    channel.writes(openid, "谢谢")  # a new message opens the window again
    await outbox_service.enqueue("wechat", openid, "不客气。", "agent_reply")
    await channel.worker.run_once()
    assert sends(fake_apis, openid)[-1].params["text"]["content"] == "不客气。"
    assert row_of(channel, openid).delivered_via == "customer_service"


async def test_the_quota_switches_to_templates_until_the_resident_writes_again(
    channel: Channel, fake_apis: FakeApis, openid: str
) -> None:
    channel.window.quota = 2
    channel.writes(openid)
    for number in range(3):
        await outbox_service.enqueue("wechat", openid, f"回复 {number}", "agent_reply")
    await drain(channel.worker, lambda: row_of(channel, openid).status == SENT)
    assert [c.params["text"]["content"] for c in sends(fake_apis, openid)] == ["回复 0", "回复 1"]
    [template] = sends(fake_apis, openid, "message/template/send")
    assert template.params["data"]["thing1"]["value"] == "回复 2"
    assert [row_of(channel, openid, i).delivered_via for i in range(3)] == ["customer_service"] * 2 + ["template"]

    channel.writes(openid, "还有一个问题")  # a fresh window, a fresh count
    assert channel.window.state(openid).sent == 0
    await outbox_service.enqueue("wechat", openid, "请讲。", "agent_reply")
    await channel.worker.run_once()
    assert row_of(channel, openid).delivered_via == "customer_service"


async def test_45047_from_customer_service_falls_back_and_uses_the_quota_up(
    channel: Channel, fake_apis: FakeApis, openid: str
) -> None:
    channel.writes(openid)
    fake_apis.wechat_send_errors[openid] = [45047]
    await outbox_service.enqueue("wechat", openid, "第一条", "late_answer")
    await outbox_service.enqueue("wechat", openid, "第二条", "late_answer")
    await drain(channel.worker, lambda: row_of(channel, openid).status == SENT)
    assert len(sends(fake_apis, openid)) == 1  # the second one knows the quota is gone
    assert [c.params["data"]["thing1"]["value"] for c in sends(fake_apis, openid, "message/template/send")] == [
        "第一条", "第二条"]
    assert channel.window.state(openid).exhausted


async def test_no_template_configured_is_undeliverable_with_the_reason(
    channel: Channel, fake_apis: FakeApis, openid: str
) -> None:
    channel.input.sender.delivery.templates_path = str(channel.only_notice)
    channel.writes(openid)
    ticket = ticket_for(channel, openid)
    channel.later(49)
    channel.tickets.change_status(ticket.number, "in_progress", actor="staff:test")
    await notify(channel)
    await channel.worker.run_once()  # not retried

    row = row_of(channel, openid)
    assert (row.status, row.attempts, row.delivered_via) == (UNDELIVERABLE, 1, None)
    assert row.last_error.startswith(
        "outside WeChat's 48-hour window and no template configured for ticket_update")
    assert sends(fake_apis, openid) == [] and sends(fake_apis, openid, "message/template/send") == []
    [shown] = [m for m in channel.outbox_json() if m["id"] == row.id]
    assert shown["status"] == "undeliverable" and "no template configured for ticket_update" in shown["last_error"]


# ---------------------------------------------------------------- temporary errors
async def test_a_temporary_error_is_retried_and_an_invalid_token_is_refreshed_once(
    channel: Channel, fake_apis: FakeApis, openid: str
) -> None:
    channel.writes(openid)
    fake_apis.wechat_send_errors[openid] = [-1]  # system busy
    message_id = await outbox_service.enqueue("wechat", openid, "稍后回复您。", "agent_reply")
    await channel.worker.run_once()
    failed = channel.outbox.get(message_id)
    assert failed.status == PENDING and failed.attempts == 1 and "-1" in failed.last_error
    assert channel.window.state(openid).sent == 0  # the refused message is not counted
    await drain(channel.worker, lambda: channel.outbox.get(message_id).status == SENT)
    sent = channel.outbox.get(message_id)
    assert (sent.attempts, sent.delivered_via) == (2, "customer_service")
    assert channel.window.state(openid).sent == 1

    tokens = len(fake_apis.find("wechat", "token"))
    fake_apis.wechat_send_errors[openid] = [40001]  # WeChat no longer takes the cached token
    message_id = await outbox_service.enqueue("wechat", openid, "师傅已出发。", "agent_reply")
    await channel.worker.run_once()
    sent = channel.outbox.get(message_id)
    assert (sent.status, sent.attempts, sent.delivered_via) == (SENT, 1, "customer_service")
    assert len(fake_apis.find("wechat", "token")) == tokens + 1
    assert [c.params["text"]["content"] for c in sends(fake_apis, openid)][-2:] == ["师傅已出发。"] * 2


# ---------------------------------------------------------------- the store and the settings
def window_stores() -> List[str]:
    kinds = ["sqlite", "redis"]
    if os.environ.get("TEST_DATABASE_URL"):
        kinds.append("postgresql")
    return kinds


@pytest.mark.parametrize("kind", window_stores())
def test_replicas_share_the_window_and_its_count(kind: str, tmp_path: Path) -> None:
    if kind == "redis":
        store: Any = RedisKeyValueStore("redis://127.0.0.1:6379/0", prefix=f"linli-test-{uuid.uuid4().hex[:6]}:")
    else:
        url = f"sqlite:///{tmp_path / 'kv.db'}" if kind == "sqlite" else os.environ["TEST_DATABASE_URL"]
        store = SqlKeyValueStore(create_engine(url, future=True))
    openid = f"o-kv-{uuid.uuid4().hex[:8]}"
    one, two = ServiceWindow(store, 48, 3), ServiceWindow(store, 48, 3)  # two replicas
    assert not one.state(openid).known
    one.record_inbound(openid)
    seen = two.state(openid)
    assert seen.open and seen.sent == 0
    assert [two.take(openid, seen), one.take(openid, seen), two.take(openid, seen)] == [True, True, True]
    assert not one.take(openid, one.state(openid)) and one.state(openid).exhausted
    two.record_inbound(openid, at=time.time() + 1)  # the resident wrote again: a fresh count
    assert one.state(openid).sent == 0 and one.state(openid).open
    now = one.state(openid)
    one.closed(openid, now)  # WeChat answered 45015
    assert two.state(openid).known and not two.state(openid).open
    if kind == "redis":
        store.redis.delete(*store.redis.keys(store.prefix + "*"))


def test_a_template_file_linli_cannot_use_refuses_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text('ticket_update:\n  template_id: "T"\n  fields: {keyword1: "{numbr}"}\n', encoding="utf-8")
    monkeypatch.setenv("WECHAT_TEMPLATES", str(bad))
    with pytest.raises(SettingError, match=r"ticket_update.fields.keyword1 uses \{numbr\}"):
        WeChat.from_env()
    monkeypatch.setenv("WECHAT_TEMPLATES", str(tmp_path / "missing.yml"))
    with pytest.raises(SettingError, match="does not exist"):
        WeChat.from_env()
    with pytest.raises(ValueError, match="needs a template_id"):
        parse_templates({"generic": {"fields": {"thing1": "{text}"}}})
    with pytest.raises(ValueError, match="not a plain field name"):
        parse_templates({"generic": {"template_id": "T", "fields": {"thing1": "{text.__class__}"}}})
    example = Path(__file__).resolve().parents[2] / "deploy" / "wechat_templates.example.yml"
    monkeypatch.setenv("WECHAT_TEMPLATES", str(example))
    assert WeChat.from_env().templates == str(example)  # the shipped example is valid
