"""A small Sanic app with the web widget's socket.io channel, as one replica would mount it.

Not a Rasa server (too slow to start): :class:`bot.channels.webchat.WebChatInput`
mounted by Rasa's own ``register`` (as ``rasa.core.run`` does, under ``/webhooks/``),
and ``POST /emit {"session_id", "text"}``, which sends as a staff reply is sent
(:func:`bot.outbound.send_text` through the widget's sender, registered as
:mod:`bot.web.chat` registers it). No model: no resident message is sent here. The
socket.io client manager follows ``REDIS_URL``.

Usage: ``python -m tests.cluster_state.socketio_app --port 5101 --name a``
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from rasa.core.channels.channel import register
from sanic import Sanic, response
from sanic.request import Request

from bot.channels.webchat import CHANNEL, WebChatInput, register_socketio_sender, room_of
from bot.outbound import send_text


def build(name: str) -> Sanic:
    """The replica app ``name`` (Sanic app names must differ only within one process)."""
    app = Sanic(f"replica_{name}")
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1  # the test's long polls need no grace
    channel = WebChatInput(session_persistence=True)
    register([channel], app, "/webhooks/")
    assert register_socketio_sender(app) is not None

    @app.get("/ready")
    async def ready(_: Request) -> Any:
        manager = channel.sio.manager if channel.sio is not None else None
        return response.json({"manager": type(manager).__name__})

    @app.post("/emit")
    async def emit(request: Request) -> Any:
        # The desk's path: the handoff's conversation id on the resident's channel.
        await send_text(CHANNEL, room_of(request.json["session_id"]), request.json["text"])
        return response.json({"sent": True})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="a")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    build(args.name).run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
