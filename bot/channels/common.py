"""Helpers shared by the WeChat and Telegram channels: bilingual texts, the
resident's language, running one Rasa turn, buttons as text, photos.

Photos: a photo is attached to the resident's open repair ticket. Without one,
its reference is stored in ``channel_pending_photos``, the channel starts a
repair report for the resident ("我要报修" / "I want to report a repair"), and
after every later turn it attaches the waiting photos to the resident's open
ticket as soon as one exists (i.e. right after the report is confirmed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.identity import conversation_id
from bot.channels.state import kv_store, pending_photos
from bot.nlu.language import detect_language, normalise_language

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: How long we remember a resident's language and their last buttons.
MEMORY_TTL = 30 * 24 * 3600

TEXTS: Dict[str, Dict[str, str]] = {
    "welcome": {
        "zh": "欢迎关注！我是邻里小助手 🏠 可以帮您报修、查询工单、投诉建议，或解答物业相关问题。直接发消息给我就可以。",
        "en": "Welcome! I'm Linli, your property assistant 🏠 I can file repair requests, check tickets, "
        "take complaints and answer questions. Just send me a message.",
    },
    "text_only": {
        "zh": "抱歉，我目前只能处理文字、语音和图片消息，请用文字描述您的问题 🙏",
        "en": "Sorry, I can only handle text, voice and photo messages for now. Please describe your request in text 🙏",
    },
    "voice_unclear": {
        "zh": "抱歉，没听清您的语音，请用文字再说一次 🙏",
        "en": "Sorry, I couldn't make out your voice message. Could you type it instead? 🙏",
    },
    "photo_attached": {
        "zh": "照片已收到，已添加到您的报修工单 {number}。",
        "en": "Got your photo; it's attached to your repair ticket {number}.",
    },
    "photo_kept": {
        "zh": "照片已收到并为您保存，提交报修后会自动附在工单上。",
        "en": "Got your photo and kept it; it will be attached to your repair ticket once it's filed.",
    },
    "photos_attached_later": {
        "zh": "您之前发送的 {count} 张照片已附在工单 {number} 上。",
        "en": "The {count} photo(s) you sent earlier are attached to ticket {number}.",
    },
    "start_repair": {"zh": "我要报修", "en": "I want to report a repair"},
    "help": {
        "zh": "我可以帮您：\n• 报修：直接描述问题，如“厨房水管漏水”，也可以发照片\n• 查询工单：发送“查询工单”\n"
        "• 投诉建议：说“我要投诉”\n• 物业问题：如“物业费怎么交”\n• 转人工：说“转人工”",
        "en": "I can help you:\n• Report a repair: describe the problem, e.g. \"the kitchen pipe is leaking\", "
        "or send a photo\n• Check tickets: send \"check my ticket\"\n• Complaints: say \"I want to complain\"\n"
        "• Questions about the property: e.g. \"how do I pay the property fee\"\n• Talk to staff: say \"talk to a human\"",
    },
    "choose_hint": {"zh": "（回复序号即可选择）", "en": "(reply with the number to choose)"},
}


def setting(credentials: Dict[str, Any], key: str, env: str, default: str = "") -> str:
    """A channel setting from ``credentials.yml``, else its environment variable, else ``default``."""
    value = credentials.get(key)
    if value in (None, ""):
        value = os.environ.get(env, default)
    return str(value or default)


def text(key: str, language: str, **values: Any) -> str:
    """The ``key`` text in ``language`` (zh default), formatted with ``values``."""
    entry = TEXTS[key]
    return (entry.get(language) or entry["zh"]).format(**values)


def bilingual(key: str, **values: Any) -> str:
    """Chinese first, then English: for messages sent before we know the language."""
    return f"{text(key, 'zh', **values)}\n\n{text(key, 'en', **values)}"


# ---------------------------------------------------------------- language
def _lang_key(channel: str, sender_id: str) -> str:
    return f"lang:{channel}:{sender_id}"


def remember_language(channel: str, sender_id: str, message: Optional[str]) -> Optional[str]:
    """Store the language of ``message`` (if it has one) for later non-text messages."""
    detected = detect_language(message)
    if detected:
        kv_store().set(_lang_key(channel, sender_id), detected, MEMORY_TTL)
    return detected


def known_language(channel: str, sender_id: str, default: Optional[str] = None) -> Optional[str]:
    """The language the resident last wrote in, else ``default``."""
    value = kv_store().get(_lang_key(channel, sender_id))
    return normalise_language(value) if value else default


# ---------------------------------------------------------------- buttons
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.。、]?\s*$")


def render_buttons(message: Dict[str, Any], language: str) -> str:
    """A bot message's text with its buttons as a numbered list (for channels without buttons)."""
    body = message.get("text") or ""
    buttons = message.get("buttons") or []
    if not buttons:
        return body
    lines = [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
    return "\n".join([body, *lines, text("choose_hint", language)]).strip()


def remember_buttons(channel: str, sender_id: str, messages: List[Dict[str, Any]]) -> None:
    """Keep the payloads of the last buttons shown, so that a reply "2" picks the second."""
    payloads = [b.get("payload") for m in messages for b in (m.get("buttons") or [])]
    key = f"buttons:{channel}:{sender_id}"
    if payloads:
        kv_store().set(key, json.dumps(payloads), MEMORY_TTL)
    elif messages:
        kv_store().delete(key)


def resolve_choice(channel: str, sender_id: str, message: str) -> str:
    """Map a numbered reply onto the payload of the button it names; other text unchanged."""
    match = _NUMBER.match(message or "")
    if not match:
        return message
    stored = kv_store().get(f"buttons:{channel}:{sender_id}")
    if not stored:
        return message
    payloads = json.loads(stored)
    index = int(match.group(1)) - 1
    if 0 <= index < len(payloads) and payloads[index]:
        return str(payloads[index])
    return message


def as_plain_text(messages: List[Dict[str, Any]], language: str) -> List[str]:
    """Bot messages rendered as plain texts (buttons numbered, images as links)."""
    texts: List[str] = []
    for message in messages:
        parts = [render_buttons(message, language)]
        if message.get("image"):
            parts.append(str(message["image"]))
        joined = "\n".join(p for p in parts if p)
        if joined:
            texts.append(joined)
    return texts


# ---------------------------------------------------------------- one turn
async def run_turn(
    on_new_message: OnNewMessage,
    *,
    channel: str,
    sender_id: str,
    message: str,
    metadata: Optional[Dict[str, Any]] = None,
    message_id: Optional[str] = None,
    output_channel: Optional[CollectingOutputChannel] = None,
) -> List[Dict[str, Any]]:
    """Hand ``message`` to Rasa and return what the bot answered (collected, not sent).

    ``sender_id`` is the platform id; the conversation is ``"<channel>:<sender_id>"``.
    """
    collector = output_channel or CollectingOutputChannel()
    await on_new_message(
        UserMessage(
            message,
            collector,
            conversation_id(channel, sender_id),
            input_channel=channel,
            metadata=metadata,
            message_id=message_id,
        )
    )
    return list(collector.messages)


# ---------------------------------------------------------------- photos
@lru_cache(maxsize=1)
def ticket_store():  # type: ignore[no-untyped-def]
    """The ticket store on ``DATABASE_URL`` (created on first use)."""
    from bot.tickets import TicketStore

    return TicketStore.from_env()


def _attach_photo_sync(channel: str, sender_id: str, ref: str) -> Optional[str]:
    store = ticket_store()
    ticket = store.latest_open_for_sender(channel, sender_id)
    if ticket is None:
        pending_photos().add(channel, sender_id, ref)
        return None
    store.add_attachment(ticket.number, ref, actor=f"{channel}:{sender_id}")
    return ticket.number


async def handle_photo(channel: str, sender_id: str, ref: str) -> Optional[str]:
    """Attach a photo to the resident's open repair ticket.

    Returns the ticket number, or ``None`` when no ticket is open: the photo is
    then kept as pending and the caller should start a repair report.
    """
    return await asyncio.to_thread(_attach_photo_sync, channel, sender_id, ref)


def _attach_pending_sync(channel: str, sender_id: str) -> Optional[Dict[str, Any]]:
    photos = pending_photos()
    if not photos.peek(channel, sender_id):
        return None
    store = ticket_store()
    ticket = store.latest_open_for_sender(channel, sender_id)
    if ticket is None:
        return None
    refs = photos.take(channel, sender_id)
    for ref in refs:
        store.add_attachment(ticket.number, ref, actor=f"{channel}:{sender_id}")
    return {"number": ticket.number, "count": len(refs)} if refs else None


async def attach_pending_photos(channel: str, sender_id: str, language: str) -> Optional[str]:
    """After a turn: attach waiting photos to a newly opened ticket; the text to tell the resident."""
    try:
        done = await asyncio.to_thread(_attach_pending_sync, channel, sender_id)
    except Exception:  # never lose the bot's answer because of an attachment problem
        logger.exception("Could not attach pending photos for %s:%s", channel, sender_id)
        return None
    if not done:
        return None
    logger.info("Attached %s pending photo(s) to %s", done["count"], done["number"])
    return text("photos_attached_later", language, **done)
