"""The web widget's channel: Rasa's ``socketio`` channel, fixed, plus its
proactive sender.

:class:`WebChatInput` (``credentials.yml``: ``bot.channels.webchat.WebChatInput``,
name ``socketio``) is Rasa's :class:`SocketIOInput` with one fix: Rasa 3.6
calls ``AsyncServer.enter_room`` without ``await``, which python-socketio 5.10+
made a coroutine, so with ``session_persistence`` a browser never joins its
session's room and never receives an answer.

Rasa's socket.io channel puts every browser of a conversation in a room named
after its session id, which is also the conversation's sender id. The sender
emits the message to that room and records it in the conversation's tracker,
so a browser that was offline sees it in its history after reconnecting.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Optional

from rasa.core.channels.socketio import SocketIOInput
from rasa.shared.core.events import BotUttered
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
    """Sends texts to a widget conversation (room = session id) and keeps them in its history."""

    def __init__(self, app: Any, input_channel: Any) -> None:
        self.app = app
        self.input_channel = input_channel

    async def send_text(self, recipient_id: str, text: str) -> None:
        """Emit ``text`` to the conversation ``recipient_id`` and append it to its tracker."""
        output = self.input_channel.get_output_channel()
        if output is None:
            raise DeliveryError("the socket.io server is not running in this process")
        await output.send_text_message(recipient_id, text)
        await self._record(recipient_id, text)

    async def _record(self, sender_id: str, text: str) -> None:
        agent = getattr(self.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return
        try:
            async with agent.lock_store.lock(sender_id):
                tracker = await agent.tracker_store.retrieve(sender_id)
                if tracker is None:
                    return
                tracker.update(BotUttered(text, metadata={"proactive": True}))
                await agent.tracker_store.save(tracker)
        except Exception:  # the message was delivered; a missing history entry is not worth failing for
            logger.exception("Could not record a proactive message for %s", sender_id)


def register_socketio_sender(app: Any) -> Optional[SocketIOSender]:
    """Register the widget's sender if Rasa's socket.io channel is mounted on ``app``."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == CHANNEL:
            sender = SocketIOSender(app, channel)
            register_sender(CHANNEL, sender)
            return sender
    return None
