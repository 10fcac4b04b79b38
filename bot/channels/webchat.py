"""The web widget's channel: Rasa's ``socketio`` channel with signed sessions,
plus its proactive sender.

:class:`WebChatInput` (``credentials.yml``: ``bot.channels.webchat.WebChatInput``,
name ``socketio``) is Rasa's :class:`SocketIOInput` whose sessions are issued and
signed by the server (``LINLI_SECRET_KEY``): a browser proves its session with the
token it was given, never with a bare session id (which staff see, and which
Rasa's channel would accept from anyone). It also awaits ``enter_room``, which
python-socketio 5.10+ made a coroutine.

Photos: the widget uploads them over HTTP (``POST /chat/photo``, :mod:`bot.web.media_api`);
one sent before the resident has an open ticket starts a repair report (:meth:`WebChatInput.run_turn`)
and, as on the other channels, is attached after the turn that files the ticket.

Every browser of a conversation is in the room ``socketio:<session id>``, which is
also the conversation's sender id. The sender emits the message to that room. Like every :mod:`bot.outbound` sender it only
delivers: the caller records the message in the conversation's tracker (with its
author), so a browser that was offline sees it in its history after reconnecting.

Several replicas: rooms live in the process a browser is connected to. With
``REDIS_URL`` set the socket.io server uses python-socketio's
``AsyncRedisManager`` on the pub/sub channel ``linli:socketio:<db>``
(:func:`client_manager`), so an emit to a room from any replica (a staff reply
sent through replica B, the bot's answer) reaches the browser connected to
replica A. Without it (``make run``, one process) rooms stay in process. The
browser's own connection must stay on one replica: the widget starts with HTTP
long polling (several requests per connection), so a load balancer in front of
several replicas must send each browser's ``/socket.io/`` requests to the same
one (sticky sessions, e.g. nginx ``ip_hash`` or ``hash $remote_addr consistent``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import logging
import re
import secrets
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from socketio import AsyncRedisManager, AsyncServer

from bot.channels.identity import conversation_id
from bot.channels.state import redis_channel, redis_url
from bot.nlu.language import detect_language, normalise_language
from bot.outbound import DeliveryError, register_sender
from bot.settings import secret_key

logger = logging.getLogger(__name__)

CHANNEL = "socketio"


#: Widget session tokens: ``<session id>.<HMAC-SHA256 of it, base64url>``.
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
#: Longest message a resident may send from the widget.
MAX_MESSAGE = 4000


def _signature(session_id: str) -> str:
    digest = hmac.new(secret_key(), f"linli-webchat:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_session() -> Tuple[str, str]:
    """A new widget session: ``(session id, signed token)``. Only the token proves it."""
    session_id = secrets.token_hex(16)
    return session_id, f"{session_id}.{_signature(session_id)}"


def session_of(token: Any) -> Optional[str]:
    """The session id a signed token proves, or ``None`` (forged, malformed, other key)."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    session_id, _, signature = token.partition(".")
    if not _SESSION_ID.match(session_id) or not signature:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(session_id).encode()):
        return None
    return session_id


def room_of(session_id: str) -> str:
    """The socket.io room (and Rasa conversation) of a widget session."""
    return conversation_id(CHANNEL, session_id)


def client_manager(url: Optional[str] = None) -> Optional[AsyncRedisManager]:
    """The socket.io client manager shared by every replica on the Redis at ``url``
    (default ``REDIS_URL``), or ``None`` (python-socketio's in-process manager)."""
    url = url or redis_url()
    if url is None:
        return None
    return AsyncRedisManager(url, channel=redis_channel("socketio", url))


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with server-issued, signed sessions.

    Rasa's own channel trusts the ``session_id`` a browser sends, so anyone who
    learns one joins that conversation. Here ``session_request`` carries
    ``{"session_token": ...}`` (from ``POST /chat/session`` or a previous
    ``session_token`` event); a missing or forged token gets a *new* session
    (event ``session_token`` with its token, then ``session_confirm``). The socket
    is bound to its session server-side, so ``user_uttered`` ignores any
    ``session_id`` in the message. Conversations are ``socketio:<session id>``.

    The blueprint is Rasa's (same routes, same ``socketio_path``) but builds the
    socket.io server itself, since Rasa's cannot be given a client manager.
    """

    def blueprint(self, on_new_message: Any) -> Blueprint:
        manager = client_manager()
        # cors_allowed_origins=[] as Rasa does: the page and the socket share one origin.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        hook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook")
        self.sio = sio  # get_output_channel() emits through it
        self.on_new_message = on_new_message  # photo uploads start a repair report (run_turn)
        namespace = self.namespace

        @hook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        if manager is not None:
            @hook.listener("after_server_start")
            async def _subscribe(_app: Any, _loop: Any) -> None:
                # python-socketio subscribes on the first connection of *this* replica; subscribe now
                # so that room joins and emits relayed by other replicas are heard from the start.
                if not sio.manager_initialized:
                    sio.manager_initialized = True
                    sio.manager.initialize()
                logger.info("Widget rooms shared through Redis (channel %s)", manager.channel)

        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            return True

        async def session_request(sid: str, data: Optional[dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = session_of(data.get("session_token"))
            if session_id is None:
                session_id, token = issue_session()
                await sio.emit("session_token", {"session_token": token, "session_id": session_id},
                               room=sid, namespace=namespace)
            previous = (await sio.get_session(sid, namespace=namespace) or {}).get("room")
            if previous and previous != room_of(session_id):
                left = sio.leave_room(sid, previous, namespace=namespace)
                if inspect.isawaitable(left):
                    await left
            await sio.save_session(sid, {"room": room_of(session_id), "session_id": session_id}, namespace=namespace)
            joined = sio.enter_room(sid, room_of(session_id), namespace=namespace)
            if inspect.isawaitable(joined):  # a coroutine since python-socketio 5.10
                await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace) or {}
            room = session.get("room")
            if not room:
                logger.info("Widget message before a session_request ignored")
                return
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE:
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            output_channel = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(text, output_channel, room, input_channel=CHANNEL, metadata=metadata)
            )
            language = detect_language(text) or normalise_language(str(metadata.get("language") or "zh"))
            await self._attach_pending(session.get("session_id") or "", output_channel, language)

        sio.on("connect", connect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return hook

    async def run_turn(self, session_id: str, text: str, language: str,
                       metadata: Optional[Dict[str, Any]] = None) -> None:
        """One turn of the widget session ``session_id`` as if the resident had written ``text``
        (a photo upload starts a repair report); the answers go to the session's room."""
        if getattr(self, "sio", None) is None or getattr(self, "on_new_message", None) is None:
            raise RuntimeError("the widget's socket.io channel is not running")
        output_channel = SocketIOOutput(self.sio, self.bot_message_evt)
        await self.on_new_message(UserMessage(text, output_channel, room_of(session_id), input_channel=CHANNEL,
                                              metadata={"language": language, **(metadata or {})}))
        await self._attach_pending(session_id, output_channel, language)

    async def _attach_pending(self, session_id: str, output_channel: SocketIOOutput, language: str) -> None:
        """After a turn: photos uploaded before the ticket existed go onto it; the resident is told."""
        if not _SESSION_ID.match(session_id or ""):
            return
        from bot.channels import common

        note = await common.attach_pending_photos(CHANNEL, session_id, language)
        if note:
            await output_channel.send_text_message(room_of(session_id), note)


class SocketIOSender:
    """Sends texts to a widget conversation (room = session id)."""

    def __init__(self, app: Any, input_channel: Any) -> None:
        self.app = app
        self.input_channel = input_channel

    async def send_text(self, recipient_id: str, text: str) -> None:
        """Emit ``text`` to the widget session ``recipient_id`` (its room)."""
        output = self.input_channel.get_output_channel()
        if output is None:
            raise DeliveryError("the socket.io server is not running in this process")
        await output.send_text_message(room_of(recipient_id), text)

    async def send_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]]) -> None:
        """Emit ``text`` with ``buttons`` (quick replies the widget shows; a click sends the payload)."""
        output = self.input_channel.get_output_channel()
        if output is None:
            raise DeliveryError("the socket.io server is not running in this process")
        await output.send_text_with_buttons(room_of(recipient_id), text, buttons)


def register_socketio_sender(app: Any) -> Optional[SocketIOSender]:
    """Register the widget's sender if Rasa's socket.io channel is mounted on ``app``."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == CHANNEL:
            sender = SocketIOSender(app, channel)
            register_sender(CHANNEL, sender)
            return sender
    return None
