"""The web widget's channel: Rasa's ``socketio`` channel, fixed, plus its
proactive sender.

:class:`WebChatInput` (``credentials.yml``: ``bot.channels.webchat.WebChatInput``,
name ``socketio``) is Rasa's :class:`SocketIOInput` with one fix: Rasa 3.6
calls ``AsyncServer.enter_room`` without ``await``, which python-socketio 5.10+
made a coroutine, so with ``session_persistence`` a browser never joins its
session's room and never receives an answer.

Rasa's socket.io channel puts every browser of a conversation in a room named
after its session id, which is also the conversation's sender id. The sender
emits the message to that room. Like every :mod:`bot.outbound` sender it only
delivers: the caller records the message in the conversation's tracker (with its
author), so a browser that was offline sees it in its history after reconnecting.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Optional

from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.outbound import DeliveryError, register_sender

logger = logging.getLogger(__name__)

CHANNEL = "socketio"


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel whose ``session_request`` really joins the session's room."""

    def blueprint(self, on_new_message: Any) -> Blueprint:
        hook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        async def session_request(sid: str, data: Optional[dict]) -> None:
            data = data or {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        sio.on("session_request", session_request, namespace=self.namespace)  # replaces Rasa's handler
        return hook


class SocketIOSender:
    """Sends texts to a widget conversation (room = session id)."""

    def __init__(self, app: Any, input_channel: Any) -> None:
        self.app = app
        self.input_channel = input_channel

    async def send_text(self, recipient_id: str, text: str) -> None:
        """Emit ``text`` to the conversation ``recipient_id``."""
        output = self.input_channel.get_output_channel()
        if output is None:
            raise DeliveryError("the socket.io server is not running in this process")
        await output.send_text_message(recipient_id, text)


def register_socketio_sender(app: Any) -> Optional[SocketIOSender]:
    """Register the widget's sender if Rasa's socket.io channel is mounted on ``app``."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == CHANNEL:
            sender = SocketIOSender(app, channel)
            register_sender(CHANNEL, sender)
            return sender
    return None
