"""The desk's view of the outbox (:mod:`bot.outbox`): ``GET /api/outbox``, ``POST /api/outbox/<id>/retry``.

Staff see messages by status (dead letters first of all: messages every attempt
failed for), and for sent ones the path that delivered them (``delivered_via``:
``customer_service`` or ``template`` on WeChat, else the channel's name), and admins
send a dead or undeliverable one again. Listing shows
residents' messages, so it is written to the audit log, as is every retry.
"""

from __future__ import annotations

import asyncio
import time

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.outbox import service
from bot.outbox.models import STATUSES
from bot.outbox.store import OutboxConflict, OutboxNotFound, OutboxStore
from bot.privacy import mask_phones
from bot.web.api import audit, authenticated, int_arg, valid_id
from bot.web.http import error

blueprint = Blueprint("linli_outbox_api", url_prefix="/api")

#: How long a retry waits for its first attempt before answering "queued" (seconds).
RETRY_WAIT = 2.5


def _store() -> OutboxStore:
    running = service.worker()
    return running.store if running is not None else service.outbox_store()


@blueprint.get("/outbox")
@authenticated()
async def list_outbox(request: Request) -> HTTPResponse:
    """Messages with ``?status=`` (comma-separated; default ``dead``), newest first, with ``limit``/``offset``."""
    statuses = [s for s in (request.args.get("status") or "dead").split(",") if s]
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        return error(400, "bad_parameter", f"status must be one of {', '.join(STATUSES)}, not {unknown[0]!r}.")
    try:
        limit, offset = int_arg(request, "limit", 50, 1, 500), int_arg(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    store = _store()
    messages, total = await asyncio.to_thread(store.list, statuses, limit, offset)
    counts = await asyncio.to_thread(store.counts)
    await audit(request, "view_outbox", None, ",".join(statuses), f"{len(messages)} of {total} messages")
    now = time.time()
    rows = []
    for message in messages:
        data = message.as_dict(now)
        data["text"] = mask_phones(data["text"])
        rows.append(data)
    return response.json({"messages": rows, "total": total, "limit": limit, "offset": offset, "counts": counts})


@blueprint.post("/outbox/<message_id:int>/retry")
@authenticated(admin=True)
async def retry_outbox(request: Request, message_id: int) -> HTTPResponse:
    """Send a dead or undeliverable message again (admin); waits briefly for the attempt."""
    if not valid_id(message_id):
        return error(404, "not_found", f"No outbox message {message_id}; GET /api/outbox lists them.")
    try:
        message = await asyncio.to_thread(_store().retry, message_id)
    except OutboxNotFound:
        return error(404, "not_found", f"No outbox message {message_id}; GET /api/outbox lists them.")
    except OutboxConflict as exc:
        return error(409, "conflict", f"{exc}. Reload the list.")
    await audit(request, "retry_delivery", message.conversation_id, f"outbox {message_id}", message.kind)
    running = service.worker()
    if running is not None:
        running.wake()
        message = await running.wait_for(message_id, RETRY_WAIT)
    return response.json({"message": message.as_dict(), **service.outcome(message)})
