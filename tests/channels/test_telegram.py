"""Telegram channel, against the running service over HTTP: updates are posted
to the webhook as Telegram does, replies are captured by a local Bot API double."""

from __future__ import annotations

import itertools
import json
import random
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

import pytest
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.channels.fakes import Call, FakeApis
from tests.channels.flows import fill_repair_form
from tests.servers import Stack

_UPDATE_IDS = itertools.count(random.randint(10_000, 10_000_000))


class TelegramServer:
    """Posts updates to ``/webhooks/telegram/webhook`` like Telegram's servers."""

    def __init__(self, stack: Stack, fakes: FakeApis) -> None:
        self.url = f"{stack.rasa_url}/webhooks/telegram/webhook"
        self.fakes = fakes

    def post(self, update: Dict[str, Any], secret: Optional[str] = TELEGRAM_SECRET) -> int:
        """Post one update; returns the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(self.url, json.dumps(update).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def sent_to(self, chat_id: int, method: str = "sendMessage") -> List[Call]:
        """What the bot sent to ``chat_id``."""
        return self.fakes.find("telegram", method, chat_id=chat_id)

    def say(self, chat_id: int, text: str, language_code: str = "zh-hans") -> List[Call]:
        """Send a text message; return the bot's new messages to this chat."""
        before = len(self.sent_to(chat_id))
        assert self.post(message_update(chat_id, text=text, language_code=language_code)) == 200
        return self.sent_to(chat_id)[before:]


def user(chat_id: int, language_code: str) -> Dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": language_code}


def message_update(chat_id: int, text: Optional[str] = None, photo: Optional[List[Dict[str, Any]]] = None,
                   language_code: str = "zh-hans", update_id: Optional[int] = None) -> Dict[str, Any]:
    """An Update carrying a message, as Telegram posts it."""
    message: Dict[str, Any] = {
        "message_id": random.randint(1, 10**6),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
        "from": user(chat_id, language_code),
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if photo is not None:
        message["photo"] = photo
    return {"update_id": update_id or next(_UPDATE_IDS), "message": message}


def callback_update(chat_id: int, data: str, language_code: str = "zh-hans") -> Dict[str, Any]:
    """An Update for a click on an inline keyboard button."""
    return {
        "update_id": next(_UPDATE_IDS),
        "callback_query": {
            "id": str(random.randint(1, 10**9)),
            "from": user(chat_id, language_code),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "…",
            },
        },
    }


@pytest.fixture(scope="module")
def telegram(channel_stack: Stack, fake_apis: FakeApis) -> TelegramServer:
    return TelegramServer(channel_stack, fake_apis)


@pytest.fixture
def chat_id() -> int:
    return random.randint(10**8, 10**9)


def texts(calls: List[Call]) -> str:
    return "\n".join(str(c.params.get("text", "")) for c in calls)


def test_updates_without_the_right_secret_get_403(
    telegram: TelegramServer, channel_stack: Stack, chat_id: int
) -> None:
    update = message_update(chat_id, text="你好")
    assert telegram.post(update, secret=None) == 403
    assert telegram.post(update, secret="wrong-secret") == 403
    assert telegram.sent_to(chat_id) == []
    assert [e for e in channel_stack.tracker(str(chat_id), channel="telegram")["events"] if e.get("event") == "user"] == []
    # The same update with the secret is then processed normally.
    assert telegram.post(update) == 200
    assert "邻里小助手" in texts(telegram.sent_to(chat_id))


def test_start_and_help_commands(telegram: TelegramServer, chat_id: int) -> None:
    started = telegram.say(chat_id, "/start")
    assert started and "欢迎" in texts(started)
    assert all(c.params["_token"] == TELEGRAM_TOKEN for c in started)
    english = telegram.say(chat_id, "/help", language_code="en")
    assert "I can help you" in texts(english)


def test_text_is_answered_in_the_residents_language(telegram: TelegramServer, chat_id: int) -> None:
    assert "邻里小助手" in texts(telegram.say(chat_id, "你好"))
    assert "describe the problem" in texts(telegram.say(chat_id + 1, "I want to report a repair", "en"))


def test_retried_update_is_processed_once(telegram: TelegramServer, chat_id: int) -> None:
    update = message_update(chat_id, text="你好")
    assert [telegram.post(update) for _ in range(3)] == [200, 200, 200]
    assert len(telegram.sent_to(chat_id)) == 1


def test_buttons_are_inline_keyboards_and_callbacks_continue_the_conversation(
    telegram: TelegramServer, channel_stack: Stack, fake_apis: FakeApis, chat_id: int
) -> None:
    def say(text: str) -> str:
        return texts(telegram.say(chat_id, text))

    confirm = fill_repair_form(say, say("我家厨房水管漏水了"))
    question = telegram.sent_to(chat_id)[-1]
    assert question.params["text"] == confirm
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    buttons = [button for row in keyboard for button in row]
    titles = [b["text"] for b in buttons]
    assert titles[0] == "确认提交" and "取消" in titles  # the form may offer more (e.g. 修改)
    submit = buttons[0]["callback_data"]
    assert submit == "/affirm"

    before = len(telegram.sent_to(chat_id))
    assert telegram.post(callback_update(chat_id, submit)) == 200
    answer = texts(telegram.sent_to(chat_id)[before:])
    assert "工单号" in answer
    assert fake_apis.find("telegram", "answerCallbackQuery")
    tickets = TicketStore(create_engine(channel_stack.database_url, future=True)).list_for_sender("telegram", str(chat_id))
    assert len(tickets) == 1 and tickets[0].number in answer

    # A photo now goes onto that open ticket, by its Telegram file_id.
    photo = [{"file_id": "small-id", "file_unique_id": "u1", "width": 90, "height": 90},
             {"file_id": "large-id", "file_unique_id": "u2", "width": 1280, "height": 960}]
    before = len(telegram.sent_to(chat_id))
    assert telegram.post(message_update(chat_id, photo=photo)) == 200
    assert tickets[0].number in texts(telegram.sent_to(chat_id)[before:])
    ticket = TicketStore(create_engine(channel_stack.database_url, future=True)).get(tickets[0].number)
    assert [a.ref for a in ticket.attachments] == ["large-id"]


def test_photo_without_a_ticket_is_kept_and_starts_a_repair(telegram: TelegramServer, chat_id: int) -> None:
    photo = [{"file_id": "only-id", "file_unique_id": "u3", "width": 640, "height": 480}]
    assert telegram.post(message_update(chat_id, photo=photo)) == 200
    sent = texts(telegram.sent_to(chat_id))
    assert "照片已收到并为您保存" in sent
    assert "描述" in sent or "地址" in sent  # the repair form asks its first question


async def test_polling_mode_fetches_updates_and_answers(
    fake_apis: FakeApis, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Development mode, in-process: no webhook URL, TELEGRAM_POLLING=true."""
    import asyncio

    from rasa.core.channels.channel import UserMessage

    from bot.channels import state
    from bot.channels.telegram import TelegramInput

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'poll.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    state.kv_store.cache_clear()
    received: List[str] = []

    async def on_new_message(message: UserMessage) -> None:  # stands in for Rasa
        received.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")

    chat = random.randint(10**8, 10**9)
    fake_apis.telegram_updates.append(message_update(chat, text="你好"))
    channel = TelegramInput.from_credentials(
        {"token": "999:POLL", "api_base_url": f"{fake_apis.url}/telegram", "webhook_url": "", "polling": "true"}
    )
    await channel._start(on_new_message)
    try:
        for _ in range(100):
            if fake_apis.find("telegram", "sendMessage", chat_id=chat):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # a few more polls: the update must not come back
    finally:
        channel._poller.cancel()
        state.kv_store.cache_clear()
    assert received == ["你好"]  # once, although getUpdates is called again and again
    assert [c.params["text"] for c in fake_apis.find("telegram", "sendMessage", chat_id=chat)] == ["echo: 你好"]
    assert fake_apis.find("telegram", "deleteWebhook", _token="999:POLL")
    assert len(fake_apis.find("telegram", "getUpdates", _token="999:POLL")) >= 1
