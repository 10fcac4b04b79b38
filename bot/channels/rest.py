"""The REST channel for integrations and tests: ``POST /webhooks/rest/webhook``.

Rasa's own ``rest`` channel lets the caller choose the conversation *and* the
``input_channel``, so anyone who can reach it can speak as a WeChat resident.
This one (``credentials.yml``: ``bot.channels.rest.RestInput``, name ``rest``):

- is closed (403) unless ``LINLI_REST_TOKEN`` is set, and then requires
  ``Authorization: Bearer <token>`` (compared in constant time);
- always speaks for ``rest:<sender>`` on the ``rest`` channel: ``input_channel``
  in the body is ignored, so a REST caller can never reach another channel's
  residents, tickets or handoffs;
- accepts only a JSON object with a string ``sender`` (1–128 characters of
  ``A-Z a-z 0-9 _ - . @``) and a string ``message`` (at most 4000 characters);
  anything else gets 4xx and nothing is stored.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import conversation_id
from bot.settings import Settings
from bot.web.http import bearer_token, error, secret_matches

logger = logging.getLogger(__name__)

CHANNEL = "rest"
SENDER = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
MAX_MESSAGE = 4000


class RestInput(InputChannel):
    """Token-protected REST channel whose conversations are always ``rest:<sender>``."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """``token`` ← ``LINLI_REST_TOKEN`` (empty: the channel is closed)."""
        return cls(token=Settings.read("rest_token", (credentials or {}).get("token")))

    def __init__(self, token: str = "") -> None:
        self.token = token.strip()

    def _authorised(self, request: Request) -> bool:
        return secret_matches(bearer_token(request), self.token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /webhooks/rest/`` (health) and ``POST /webhooks/rest/webhook``."""
        hook = Blueprint("custom_rest_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.token)})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return error(403, "forbidden", "The REST channel needs Authorization: Bearer <LINLI_REST_TOKEN>.")
            if not (request.content_type or "").startswith("application/json"):
                return error(415, "json_required", "Send the body as application/json.")
            try:
                data = json.loads(request.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return error(400, "bad_json", "The body is not valid UTF-8 JSON.")
            if not isinstance(data, dict):
                return error(400, "bad_request", "Send a JSON object {\"sender\": ..., \"message\": ...}.")
            sender, text, metadata = data.get("sender"), data.get("message"), data.get("metadata")
            if not isinstance(sender, str) or not SENDER.match(sender):
                return error(400, "bad_sender", "sender: 1-128 characters of A-Z a-z 0-9 _ - . @")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE:
                return error(400, "bad_message", f"message: a non-empty string of at most {MAX_MESSAGE} characters")
            if metadata is not None and not isinstance(metadata, dict):
                return error(400, "bad_metadata", "metadata must be a JSON object")
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    conversation_id(CHANNEL, sender),
                    input_channel=CHANNEL,  # never the caller's choice
                    metadata=metadata or None,
                )
            )
            # Answers name the caller's own sender, as Rasa's REST channel does.
            return response.json([{**m, "recipient_id": sender} for m in collector.messages])

        return hook
