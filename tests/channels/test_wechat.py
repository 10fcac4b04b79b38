"""WeChat Official Account channel, against the running service over HTTP.

Messages are built, signed and (safe mode) encrypted with wechatpy's crypto as
WeChat's servers do; late answers are captured by a local double of WeChat's
customer-service message API (tests/channels/fakes.py).
"""

from __future__ import annotations

from typing import List

import pytest
from sqlalchemy import create_engine, select

from bot.channels.state import kv_table
from bot.tickets import TicketStore
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.flows import fill_repair_form
from tests.channels.wechat_client import WeChatServer, message_xml, next_msg_id, text_xml
from tests.servers import Stack

FORGED = "0" * 40


@pytest.fixture(scope="module")
def wechat(channel_stack: Stack) -> WeChatServer:
    """WeChat's side of the webhook."""
    return WeChatServer(channel_stack.rasa_url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)


def user_texts(stack: Stack, sender: str) -> List[str]:
    """What Rasa received from ``sender``."""
    return [e.get("text") for e in stack.tracker(sender, channel="wechat")["events"] if e.get("event") == "user"]


def tickets_of(stack: Stack, openid: str) -> list:
    """The follower's tickets, read from the service's database."""
    return TicketStore(create_engine(stack.database_url, future=True)).list_for_sender("wechat", openid, limit=10)


def test_server_verification_echoes_echostr_only_when_signed(wechat: WeChatServer) -> None:
    assert wechat.verify("echo-1790") == (200, "echo-1790")
    status, body = wechat.verify("echo-1790", signature=FORGED)
    assert status == 403 and "echo-1790" not in body


def test_plain_text_gets_a_passive_answer_in_chinese(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    reply = wechat.post(text_xml(openid, "你好"), openid=openid)
    assert reply.status == 200, reply.body
    assert reply.to_user == openid
    assert "邻里小助手" in (reply.content or "")
    assert user_texts(channel_stack, openid) == ["你好"]


def test_safe_mode_is_decrypted_and_the_reply_encrypted(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    reply = wechat.post(text_xml(openid, "你好"), safe=True, openid=openid)
    assert reply.status == 200, reply.body
    assert "<Encrypt>" in reply.body and "邻里" not in reply.body  # nothing readable on the wire
    assert "邻里小助手" in (reply.content or "")  # decrypted (and signature-checked) by wechatpy
    assert user_texts(channel_stack, openid) == ["你好"]


def test_english_message_gets_an_english_answer(wechat: WeChatServer, openid: str) -> None:
    reply = wechat.post(text_xml(openid, "I want to report a repair"), openid=openid)
    assert reply.status == 200
    assert "describe the problem" in (reply.content or ""), reply.content


def test_forged_signatures_get_403_and_nothing_is_processed(
    wechat: WeChatServer, channel_stack: Stack, fake_apis: FakeApis, openid: str
) -> None:
    assert wechat.post(text_xml(openid, "你好"), signature=FORGED, openid=openid).status == 403
    assert wechat.post(text_xml(openid, "你好"), safe=True, signature=FORGED, openid=openid).status == 403
    assert wechat.post(text_xml(openid, "你好"), safe=True, msg_signature=FORGED, openid=openid).status == 403
    assert user_texts(channel_stack, openid) == []
    assert fake_apis.find("wechat", "message/custom/send", touser=openid) == []


def test_malformed_xml_gets_400(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    assert wechat.post(f"<xml><FromUserName>{openid}</FromUserName><Content>你好", openid=openid).status == 400
    assert wechat.post("not xml at all", openid=openid).status == 400
    assert wechat.post(f"<xml><FromUserName>{openid}</FromUserName></xml>", openid=openid).status == 400
    assert user_texts(channel_stack, openid) == []


def test_subscribe_event_gets_a_bilingual_welcome(wechat: WeChatServer, openid: str) -> None:
    reply = wechat.post(message_xml(openid, "event", {"Event": "subscribe", "EventKey": ""}), openid=openid)
    assert reply.status == 200
    assert "欢迎" in (reply.content or "") and "Welcome" in (reply.content or "")


def test_other_message_types_get_a_polite_text_only_reply(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    location = message_xml(
        openid, "location", {"Location_X": "31.2", "Location_Y": "121.4", "Scale": "15", "Label": "上海"}, next_msg_id()
    )
    reply = wechat.post(location, openid=openid)
    assert reply.status == 200
    assert "文字" in (reply.content or "") and "text" in (reply.content or "")
    assert user_texts(channel_stack, openid) == []


def test_voice_is_handled_as_its_recognition_text(wechat: WeChatServer, channel_stack: Stack, openid: str) -> None:
    voice = message_xml(openid, "voice", {"MediaId": "media-voice-1", "Format": "amr", "Recognition": "你好"}, next_msg_id())
    reply = wechat.post(voice, openid=openid)
    assert reply.status == 200
    assert "邻里小助手" in (reply.content or "")
    assert user_texts(channel_stack, openid) == ["你好"]


def test_photo_starts_a_repair_and_a_retried_confirmation_files_one_ticket(
    wechat: WeChatServer, channel_stack: Stack, fake_apis: FakeApis, openid: str
) -> None:
    def say(text: str) -> str:
        reply = wechat.post(text_xml(openid, text), openid=openid)
        assert reply.status == 200 and reply.content, reply.body
        return reply.content

    say("你好")  # the resident's language is known before the photo
    photo = message_xml(
        openid, "image", {"PicUrl": "http://mmbiz.example/leak.jpg", "MediaId": "media-photo-1"}, next_msg_id()
    )
    first = wechat.post(photo, openid=openid)
    assert first.status == 200 and "照片已收到并为您保存" in (first.content or "")
    question = first.content.split("\n\n", 1)[1]  # the repair form's first question follows
    fill_repair_form(say, question)

    confirmation = text_xml(openid, "确认", next_msg_id())
    replies = [wechat.post(confirmation, openid=openid) for _ in range(3)]  # WeChat's retries

    assert [r.status for r in replies] == [200, 200, 200]
    answered = [r for r in replies if r.content]
    assert len(answered) == 1, [r.body for r in replies]
    assert "工单号" in answered[0].content
    assert [r.body for r in replies[1:]] == ["success", "success"]
    tickets = tickets_of(channel_stack, openid)
    assert len(tickets) == 1
    number = tickets[0].number
    assert number in answered[0].content
    # The photo sent before the ticket existed is now attached, and the resident is told.
    assert [a.ref for a in tickets[0].attachments] == ["http://mmbiz.example/leak.jpg"]
    assert "照片已附在工单" in answered[0].content
    assert user_texts(channel_stack, openid).count("确认") == 1
    assert fake_apis.find("wechat", "message/custom/send", touser=openid) == []  # answered passively

    # A later photo goes straight onto the open ticket.
    second = wechat.post(
        message_xml(openid, "image", {"PicUrl": "http://mmbiz.example/leak2.jpg", "MediaId": "m2"}, next_msg_id()),
        openid=openid,
    )
    assert number in (second.content or "") and "已添加" in (second.content or "")
    refs = [a.ref for a in tickets_of(channel_stack, openid)[0].attachments]
    assert refs == ["http://mmbiz.example/leak.jpg", "http://mmbiz.example/leak2.jpg"]


def test_retried_event_is_answered_once(wechat: WeChatServer, openid: str) -> None:
    event = message_xml(openid, "event", {"Event": "subscribe", "EventKey": ""}, create_time=1790000000)
    replies = [wechat.post(event, openid=openid) for _ in range(3)]
    assert [bool(r.content) for r in replies] == [True, False, False]
    assert [r.body for r in replies[1:]] == ["success", "success"]


def test_slow_answer_goes_through_the_customer_service_api(
    wechat: WeChatServer, channel_stack: Stack, fake_apis: FakeApis, openid: str
) -> None:
    fake_apis.slow_senders.add(openid)  # every action call of this conversation takes 6 s
    try:
        reply = wechat.post(text_xml(openid, "你好"), safe=True, openid=openid)
        assert reply.status == 200 and reply.body == "success"
        assert reply.seconds < 5.0, f"WeChat would have given up after 5 s (took {reply.seconds:.1f} s)"
        sent = fake_apis.wait_for(lambda: fake_apis.find("wechat", "message/custom/send", touser=openid), timeout=60)
        assert len(sent) == 1
        assert sent[0].params["msgtype"] == "text"
        assert "邻里小助手" in sent[0].params["text"]["content"]

        second = wechat.post(text_xml(openid, "你好"), openid=openid)
        assert second.body == "success"
        fake_apis.wait_for(lambda: len(fake_apis.find("wechat", "message/custom/send", touser=openid)) == 2, timeout=60)
    finally:
        fake_apis.slow_senders.discard(openid)

    # One access token for every call, cached in the shared database (not process memory).
    assert len(fake_apis.find("wechat", "token")) == 1
    assert {c.query["appid"] for c in fake_apis.find("wechat", "token")} == {WECHAT_APP_ID}
    engine = create_engine(channel_stack.database_url, future=True)
    with engine.connect() as conn:
        cached = conn.scalar(select(kv_table.c.value).where(kv_table.c.key == f"wechat:{WECHAT_APP_ID}_access_token"))
    assert cached == "ACCESS-1"
