"""``GET /metrics`` (Prometheus, :mod:`bot.metrics`) and the turn timing of channel webhooks.

Who may scrape: a client on the same machine talking to the server directly (loopback
address, no proxy header), or anyone sending ``Authorization: Bearer $LINLI_METRICS_TOKEN``.
A request relayed by a proxy (``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP`` present)
is not "local" even though it comes from 127.0.0.1: the nginx on the same host would
otherwise expose the figures to the internet. Everything else gets 403.

The Rasa server also times ``POST /webhooks/<channel>/...`` requests (the REST, WeChat
and Telegram turns) into ``linli_turn_seconds{channel}``; the action server times each
custom action (:func:`install_action_server_metrics`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
import zlib
from typing import Any, Callable, Optional, Sequence

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import metrics
from bot.settings import Operations
from bot.web.http import bearer_token, error, secret_matches

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = Operations.variables()["metrics_token"].name  # LINLI_METRICS_TOKEN
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
WEBHOOKS = "/webhooks/"

blueprint = Blueprint("linli_metrics")


def metrics_token() -> str:
    """``LINLI_METRICS_TOKEN``; refuses (exit status 2) one shorter than 16 characters."""
    return Operations.from_env().metrics_token


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:  # a unix socket or nothing at all
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or ip).is_loopback


def scrape_allowed(request: Request, token: str) -> bool:
    """A direct request from this machine, or one with the metrics token (see the module docstring)."""
    if secret_matches(bearer_token(request), token):
        return True
    relayed = any(request.headers.get(header) for header in PROXY_HEADERS)
    return not relayed and _loopback(request.ip or "")


async def metrics_response(request: Request) -> HTTPResponse:
    """The Prometheus exposition, or 403."""
    if not scrape_allowed(request, metrics_token()):
        return error(403, "forbidden", f"Scrape from this machine or send Authorization: Bearer ${TOKEN_VARIABLE}.")
    # The database gauges may query the database: off the event loop.
    body, content_type = await asyncio.to_thread(metrics.exposition)
    return response.raw(body, content_type=content_type, headers={"Cache-Control": "no-store"})


@blueprint.get("/metrics")
async def metrics_route(request: Request) -> HTTPResponse:
    """Prometheus metrics of this replica (loopback or ``LINLI_METRICS_TOKEN`` only)."""
    return await metrics_response(request)


# ------------------------------------------------------------------ turn timing (Rasa server)
def _webhook_channel(app: Sanic, path: str) -> Optional[str]:
    """The input channel a ``/webhooks/<channel>/...`` path belongs to, if it is a registered one."""
    if not path.startswith(WEBHOOKS):
        return None
    name = path[len(WEBHOOKS):].split("/", 1)[0]
    channels = {channel.url_prefix(): channel.name() for channel in getattr(app.ctx, "input_channels", None) or []}
    return channels.get(name)


def install_turn_timing(app: Sanic) -> None:
    """Time every ``POST /webhooks/<channel>/...`` answered below 400 as one turn of that channel.

    App-level middleware (a blueprint's own middleware would only see its own routes).
    Installed once per app.
    """
    if getattr(app.ctx, "linli_turn_timing", False):
        return
    app.ctx.linli_turn_timing = True

    async def _start(request: Request) -> None:
        if request.method == "POST" and request.path.startswith(WEBHOOKS):
            request.ctx.linli_turn_started = time.perf_counter()

    async def _stop(request: Request, resp: Any) -> None:
        started = getattr(request.ctx, "linli_turn_started", None)
        if started is None or resp is None or getattr(resp, "status", 500) >= 400:
            return
        channel = _webhook_channel(request.app, request.path)
        if channel:
            metrics.observe_turn(channel, time.perf_counter() - started)

    app.register_middleware(_start, "request")
    app.register_middleware(_stop, "response")


@blueprint.listener("before_server_start")
async def _install(app: Sanic, _loop: Any) -> None:
    metrics_token()  # a too-short token stops the server here, with the reason
    metrics.register_database_gauges()
    install_turn_timing(app)


# ------------------------------------------------------------------ action server
def _action_name(request: Request) -> Optional[str]:
    """``next_action`` of an action call (rasa may deflate the body)."""
    try:
        body = request.body
        if request.headers.get("content-encoding") == "deflate":
            body = zlib.decompress(body)
        return json.loads(body or b"{}").get("next_action")
    except Exception:
        return None


def install_action_server_metrics(app: Sanic, actions: Callable[[], Sequence[str]]) -> None:
    """``GET /metrics`` on the action server, and ``linli_action_seconds{action}`` per action call.

    Only names in ``actions()`` become labels (others count as ``other``), so a caller
    cannot create label values at will.
    """
    metrics_token()
    metrics.register_database_gauges()

    @app.get("/metrics", name="linli_metrics")
    async def _metrics(request: Request) -> HTTPResponse:
        return await metrics_response(request)

    async def _start(request: Request) -> None:
        if request.method == "POST" and request.path == "/webhook":
            request.ctx.linli_action_started = time.perf_counter()

    async def _stop(request: Request, resp: Any) -> None:
        started = getattr(request.ctx, "linli_action_started", None)
        if started is None or resp is None:
            return
        name = _action_name(request)
        metrics.observe_action(name if name in set(actions()) else "other", time.perf_counter() - started)

    app.register_middleware(_start, "request")
    app.register_middleware(_stop, "response")
