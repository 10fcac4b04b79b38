"""WeChat Official Account channel (微信公众号): ``/webhooks/wechat/webhook``.

- ``GET``: server verification (signature check, ``echostr`` echoed back).
- ``POST``: every message is signature-checked in constant time, its timestamp
  must be within ``WECHAT_TIMESTAMP_WINDOW`` (±300 s) and its nonce unused (nonces
  are remembered in the shared store): 403, nothing processed, otherwise. When
  ``WECHAT_ENCODING_AES_KEY`` is set, only safe mode (``encrypt_type=aes``) is
  accepted: the message signature is checked, the body decrypted and the reply
  encrypted. Without a key, plaintext messages are accepted. Bodies over 64 KB,
  DTDs/entities, non-UTF-8 and malformed XML get 4xx. Replies are built with every
  field in escaped CDATA (``]]>`` cannot end it).
- WeChat gives up after 5 s and retries up to three times. Every message is
  claimed once by MsgId (events: FromUserName + CreateTime) in a shared store
  with a TTL (:mod:`bot.channels.state`); retries get ``success`` and are not
  processed. If Rasa's answer is not ready within ``WECHAT_REPLY_TIMEOUT``
  (4 s), the request gets ``success`` and the answer follows through the
  customer-service message API (queued in :mod:`bot.outbox`, which retries),
  whose access token is cached in the shared store, so all processes use one token.
- Proactive messages follow WeChat's delivery rules (:mod:`bot.channels.wechat_delivery`):
  each resident's last message opens a 48-hour customer-service window (recorded in the
  shared store); outside it, or with its quota used up, a template message (模板消息) goes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text

import xmltodict
from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.session import SessionStorage

from bot.channels import common
from bot.channels.common import OnNewMessage
from bot.channels.state import KeyValueStore, kv_store
from bot.media import fetch as media_fetch
from bot.channels.wechat_delivery import ServiceWindow, WeChatDelivery, opens_window
from bot.outbound import DeliveryError, register_sender
from bot.settings import WeChat

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
DEFAULT_API_BASE_URL: str = WeChat.api_base_url  # the defaults are declared in bot.settings.WeChat
#: WeChat retries within ~15 s; an hour covers that with a wide margin.
DEFAULT_DEDUPE_TTL: float = WeChat.dedupe_ttl
#: Refresh the access token a few minutes before WeChat expires it.
TOKEN_MARGIN = 300


#: WeChat's messages are a few KB; anything much larger is not from WeChat.
MAX_BODY = 64 * 1024
#: How far a request's timestamp may be from our clock (seconds).
DEFAULT_TIMESTAMP_WINDOW: float = WeChat.timestamp_window
XML_TYPES = ("text/xml", "application/xml", "text/plain")
#: OpenIDs are 28 characters of base64url; allow some room, nothing else.
OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check(signature: str, *parts: str) -> bool:
    """WeChat's SHA-1 signature of the sorted ``parts``, compared in constant time."""
    expected = hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()
    return hmac.compare_digest(expected.encode(), (signature or "").strip().lower().encode("utf-8", "replace"))


def _plain_xml(body: str) -> bool:
    """No DTDs or entity declarations (no entity expansion), and it looks like WeChat's ``<xml>``."""
    stripped = body.lstrip()
    return stripped.startswith("<xml") and not _DOCTYPE.search(body)


def cdata(value: Any) -> str:
    """``value`` as CDATA; ``]]>`` inside it is split so it cannot end the section."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str, create_time: Optional[int] = None) -> str:
    """A passive text reply, every field escaped."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time or time.time())}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


class SharedTokenStorage(SessionStorage):
    """wechatpy session storage on the shared key/value store (database or Redis)."""

    def __init__(self, store: Optional[KeyValueStore] = None, prefix: str = "wechat:") -> None:
        self._store = store
        self.prefix = prefix

    @property
    def store(self) -> KeyValueStore:
        """The store, opened on first use (not at import time)."""
        if self._store is None:
            self._store = kv_store()
        return self._store

    def get(self, key: str, default: Any = None) -> Any:
        value = self.store.get(self.prefix + key)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: Optional[int] = None) -> None:
        ttl = max(60, (ttl or 7200) - TOKEN_MARGIN)
        self.store.set(self.prefix + key, str(value), ttl)

    def delete(self, key: str) -> None:
        self.store.delete(self.prefix + key)


class LinliWeChatClient(WeChatClient):
    """``WeChatClient`` whose API host is configurable (``WECHAT_API_BASE_URL``)."""

    def __init__(self, appid: str, secret: str, api_base_url: str, session: SessionStorage) -> None:
        super().__init__(appid, secret, session=session, timeout=10)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/cgi-bin/"

    def fetch_access_token(self) -> Dict[str, Any]:
        """Fetch a token from ``{base}/cgi-bin/token`` (wechatpy hard-codes WeChat's host)."""
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WeChatSender:
    """Proactive messages by the path WeChat allows (:mod:`bot.channels.wechat_delivery`): the
    customer-service message API within the resident's window, else a template message."""

    def __init__(self, client: WeChatClient, window: Optional[ServiceWindow] = None,
                 templates: Optional[str] = None) -> None:
        self.client = client
        session = getattr(client, "session", None)  # the window lives where the token does
        store = session._store if isinstance(session, SharedTokenStorage) else None
        self.window = window or ServiceWindow(store)
        self.delivery = WeChatDelivery(client, self.window, templates)

    async def send_message(self, recipient_id: str, text: str, *, buttons: Any = None, payload: Any = None,
                           kind: Optional[str] = None) -> str:
        """Send ``text`` to the follower ``recipient_id`` (their OpenID); the path that delivered it
        (``customer_service`` or ``template``). ``payload``: the outbox row's (its ``template``)."""
        try:
            return await asyncio.to_thread(self.delivery.send, recipient_id, text, payload)
        except DeliveryError:
            raise
        except Exception as exc:  # the shared store, a bug: temporary, the outbox retries
            raise DeliveryError(f"WeChat could not deliver to {recipient_id}: {exc}") from exc

    async def send_text(self, recipient_id: str, text: str) -> str:
        """Send ``text`` alone (as :meth:`send_message` without a payload)."""
        return await self.send_message(recipient_id, text)


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Settings from ``credentials.yml``, falling back to the ``WECHAT_*`` environment."""
        c = WeChat.from_env(credentials)  # a key of the same name in credentials.yml wins
        return cls(
            token=c.token,
            app_id=c.app_id,
            app_secret=c.app_secret,
            encoding_aes_key=c.encoding_aes_key or None,
            api_base_url=c.api_base_url,
            reply_timeout=c.reply_timeout,
            dedupe_ttl=c.dedupe_ttl,
            timestamp_window=c.timestamp_window,
            cs_window_hours=c.cs_window_hours,
            cs_quota=c.cs_quota,
            templates=c.templates,
        )

    def __init__(
        self,
        token: str,
        app_id: str,
        app_secret: str,
        encoding_aes_key: Optional[str] = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        reply_timeout: float = 4.0,
        dedupe_ttl: float = DEFAULT_DEDUPE_TTL,
        timestamp_window: float = DEFAULT_TIMESTAMP_WINDOW,
        cs_window_hours: Optional[float] = None,
        cs_quota: Optional[int] = None,
        templates: Optional[str] = None,
    ) -> None:
        self.token = token
        self.timestamp_window = timestamp_window
        self.app_id = app_id
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.reply_timeout = reply_timeout
        self.dedupe_ttl = dedupe_ttl
        self.client = LinliWeChatClient(app_id, app_secret, api_base_url or DEFAULT_API_BASE_URL, SharedTokenStorage())
        self.window = ServiceWindow(window_hours=cs_window_hours, quota=cs_quota)
        self.sender = WeChatSender(self.client, self.window, templates)
        # Late answers keep running after their request returned; keep them referenced.
        self._tasks: Set[asyncio.Task] = set()
        register_sender(CHANNEL, self.sender)

    # ------------------------------------------------------------ HTTP
    def blueprint(self, on_new_message: Callable[[Any], Awaitable[Any]]) -> Blueprint:
        """``/webhooks/wechat/`` (health) and ``/webhooks/wechat/webhook`` (GET verify, POST messages)."""
        hook = Blueprint(f"{CHANNEL}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.token)})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not await asyncio.to_thread(self._signed, request):
                return response.text("forbidden", status=403)
            return response.text(request.args.get("echostr", ""))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    def _signed(self, request: Request) -> bool:
        """The URL signature is WeChat's, fresh (±``timestamp_window`` s) and its nonce unused.

        The signature covers only token, timestamp and nonce (not the body), so a
        captured URL could be replayed with any body: each nonce is claimed once in
        the shared store for twice the window, and older timestamps are refused.
        """
        if not self.token:  # an empty token would make every signature forgeable
            logger.warning("WeChat request refused: WECHAT_TOKEN is not set")
            return False
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        if not check(request.args.get("signature", ""), self.token, timestamp, nonce):
            return False
        if not self._fresh(timestamp):
            logger.warning("WeChat request refused: timestamp %r outside ±%ss", timestamp[:20], self.timestamp_window)
            return False
        if not nonce or len(nonce) > 64:
            return False
        if not kv_store().claim(f"wechat:nonce:{nonce}", 2 * self.timestamp_window):
            logger.warning("WeChat request refused: nonce replayed")
            return False
        return True

    def _fresh(self, timestamp: str) -> bool:
        try:
            return abs(time.time() - int(timestamp)) <= self.timestamp_window
        except ValueError:
            return False

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        started = time.monotonic()
        if len(request.body) > MAX_BODY:
            return response.text("payload too large", status=413)
        if not await asyncio.to_thread(self._signed, request):
            logger.warning("WeChat POST with a bad, stale or replayed signature from %s", request.ip)
            return response.text("forbidden", status=403)
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type and content_type not in XML_TYPES:
            return response.text("unsupported media type", status=415)
        safe_mode = request.args.get("encrypt_type") == "aes"
        if self.crypto is not None and not safe_mode:
            # With an EncodingAESKey, plaintext would let a captured URL carry any message.
            logger.warning("WeChat POST in plaintext refused: safe mode is configured")
            return response.text("safe mode required", status=403)
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return response.text("bad request", status=400)
        if not _plain_xml(body):
            return response.text("bad request", status=400)
        try:
            if safe_mode:
                if self.crypto is None:
                    return response.text("safe mode is not configured", status=400)
                encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
                if not isinstance(encrypted, str) or not check(
                    request.args.get("msg_signature", ""), self.token,
                    request.args.get("timestamp", ""), request.args.get("nonce", ""), encrypted,
                ):
                    logger.warning("WeChat POST with a bad message signature")
                    return response.text("forbidden", status=403)
                body = self.crypto.decrypt_message(
                    body,
                    request.args.get("msg_signature", ""),
                    request.args.get("timestamp", ""),
                    request.args.get("nonce", ""),
                )
                if not _plain_xml(body):
                    return response.text("bad request", status=400)
        except (InvalidSignatureException, InvalidAppIdException):
            logger.warning("WeChat POST with a bad message signature or app id")
            return response.text("forbidden", status=403)
        except Exception:
            return response.text("bad request", status=400)
        try:
            raw = xmltodict.parse(body)["xml"]
            message = parse_message(body)
            if not isinstance(raw, dict) or not raw.get("FromUserName") or not raw.get("MsgType"):
                raise ValueError("missing FromUserName/MsgType")
            if not isinstance(raw["FromUserName"], str) or not OPENID.match(raw["FromUserName"]):
                raise ValueError("malformed FromUserName")
        except Exception:
            logger.info("WeChat POST with malformed XML ignored")
            return response.text("bad request", status=400)

        if not await asyncio.to_thread(kv_store().claim, self._dedupe_key(raw), self.dedupe_ttl):
            logger.info("WeChat retry of %s ignored", self._dedupe_key(raw))
            return response.text("success")

        await self._opened_window(message, raw)
        work = self._handle(message, raw, on_new_message)
        if work is None:
            return response.text("success")
        remaining = max(0.0, self.reply_timeout - (time.monotonic() - started))
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=remaining)
        if not done:
            # Too slow for a passive reply: answer later through the API.
            self._keep(asyncio.ensure_future(self._deliver_late(message.source, task, self._dedupe_key(raw))))
            return response.text("success")
        try:
            texts = task.result()
        except Exception:
            logger.exception("WeChat message from %s failed", message.source)
            return response.text("success")
        return self._reply(request, message, texts, safe_mode)

    async def _opened_window(self, message: Any, raw: Dict[str, Any]) -> None:
        """Record that the resident wrote (or followed, clicked a menu...): a new customer-service window."""
        event = str(raw.get("Event") or getattr(message, "event", "") or "")
        if not opens_window(message.type, event):
            return
        try:
            await asyncio.to_thread(self.window.record_inbound, message.source)
        except Exception:  # the answer matters more; the outbox falls back to templates on 45015
            logger.exception("Could not record the customer-service window of %s", message.source)

    @staticmethod
    def _dedupe_key(raw: Dict[str, Any]) -> str:
        if raw.get("MsgId"):
            return f"wechat:msg:{raw['MsgId']}"
        return f"wechat:event:{raw.get('FromUserName')}:{raw.get('CreateTime')}"

    def _keep(self, task: asyncio.Future) -> None:
        self._tasks.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._tasks.discard)

    def _reply(self, request: Request, message: Any, texts: List[str], safe_mode: bool) -> HTTPResponse:
        content = "\n\n".join(t for t in texts if t)
        if not content:
            return response.text("success")
        xml = text_reply_xml(to_user=message.source, from_user=message.target, content=content)
        if safe_mode and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, request.args.get("nonce", ""), request.args.get("timestamp"))
        return response.text(xml, content_type="application/xml")

    async def _deliver_late(self, openid: str, task: "asyncio.Future[List[str]]", key: str) -> None:
        """Queue an answer that missed the passive-reply window in the outbox (:mod:`bot.outbox`),
        which sends it through the customer-service API and retries while WeChat is unreachable.
        Rasa has the answer in the transcript already, so the outbox does not record it again."""
        from bot import outbox

        try:
            texts = await task
        except Exception:
            logger.exception("Late WeChat answer for %s failed", openid)
            return
        for index, text in enumerate(t for t in texts if t):
            try:  # one row per text, in order (the outbox keeps a resident's messages in order)
                await outbox.enqueue(CHANNEL, openid, text, "late_answer", dedupe_key=f"late:{key}:{index}")
            except Exception:
                logger.exception("Could not queue a late WeChat answer to %s", openid)

    # ------------------------------------------------------------ messages
    def _handle(self, message: Any, raw: Dict[str, Any], on_new_message: OnNewMessage) -> Optional[Awaitable[List[str]]]:
        """The work for one message (a coroutine returning reply texts), or ``None`` for no reply."""
        openid = message.source
        msg_id = f"wechat-{raw.get('MsgId') or raw.get('CreateTime')}"
        if message.type == "text":
            return self._converse(on_new_message, openid, message.content or "", msg_id)
        if message.type == "voice":
            recognised = (message.recognition or "").strip()
            if recognised:
                return self._converse(on_new_message, openid, recognised, msg_id, {"voice": True})
            return self._voice(openid, message.media_id)  # kept for staff; the resident is asked to type
        if message.type == "image":
            return self._photo(on_new_message, openid, message.image or message.media_id, msg_id, message.media_id)
        if message.type == "event":
            if getattr(message, "event", "") in ("subscribe", "subscribe_scan"):
                return self._static("welcome", openid, both=True)
            return None  # menu clicks, unsubscribe, location reports: nothing to say
        return self._static("text_only", openid)

    async def _static(self, key: str, openid: str, both: bool = False) -> List[str]:
        if both:
            return [common.bilingual(key)]
        language = await asyncio.to_thread(common.known_language, CHANNEL, openid, None)
        return [common.text(key, language) if language else common.bilingual(key)]

    async def _converse(
        self,
        on_new_message: OnNewMessage,
        openid: str,
        text: str,
        msg_id: str,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> List[str]:
        language = await asyncio.to_thread(common.remember_language, CHANNEL, openid, text)
        language = language or await asyncio.to_thread(common.known_language, CHANNEL, openid, "zh")
        text = await asyncio.to_thread(common.resolve_choice, CHANNEL, openid, text)
        messages = await common.run_turn(
            on_new_message,
            channel=CHANNEL,
            sender_id=openid,
            message=text,
            metadata={"wechat": metadata or {}},
            message_id=msg_id,
        )
        await asyncio.to_thread(common.remember_buttons, CHANNEL, openid, messages)
        texts = common.as_plain_text(messages, language)
        note = await common.attach_pending_photos(CHANNEL, openid, language)
        return texts + ([note] if note else [])

    async def _photo(self, on_new_message: OnNewMessage, openid: str, ref: str, msg_id: str,
                     media_id: Optional[str] = None) -> List[str]:
        language = await asyncio.to_thread(common.known_language, CHANNEL, openid, "zh")
        pic_url = ref if ref and ref.startswith(("http://", "https://")) else None
        # Downloaded now: media ids expire after 3 days and the desk cannot show http PicUrls.
        kept = await common.keep_media(
            CHANNEL, openid, "image", ref,
            lambda limit, timeout: media_fetch.wechat_media(self.client, media_id, limit, pic_url, timeout))
        if kept.ref is None:
            return [common.refused_text(kept, language)]
        number = await common.handle_photo(CHANNEL, openid, kept.ref)
        if number:
            return [common.text("photo_attached", language, number=number)]
        start = common.text("start_repair", language)
        return [common.text("photo_kept", language)] + await self._converse(on_new_message, openid, start, msg_id)

    async def _voice(self, openid: str, media_id: Optional[str]) -> List[str]:
        """A voice message without WeChat's recognition: kept for staff (on the open ticket, if
        any, and in the conversation), and the resident is asked to type."""
        language = await asyncio.to_thread(common.known_language, CHANNEL, openid, None)
        if not media_id:
            return [common.text("voice_unclear", language) if language else common.bilingual("voice_unclear")]
        kept = await common.keep_media(
            CHANNEL, openid, "voice", media_id,
            lambda limit, timeout: media_fetch.wechat_media(self.client, media_id, limit, None, timeout))
        key = "voice_kept" if kept.stored else "voice_unclear"
        if kept.stored:
            try:
                await common.handle_photo(CHANNEL, openid, kept.ref or "", keep_pending=False)
            except Exception:  # the voice is kept in the media store either way
                logger.exception("Could not attach a voice message of %s", openid)
        return [common.text(key, language) if language else common.bilingual(key)]
