"""Telegram channel (python-telegram-bot v22): ``/webhooks/telegram/webhook``.

- Webhook mode (production): Telegram posts updates with the
  ``X-Telegram-Bot-Api-Secret-Token`` header set to ``TELEGRAM_WEBHOOK_SECRET``;
  any other request gets 403 before the body is parsed. When
  ``TELEGRAM_WEBHOOK_URL`` is set, the webhook is registered at start-up.
- Polling mode (development without a public URL): with
  ``TELEGRAM_WEBHOOK_URL`` empty and ``TELEGRAM_POLLING=true`` a background
  task of the server fetches updates with ``getUpdates``.
- Text, photos (downloaded into the media store, :mod:`bot.media`, then attached to the
  open repair ticket or starting one), ``/start``
  and ``/help``; Rasa buttons become inline keyboards whose callback data is
  the button payload. Updates are processed once (by ``update_id``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.channels import common
from bot.channels.common import OnNewMessage
from bot.channels.state import kv_store
from bot.media import fetch as media_fetch
from bot.outbound import DeliveryError, register_sender
from bot.settings import Telegram
from bot.web.http import secret_matches

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE_URL: str = Telegram.api_base_url  # declared in bot.settings.Telegram
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_TTL = 24 * 3600.0
ALLOWED_UPDATES = ["message", "callback_query"]
#: Telegram refuses callback data over 64 bytes.
MAX_CALLBACK_BYTES = 64


def keyboard(buttons: List[Dict[str, Any]]) -> Optional[InlineKeyboardMarkup]:
    """Rasa buttons as an inline keyboard, one button a row; ``None`` if none fit."""
    rows = [
        [InlineKeyboardButton(str(b.get("title") or b["payload"]), callback_data=str(b["payload"]))]
        for b in buttons
        if b.get("payload") and len(str(b["payload"]).encode()) <= MAX_CALLBACK_BYTES
    ]
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramSender:
    """Sends texts (and keyboards) with the Bot API."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, recipient_id: str, text: str) -> None:
        """Send ``text`` to the chat ``recipient_id``."""
        await self.send(recipient_id, {"text": text})

    async def send_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]]) -> None:
        """Send ``text`` with ``buttons`` as an inline keyboard."""
        await self.send(recipient_id, {"text": text, "buttons": buttons})

    async def send(self, chat_id: str, message: Dict[str, Any]) -> None:
        """Send one Rasa bot message: text with buttons as an inline keyboard, or an image."""
        try:
            if message.get("image"):
                await self.bot.send_photo(chat_id=chat_id, photo=message["image"], caption=message.get("text"))
                return
            if not message.get("text"):
                return
            await self.bot.send_message(
                chat_id=chat_id, text=message["text"], reply_markup=keyboard(message.get("buttons") or [])
            )
        except Exception as exc:  # network errors and Bot API errors alike
            raise DeliveryError(f"Telegram could not deliver to {chat_id}: {exc}") from exc


class TelegramInput(InputChannel):
    """Rasa input channel for a Telegram bot."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Settings from ``credentials.yml``, falling back to the ``TELEGRAM_*`` environment."""
        c = Telegram.from_env(credentials)  # a key of the same name in credentials.yml wins
        return cls(token=c.token, webhook_secret=c.webhook_secret, webhook_url=c.webhook_url,
                   api_base_url=c.api_base_url, polling=c.polling)

    def __init__(
        self,
        token: str,
        webhook_secret: str = "",
        webhook_url: str = "",
        api_base_url: str = DEFAULT_API_BASE_URL,
        polling: bool = False,
    ) -> None:
        self.token = token
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.polling = polling
        base = (api_base_url or DEFAULT_API_BASE_URL).rstrip("/")
        # An unconfigured bot still gets a syntactically valid token so the server starts.
        self.bot = Bot(token or "0:unconfigured", base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
        self.sender = TelegramSender(self.bot)
        self._poller: Optional[asyncio.Task] = None
        register_sender(CHANNEL, self.sender)

    # ------------------------------------------------------------ HTTP
    def blueprint(self, on_new_message: Callable[[Any], Awaitable[Any]]) -> Blueprint:
        """``/webhooks/telegram/`` (health) and ``/webhooks/telegram/webhook`` (updates)."""
        hook = Blueprint(f"{CHANNEL}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.token), "polling": self._poller is not None})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                logger.warning("Telegram webhook call without the right secret from %s", request.ip)
                return response.text("forbidden", status=403)
            if not (request.content_type or "").startswith("application/json"):
                return response.text("unsupported media type", status=415)
            try:
                data = json.loads(request.body.decode("utf-8"))
                if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                    raise ValueError("not an update")
                update = Update.de_json(data, self.bot)
            except Exception:
                return response.text("bad request", status=400)
            if update is None:
                return response.text("bad request", status=400)
            await self.process_update(update, on_new_message)
            return response.json({"ok": True})

        @hook.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            await self._start(on_new_message)

        @hook.listener("before_server_stop")
        async def stop(app: Any, _loop: Any) -> None:
            if self._poller is not None:
                self._poller.cancel()

        return hook

    def _authorised(self, request: Request) -> bool:
        # Without a configured secret the webhook is closed: anyone could post updates.
        return secret_matches(request.headers.get(SECRET_HEADER, ""), self.webhook_secret)

    async def _start(self, on_new_message: OnNewMessage) -> None:
        if not self.token:
            return
        if self.webhook_url:
            try:
                await self.bot.set_webhook(
                    url=self.webhook_url, secret_token=self.webhook_secret or None, allowed_updates=ALLOWED_UPDATES
                )
                logger.info("Telegram webhook registered at %s", self.webhook_url)
            except Exception:
                logger.exception("Could not register the Telegram webhook %s", self.webhook_url)
        elif self.polling:
            self._poller = asyncio.ensure_future(self._poll(on_new_message))
            logger.info("Telegram polling started (no TELEGRAM_WEBHOOK_URL)")

    async def _poll(self, on_new_message: OnNewMessage) -> None:
        """Development mode: long-poll ``getUpdates`` and process each update."""
        offset: Optional[int] = None
        try:
            await self.bot.delete_webhook()
        except Exception:
            logger.exception("Could not delete the Telegram webhook before polling")
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, read_timeout=35, allowed_updates=ALLOWED_UPDATES
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Telegram getUpdates failed; retrying")
                await asyncio.sleep(5)
                continue
            for update in updates:
                offset = update.update_id + 1
                try:
                    await self.process_update(update, on_new_message)
                except Exception:
                    logger.exception("Telegram update %s failed", update.update_id)

    # ------------------------------------------------------------ updates
    async def process_update(self, update: Update, on_new_message: OnNewMessage) -> None:
        """Handle one update (from the webhook or from polling) exactly once."""
        key = f"telegram:update:{self.token.split(':')[0]}:{update.update_id}"
        if not await asyncio.to_thread(kv_store().claim, key, UPDATE_TTL):
            logger.info("Telegram update %s already processed", update.update_id)
            return
        chat = update.effective_chat
        if chat is None:
            return
        chat_id = str(chat.id)
        user = update.effective_user
        user_language = "zh" if user and (user.language_code or "").lower().startswith("zh") else (
            "en" if user and user.language_code else None
        )

        if update.callback_query is not None:
            query = update.callback_query
            try:
                await self.bot.answer_callback_query(query.id)  # stops the button's spinner
            except Exception:
                logger.warning("answerCallbackQuery failed for %s", query.id)
            if query.data:
                await self._converse(on_new_message, chat_id, query.data, f"telegram-{update.update_id}")
            return

        message = update.message
        if message is None:
            return
        if message.photo:
            await self._photo(on_new_message, chat_id, message.photo[-1].file_id, f"telegram-{update.update_id}")
            return
        voice = message.voice or message.audio
        if voice is not None:
            await self._voice(chat_id, voice.file_id, user_language)
            return
        text = (message.text or "").strip()
        if not text:
            language = await asyncio.to_thread(common.known_language, CHANNEL, chat_id, user_language)
            await self._send_texts(chat_id, [common.text("text_only", language) if language else common.bilingual("text_only")])
            return
        command = text.split()[0].split("@")[0].lower()
        if command in ("/start", "/help"):
            language = user_language or await asyncio.to_thread(common.known_language, CHANNEL, chat_id, None)
            key_name = "welcome" if command == "/start" else "help"
            parts = [common.text(key_name, language)] if language else [common.bilingual(key_name)]
            if command == "/start" and language:
                parts.append(common.text("help", language))
            await self._send_texts(chat_id, parts)
            return
        await self._converse(on_new_message, chat_id, text, f"telegram-{update.update_id}")

    async def _send_texts(self, chat_id: str, texts: List[str]) -> None:
        for text in texts:
            await self._deliver(chat_id, {"text": text})

    async def _deliver(self, chat_id: str, message: Dict[str, Any]) -> None:
        try:
            await self.sender.send(chat_id, message)
        except DeliveryError:
            logger.exception("Telegram reply to %s failed", chat_id)

    async def _converse(self, on_new_message: OnNewMessage, chat_id: str, text: str, message_id: str) -> None:
        language = await asyncio.to_thread(common.remember_language, CHANNEL, chat_id, text)
        language = language or await asyncio.to_thread(common.known_language, CHANNEL, chat_id, "zh")
        messages = await common.run_turn(
            on_new_message, channel=CHANNEL, sender_id=chat_id, message=text, message_id=message_id
        )
        for message in messages:
            await self._deliver(chat_id, message)
        note = await common.attach_pending_photos(CHANNEL, chat_id, language)
        if note:
            await self._deliver(chat_id, {"text": note})

    async def _voice(self, chat_id: str, file_id: str, user_language: Optional[str]) -> None:
        """A voice message (Telegram recognises no speech for bots): kept for staff (the media store,
        on the open ticket if any), and the resident is asked to type, as on WeChat without Recognition."""
        language = await asyncio.to_thread(common.known_language, CHANNEL, chat_id, user_language)
        kept = await common.keep_media(
            CHANNEL, chat_id, "voice", file_id,
            lambda limit, timeout: media_fetch.telegram_file(self.bot, file_id, limit, timeout))
        key = "voice_kept" if kept.stored else "voice_unclear"
        if kept.stored:
            try:
                await common.handle_photo(CHANNEL, chat_id, kept.ref or "", keep_pending=False)
            except Exception:  # the voice is kept in the media store either way
                logger.exception("Could not attach a voice message of %s", chat_id)
        await self._send_texts(chat_id, [common.text(key, language) if language else common.bilingual(key)])

    async def _photo(self, on_new_message: OnNewMessage, chat_id: str, file_id: str, message_id: str) -> None:
        language = await asyncio.to_thread(common.known_language, CHANNEL, chat_id, "zh")
        # Downloaded now (getFile + the file URL): a file id cannot be shown on the desk.
        kept = await common.keep_media(
            CHANNEL, chat_id, "image", file_id,
            lambda limit, timeout: media_fetch.telegram_file(self.bot, file_id, limit, timeout))
        if kept.ref is None:
            await self._deliver(chat_id, {"text": common.refused_text(kept, language)})
            return
        number = await common.handle_photo(CHANNEL, chat_id, kept.ref)
        if number:
            await self._deliver(chat_id, {"text": common.text("photo_attached", language, number=number)})
            return
        await self._deliver(chat_id, {"text": common.text("photo_kept", language)})
        await self._converse(on_new_message, chat_id, common.text("start_repair", language), message_id)
