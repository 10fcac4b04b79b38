"""The web chat widget, served by the running service.

- ``GET /chat``: a bilingual chat page (residents, and staff trying the bot),
  talking to Rasa's ``socketio`` channel; ``?lang=en`` picks English,
  ``?embed=1`` drops the page chrome (used inside the embed iframe).
- ``GET /chat/widget.js``: the embeddable snippet for a property company's site::

      <script src="https://linli.example.com/chat/widget.js" data-lang="zh" async></script>

- ``POST /chat/session``: a new, server-signed widget session (``session_token``).
- ``GET /chat/history`` with ``Authorization: Bearer <session_token>``: the
  conversation's user and bot messages (from the tracker store), so a reload or a
  reconnect shows the history. Without a valid token: 401.
- ``/chat/static/*``: the page's JS/CSS and the vendored socket.io client.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.webchat import issue_session, room_of, session_of
from bot.web.http import bearer_token

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
NO_STORE = {"Cache-Control": "no-store"}
#: The newest messages shown after a reload.
HISTORY_LIMIT = 200

blueprint = Blueprint("linli_chat")
blueprint.static("/chat/static", str(STATIC), name="chat_static")


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


def _token(request: Request) -> Optional[str]:
    return bearer_token(request) or request.headers.get("x-linli-chat-token")


@blueprint.post("/chat/session")
async def new_session(request: Request) -> HTTPResponse:
    """A new widget session: ``{"session_id", "session_token"}``; only the token proves it."""
    session_id, token = issue_session()
    return response.json({"session_id": session_id, "session_token": token}, headers=NO_STORE)


@blueprint.get("/chat/history")
async def chat_history(request: Request) -> HTTPResponse:
    """The conversation of the widget session whose signed token is in ``Authorization: Bearer``."""
    session_id = session_of(_token(request))
    if session_id is None:
        return response.json({"error": "unauthenticated",
                              "message": "Send the widget's session token as Authorization: Bearer <token>."},
                             status=401, headers=NO_STORE)
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return response.json({"messages": []}, status=503, headers=NO_STORE)
    tracker = await agent.tracker_store.retrieve_full_tracker(room_of(session_id))
    if tracker is None:
        return response.json({"messages": []}, headers=NO_STORE)
    events = [event.as_dict() for event in tracker.events]
    return response.json({"messages": history_messages(events)}, headers=NO_STORE)
