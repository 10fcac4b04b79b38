"""Issue 11, finding 6 (WeChat replay, safe mode, escaping), finding 9 (the AppSecret in
errors) and hostile input on both channels: 4xx and nothing stored."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import List

import pytest
import xmltodict
from sqlalchemy import create_engine, delete, select

from bot.channels.state import kv_table
from bot.channels.wechat import text_reply_xml
from bot.notifications import notification_log
from bot.outbox.models import outbox_table
from bot.tickets import TicketStore
from tests.channels.conftest import TELEGRAM_SECRET, WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.wechat_client import WeChatServer, cdata, text_xml
from tests.servers import Stack


@pytest.fixture(scope="module")
def wechat(channel_stack: Stack) -> WeChatServer:
    return WeChatServer(channel_stack.rasa_url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)


def user_texts(stack: Stack, openid: str) -> List[str]:
    return [e.get("text") for e in stack.tracker(openid, channel="wechat")["events"] if e.get("event") == "user"]


def test_stale_or_future_timestamps_are_refused(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    for timestamp in ("978307200", str(int(time.time()) - 301), str(int(time.time()) + 301), "soon"):
        assert wechat.post(text_xml(openid, "你好"), openid=openid, timestamp=timestamp).status == 403
        assert wechat.verify("echo", timestamp=timestamp)[0] == 403
    assert user_texts(channel_stack, openid) == []


def test_a_captured_signature_cannot_be_replayed(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    nonce, timestamp = uuid.uuid4().hex[:10], str(int(time.time()))
    first = wechat.post(text_xml(openid, "你好"), openid=openid, nonce=nonce, timestamp=timestamp)
    assert first.status == 200
    replay = wechat.post(text_xml(openid, "我要报修"), openid=openid, nonce=nonce, timestamp=timestamp)
    assert replay.status == 403
    assert wechat.post(text_xml(openid, "你好"), openid=openid, nonce=nonce, timestamp=timestamp).status == 403
    assert user_texts(channel_stack, openid) == ["你好"]


def test_plaintext_is_refused_when_safe_mode_is_configured(wechat: WeChatServer, channel_stack: Stack,
                                                           openid: str) -> None:
    assert wechat.post(text_xml(openid, "你好"), safe=False, openid=openid).status == 403
    assert user_texts(channel_stack, openid) == []


def test_reply_fields_cannot_break_out_of_cdata(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    target = "gh_x]]></FromUserName><Content><![CDATA[pwned]]></Content><FromUserName><![CDATA["
    xml = (f"<xml><ToUserName>{cdata(target.replace(']]>', ']]]]><![CDATA[>'))}</ToUserName>"
           f"<FromUserName>{cdata(openid)}</FromUserName><CreateTime>{int(time.time())}</CreateTime>"
           f"<MsgType>{cdata('text')}</MsgType><Content>{cdata('你好')}</Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>")
    reply = wechat.post(xml, openid=openid)
    assert reply.status == 200 and "邻里" in (reply.content or "") and "pwned" not in (reply.content or "")
    # And the builder itself, with ]]> in the content:
    parsed = xmltodict.parse(text_reply_xml(openid, target, "a]]>b<![CDATA[c]]>"))["xml"]
    assert parsed["Content"] == "a]]>b<![CDATA[c]]>" and parsed["FromUserName"] == target


@pytest.mark.parametrize("kind", ["oversized", "doctype", "entity", "bad-utf8", "json", "openid"])
def test_hostile_wechat_bodies_get_4xx_and_store_nothing(wechat: WeChatServer, channel_stack: Stack, openid: str,
                                                         kind: str) -> None:
    if kind == "oversized":
        reply = wechat.post(text_xml(openid, "你" * 40000), openid=openid)
    elif kind == "doctype":
        reply = wechat.post('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]>'
                            + text_xml(openid, "&a;"), openid=openid)
    elif kind == "entity":
        bomb = '<!DOCTYPE xml [<!ENTITY a "1234567890"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        reply = wechat.post(text_xml(openid, "x").replace("<xml>", bomb + "<xml>", 1), safe=False, openid=openid)
    elif kind == "bad-utf8":
        reply = wechat.post("", openid=openid, raw=b"<xml>\xff\xfe\xfa</xml>")
    elif kind == "json":
        reply = wechat.post(text_xml(openid, "你好"), openid=openid, content_type="application/json")
    else:
        reply = wechat.post(text_xml(f"{openid}/../x y", "你好"), openid=openid)
    assert 400 <= reply.status < 500, (kind, reply.status, reply.body[:200])
    assert user_texts(channel_stack, openid) == []


def _telegram(stack: Stack, body: bytes, content_type: str = "application/json", secret: str = TELEGRAM_SECRET) -> int:
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/telegram/webhook", body,
                                     {"Content-Type": content_type, "X-Telegram-Bot-Api-Secret-Token": secret})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_hostile_telegram_updates_get_4xx_and_store_nothing(channel_stack: Stack, fake_apis: FakeApis) -> None:
    chat_id = int(time.time() * 1000) % 10**9 + 7
    update = {"update_id": chat_id, "message": {"message_id": 1, "date": int(time.time()), "text": "你好",
                                                "chat": {"id": chat_id, "type": "private"}}}
    cases = [
        (json.dumps(update).encode(), "text/plain"),
        (b"{not json", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (json.dumps({**update, "update_id": "1; DROP TABLE"}).encode(), "application/json"),
        (json.dumps({"update_id": chat_id, "message": {"text": "no chat"}}).encode(), "application/json"),
        (b'{"update_id": 1, "message": "' + b"x" * (2 * 1024 * 1024) + b'"}', "application/json"),
    ]
    for body, content_type in cases:
        status = _telegram(channel_stack, body, content_type)
        assert 400 <= status < 500, (body[:60], status)
    assert _telegram(channel_stack, json.dumps(update).encode(), secret="wrong") == 403
    events = channel_stack.tracker(str(chat_id), channel="telegram")["events"]
    assert [e for e in events if e["event"] == "user"] == []
    assert fake_apis.find("telegram", "sendMessage", chat_id=chat_id) == []


def test_the_app_secret_is_never_stored_or_shown(channel_stack: Stack, fake_apis: FakeApis, openid: str) -> None:
    engine = create_engine(channel_stack.database_url, future=True)
    with engine.begin() as conn:  # no cached access token: the next send fetches one, and fails
        conn.execute(delete(kv_table).where(kv_table.c.key.like("wechat:%access_token%")))
    fake_apis.fail_wechat_token = True
    try:
        store = TicketStore(engine)
        ticket = store.create(ticket_type="repair", channel="wechat", sender_id=openid, description="漏水")
        event_id = store.change_status(ticket.number, "in_progress", actor="staff:test").events[-1].id

        def failed_attempt() -> str:
            # The notification is queued in the outbox (notification_log says "queued:<id>");
            # the failed attempt's reason is what staff see on the desk's dead-letter list.
            with engine.connect() as conn:
                queued = conn.scalar(select(notification_log.c.outcome).where(notification_log.c.event_id == event_id))
                if not queued or not queued.startswith("queued:"):
                    return ""
                return conn.scalar(select(outbox_table.c.last_error).where(
                    outbox_table.c.id == int(queued.partition(":")[2]))) or ""

        stored = fake_apis.wait_for(failed_attempt, timeout=60)
        assert WECHAT_APP_SECRET not in stored, stored
        assert fake_apis.find("wechat", "token")  # it really did try (with the secret in the URL)
    finally:
        fake_apis.fail_wechat_token = False
    log = (channel_stack.tracker_db.parent / "rasa.log").read_text(errors="replace")
    assert WECHAT_APP_SECRET not in log
