"""Helpers shared by the WeChat and Telegram channels: bilingual texts, the
resident's language, running one Rasa turn, buttons as text, photos.

Photos: a photo is attached to the resident's open repair ticket. Without one,
its reference is stored in ``channel_pending_photos``, the channel starts a
repair report for the resident ("我要报修" / "I want to report a repair"), and
after every later turn it attaches the waiting photos to the resident's open
ticket as soon as one exists (i.e. right after the report is confirmed).

Media: the channel downloads a photo (or voice message) when it arrives and keeps it in
the media store (:func:`keep_media`, :mod:`bot.media`); the reference attached is then
``media:<id>``. A failed download keeps the platform's reference, as before, so nothing
is lost; a file the store refuses (too large, not a photo) is not attached and the
resident is told (``media_refused``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot import responses
from bot.channels.identity import conversation_id
from bot.channels.state import kv_store, pending_photos
from bot.nlu.language import detect_language, normalise_language

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: How long we remember a resident's language and their last buttons.
MEMORY_TTL = 30 * 24 * 3600

#: Channel texts: short keys used in code → the domain.yml response (bot/responses.py).
RESPONSES: Dict[str, str] = {
    "welcome": "utter_channel_welcome",
    "text_only": "utter_channel_text_only",
    "voice_unclear": "utter_channel_voice_unclear",
    "photo_attached": "utter_channel_photo_attached",
    "photo_kept": "utter_channel_photo_kept",
    "photos_attached_later": "utter_channel_photos_attached_later",
    "media_refused": "utter_channel_media_refused",
    "voice_kept": "utter_channel_voice_kept",
    "help": "utter_channel_help",
    "choose_hint": "utter_channel_choose_hint",
}
#: What a channel says to Rasa on the resident's behalf (e.g. a photo starts a repair report).
INJECTED: Dict[str, Dict[str, str]] = {"start_repair": {"zh": "我要报修", "en": "I want to report a repair"}}


def text(key: str, language: str, **values: Any) -> str:
    """The ``key`` text in ``language`` (zh default), formatted with ``values``."""
    if key in INJECTED:
        return INJECTED[key].get(language) or INJECTED[key]["zh"]
    return responses.render(RESPONSES[key], language, **values)


def bilingual(key: str, **values: Any) -> str:
    """Chinese first, then English: for messages sent before we know the language."""
    return responses.bilingual(RESPONSES[key], **values)


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


@dataclass(frozen=True)
class Kept:
    """What became of a downloaded file: the reference to attach (``media:<id>``, or the
    platform's own when the download failed), or ``None`` and why the store refused it."""

    ref: Optional[str]
    refused: Optional[Any] = None  # bot.media.MediaRefused

    @property
    def stored(self) -> bool:
        """Whether the file is in the media store."""
        from bot.media import media_id_of

        return media_id_of(self.ref) is not None


async def keep_media(channel: str, sender_id: str, kind: str, source_ref: Optional[str],
                     download: Callable[[int, float], Awaitable[bytes]]) -> Kept:
    """Download a resident's file with ``download(limit_bytes, timeout)`` and keep it in the media store.

    Never raises: a failed download (or store) logs and keeps ``source_ref``; a refused file
    (too large, wrong type) gives ``Kept(None, refusal)``.
    """
    from bot.media import MediaRefused, Origin, media_store
    from bot.settings import Media

    try:
        store = await asyncio.to_thread(media_store)
        timeout = Media.read("download_timeout")
        data = await download(store.limits.for_kind(kind), timeout)
        record = await asyncio.to_thread(store.put, data, None,
                                         Origin(channel, conversation_id(channel, sender_id), source_ref), kind)
    except MediaRefused as refusal:
        logger.info("%s %s from %s:%s refused: %s", kind, str(source_ref)[:80], channel, sender_id, refusal)
        return Kept(None, refusal)
    except Exception as exc:  # the platform is unreachable, the id expired...: keep its reference
        logger.warning("Could not keep the %s %s from %s:%s (its reference is kept instead): %s",
                       kind, str(source_ref)[:80], channel, sender_id, exc)
        return Kept(source_ref)
    return Kept(record.ref)


def refused_text(kept: Kept, language: Optional[str]) -> str:
    """What to tell a resident whose photo the store refused (in both languages when unknown)."""
    limit = getattr(kept.refused, "limit_mb", 0) or 10
    values = {"max_mb": f"{limit:g}"}
    return text("media_refused", language, **values) if language else bilingual("media_refused", **values)


def _kind_of_ref(ref: str) -> str:
    """``voice`` for a kept voice message, else ``image`` (platform references are photos)."""
    from bot.media import media_id_of, media_store

    media_id = media_id_of(ref)
    if media_id is None:
        return "image"
    record = media_store().get(media_id)
    return record.kind if record is not None else "image"


def _attach_photo_sync(channel: str, sender_id: str, ref: str, keep_pending: bool = True) -> Optional[str]:
    store = ticket_store()
    ticket = store.latest_open_for_sender(channel, sender_id)
    if ticket is None:
        if keep_pending:
            pending_photos().add(channel, sender_id, ref)
        return None
    store.add_attachment(ticket.number, ref, actor=f"{channel}:{sender_id}", kind=_kind_of_ref(ref))
    return ticket.number


async def handle_photo(channel: str, sender_id: str, ref: str, keep_pending: bool = True) -> Optional[str]:
    """Attach a photo (or a kept voice message) to the resident's open repair ticket.

    Returns the ticket number, or ``None`` when no ticket is open: the photo is then
    kept as pending (unless ``keep_pending`` is false) and the caller should start a
    repair report.
    """
    return await asyncio.to_thread(_attach_photo_sync, channel, sender_id, ref, keep_pending)


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
        store.add_attachment(ticket.number, ref, actor=f"{channel}:{sender_id}", kind=_kind_of_ref(ref))
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
