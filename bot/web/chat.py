"""The web chat widget, served by the running service.

- ``GET /chat``: a bilingual chat page (residents, and staff trying the bot),
  talking to Rasa's ``socketio`` channel; ``?lang=en`` picks English,
  ``?embed=1`` drops the page chrome (used inside the embed iframe).
- ``GET /chat/widget.js``: the embeddable snippet for a property company's site::

      <script src="https://linli.example.com/chat/widget.js" data-lang="zh" async></script>

- ``GET /chat/history/<session_id>``: the conversation's user and bot messages
  (from the tracker store), so a reload or a reconnect shows the history.
- ``/chat/static/*``: the page's JS/CSS and the vendored socket.io client.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.webchat import register_socketio_sender

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: The newest messages shown after a reload.
HISTORY_LIMIT = 200

blueprint = Blueprint("linli_chat")
blueprint.static("/chat/static", str(STATIC), name="chat_static")


@blueprint.listener("before_server_start")
async def _register_sender(app: Any, _loop: Any) -> None:
    # Rasa's channels are mounted before Linli's blueprints, so the socket.io channel exists now.
    if register_socketio_sender(app) is None:
        logger.info("No socketio channel in credentials.yml: the web widget cannot receive proactive messages")


@blueprint.get("/chat")
async def chat_page(_: Request) -> HTTPResponse:
    """The chat page."""
    return await response.file(STATIC / "chat.html", mime_type="text/html; charset=utf-8")


@blueprint.get("/chat/widget.js")
async def widget_script(_: Request) -> HTTPResponse:
    """The embeddable snippet's script (a floating button opening /chat in an iframe)."""
    return await response.file(
        STATIC / "widget.js",
        mime_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


def history_messages(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """User and bot messages of a tracker's events, in order, for the widget."""
    messages: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            # A button click sends its payload; show the button's title as the widget did.
            text = (event.get("metadata") or {}).get("button_title") or event.get("text") or ""
            if text.startswith("/"):
                continue
            messages.append({"from": "user", "text": text, "ts": event.get("timestamp")})
        elif kind == "bot":
            data = event.get("data") or {}
            if not event.get("text") and not data.get("buttons") and not data.get("image"):
                continue
            messages.append(
                {
                    "from": "bot",
                    "text": event.get("text") or "",
                    "buttons": data.get("buttons") or [],
                    "image": data.get("image"),
                    "ts": event.get("timestamp"),
                }
            )
    return messages[-HISTORY_LIMIT:]


@blueprint.get("/chat/history/<session_id:str>")
async def chat_history(request: Request, session_id: str) -> HTTPResponse:
    """The conversation's messages; the session id is a random secret only its browser knows."""
    if not _SESSION_ID.match(session_id):
        return response.json({"error": "bad session id"}, status=400)
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return response.json({"messages": []}, status=503)
    tracker = await agent.tracker_store.retrieve_full_tracker(session_id)
    if tracker is None:
        return response.json({"messages": []})
    events = [event.as_dict() for event in tracker.events]
    return response.json({"messages": history_messages(events)}, headers={"Cache-Control": "no-store"})
