"""The process-wide outbox: one store on ``DATABASE_URL`` and this process's worker.

:func:`start` and :func:`stop` are the server's service steps
(:func:`bot.server.services`). :func:`enqueue` and :func:`send` are what the
rest of the code calls.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Dict, Optional

from bot.db import get_engine
from bot.outbox.models import DEAD, SENT, UNDELIVERABLE
from bot.outbox.settings import OutboxSettings
from bot.outbox.store import Message, OutboxStore
from bot.outbox.worker import Worker

logger = logging.getLogger(__name__)

_worker: Optional[Worker] = None


@lru_cache(maxsize=1)
def outbox_store() -> OutboxStore:
    """The outbox on ``DATABASE_URL``."""
    return OutboxStore(get_engine())


def worker() -> Optional[Worker]:
    """This process's running worker, if any."""
    return _worker


def wake() -> None:
    """Tell this process's worker that a message was queued (no-op without one; callable from any thread)."""
    if _worker is not None:
        _worker.wake()


async def start(app: Any) -> None:
    """Start this process's worker (server start-up)."""
    global _worker
    settings = OutboxSettings.from_env()
    _worker = Worker(outbox_store(), settings, app)
    _worker.start(app)
    app.ctx.linli_outbox = _worker
    logger.info("Outbox worker %s started (poll every %.1f s, %d attempts at most)", _worker.name,
                settings.interval, settings.max_attempts)


async def stop(app: Any) -> None:
    """Stop this process's worker (server shutdown)."""
    global _worker
    if _worker is not None:
        await _worker.stop()
        _worker = None


async def enqueue(channel: str, sender_id: str, text: str, kind: str, **options: Any) -> int:
    """Queue a message (see :meth:`OutboxStore.enqueue` for ``options``) and wake the worker; its id."""
    message_id, _created = await asyncio.to_thread(outbox_store().enqueue, channel, sender_id, text, kind, **options)
    wake()
    return message_id


def outcome(message: Message) -> Dict[str, Any]:
    """What a caller tells staff: ``delivered`` (bool), ``delivery`` (sent | queued | undeliverable |
    dead), ``error`` (the last failure, redacted) and ``outbox_id``."""
    delivery = message.status if message.status in (SENT, UNDELIVERABLE, DEAD) else "queued"
    return {"delivered": message.status == SENT, "delivery": delivery,
            "error": None if message.status == SENT else message.last_error, "outbox_id": message.id}


async def send(channel: str, sender_id: str, text: str, kind: str, wait: Optional[float] = None,
               **options: Any) -> Dict[str, Any]:
    """Queue a message and wait up to ``wait`` seconds (default ``LINLI_OUTBOX_WAIT``, at most 3) for
    its first attempt; returns :func:`outcome`. The message is never lost: when the wait ends
    first, it is ``queued`` and the worker keeps trying."""
    message_id = await enqueue(channel, sender_id, text, kind, **options)
    running = _worker
    if running is None:
        return outcome(await asyncio.to_thread(outbox_store().get, message_id))
    timeout = running.settings.wait if wait is None else max(0.0, min(3.0, wait))
    return outcome(await running.wait_for(message_id, timeout))
