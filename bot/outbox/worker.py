"""The delivery loop: claims due outbox messages and sends them with :func:`bot.outbound.send_text`.

One worker runs in each server process (started from :func:`bot.server.services`).
A local enqueue wakes it at once; messages queued by other processes are found
by polling every ``LINLI_OUTBOX_INTERVAL`` seconds. Each attempt ends in one of:

- delivered → ``sent``, with the path the sender reports in ``delivered_via``
  (``customer_service`` / ``template`` on WeChat, else the channel's name: see
  :mod:`bot.outbound`); if the row carries transcript metadata, the message is
  appended to the conversation's transcript then, and only by the worker whose
  ``sent`` update succeeded, so a retry never records it twice;
- the channel cannot deliver proactively (no sender registered for it, or the
  sender raised a :class:`~bot.outbound.DeliveryError` with ``permanent = True``)
  → ``undeliverable`` at once: expected for REST conversations, not retried and
  not counted as a failure;
- any other failure → ``pending`` again after an exponential backoff with jitter,
  or ``dead`` after ``LINLI_OUTBOX_MAX_ATTEMPTS``; each such attempt is counted
  with ``bot.metrics.delivery_failed(channel, kind)`` when that module exists.

Delivery is at least once: a worker that crashes after the channel accepted a
message but before recording ``sent`` has its claim taken back after the lease,
and the message is sent again. The transcript line is written at most once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
from typing import Any, Dict, List, Optional

from bot.tasks import cancel
from bot import outbound
from bot.outbox.models import DEAD, PENDING, SENT, UNDELIVERABLE
from bot.outbox.settings import OutboxSettings
from bot.outbox.store import Message, OutboxStore
from bot.settings import redact

logger = logging.getLogger(__name__)

#: Statuses after which nothing more happens on its own.
FINAL = (SENT, DEAD, UNDELIVERABLE)


def worker_name() -> str:
    """``host:pid``: who holds a claim (shown on the desk)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _count_failure(channel: str, kind: str) -> None:
    """``bot.metrics.delivery_failed`` when metrics are installed; never fails the delivery."""
    try:
        from bot import metrics  # type: ignore[attr-defined]
    except ImportError:
        return
    try:
        metrics.delivery_failed(channel, kind)
    except Exception:
        logger.debug("metrics.delivery_failed failed", exc_info=True)


def _buttons(message: Message) -> Optional[List[Dict[str, Any]]]:
    """The buttons a message carries in its payload (``{"buttons": [...]}``), if any."""
    buttons = (message.payload or {}).get("buttons") if isinstance(message.payload, dict) else None
    return buttons if isinstance(buttons, list) and buttons else None


def _permanent(exc: BaseException, channel: str) -> bool:
    """The channel can never deliver this proactively (as opposed to a temporary failure)."""
    return outbound.sender_for(channel) is None or bool(getattr(exc, "permanent", False))


class Worker:
    """Delivers the outbox of one database; one per process."""

    def __init__(self, store: OutboxStore, settings: Optional[OutboxSettings] = None, app: Any = None,
                 name: Optional[str] = None) -> None:
        self.store = store
        self.settings = settings or OutboxSettings.from_env()
        self.name = name or worker_name()
        self._app = app
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._wake: Optional[asyncio.Event] = None
        self._task: Optional[asyncio.Task] = None
        self._inflight: Dict[int, asyncio.Task] = {}
        self._waiters: Dict[int, List[asyncio.Future]] = {}
        self._last_reclaim = float("-inf")
        self._last_purge = float("-inf")

    # ------------------------------------------------------------ one attempt
    async def _attempt(self, message: Message) -> Message:
        """Send one claimed message and record the outcome; returns the message as it now is."""
        try:
            # Well inside the lease: a send that hangs must fail here before another worker
            # takes the claim back and sends the message a second time.
            sending = outbound.deliver(message.channel, message.sender_id, message.text, buttons=_buttons(message),
                                       payload=message.payload if isinstance(message.payload, dict) else None,
                                       kind=message.kind)
            path = await asyncio.wait_for(sending, timeout=self.settings.lease / 2)
        except Exception as exc:  # DeliveryError, a timeout, a bug in a sender: the message must not be lost
            return await self._failed(message, exc)
        path = str(path or message.channel)[:32]
        if not await asyncio.to_thread(self.store.complete, message, delivered_via=path):
            logger.warning("Outbox %s was delivered but its claim had expired: another worker owns it", message.id)
            return dataclasses.replace(message, status=SENT)
        logger.info("Delivered outbox %s (%s) to %s via %s", message.id, message.kind, message.conversation_id, path)
        if message.transcript is not None:
            await self._record(message)
        return dataclasses.replace(message, status=SENT, sent_at=time.time(), delivered_via=path)

    async def _failed(self, message: Message, exc: BaseException) -> Message:
        if isinstance(exc, asyncio.TimeoutError):
            error = f"no answer from {message.channel} within {self.settings.lease / 2:g} s"
        else:
            error = redact(str(exc) or type(exc).__name__)
        if _permanent(exc, message.channel):
            await asyncio.to_thread(self.store.fail, message, error, status=UNDELIVERABLE)
            logger.info("Outbox %s cannot be delivered on %s: %s", message.id, message.channel, error)
            return dataclasses.replace(message, status=UNDELIVERABLE, last_error=error)
        _count_failure(message.channel, message.kind)
        if message.attempts >= self.settings.max_attempts:
            await asyncio.to_thread(self.store.fail, message, error, status=DEAD)
            logger.error("Outbox %s to %s is a dead letter after %d attempts: %s (retry it on the desk: Deliveries)",
                         message.id, message.conversation_id, message.attempts, error)
            return dataclasses.replace(message, status=DEAD, last_error=error)
        delay = self.settings.delay(message.attempts)
        retry_at = time.time() + delay
        await asyncio.to_thread(self.store.fail, message, error, retry_at=retry_at)
        logger.warning("Outbox %s attempt %d failed (%s); retrying in %.1f s", message.id, message.attempts, error,
                       delay)
        return dataclasses.replace(message, status=PENDING, last_error=error, next_attempt_at=retry_at)

    async def _record(self, message: Message) -> None:
        """Append the delivered message to the conversation's transcript (at most once)."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return
        from rasa.shared.core.events import BotUttered

        from bot.conversations import append_events

        try:
            buttons = _buttons(message)
            await append_events(agent, message.conversation_id,
                                [BotUttered(message.text, data={"buttons": buttons} if buttons else None,
                                            metadata=dict(message.transcript or {}))])
        except Exception:  # delivered already; a missing transcript line must not fail the loop
            logger.exception("Could not record outbox %s in the transcript of %s", message.id,
                             message.conversation_id)

    # ------------------------------------------------------------ rounds
    async def _reclaim(self) -> None:
        self._last_reclaim = time.monotonic()
        back = await asyncio.to_thread(self.store.reclaim, self.settings.lease, self.settings.max_attempts)
        if back:
            logger.warning("Took back %d outbox claim(s) older than %.0f s", back, self.settings.lease)

    async def _round(self, due_by: Optional[float] = None) -> int:
        """Take back stale claims (now and then), then start attempts for messages due (by ``due_by``,
        default now); returns how many were started."""
        now = time.monotonic()
        if now - self._last_reclaim >= min(30.0, self.settings.lease / 2):
            await self._reclaim()
        if now - self._last_purge >= 3600:
            self._last_purge = now
            await asyncio.to_thread(self.store.purge, time.time() - self.settings.keep_days * 86400)
        free = self.settings.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        started = 0
        for candidate in await asyncio.to_thread(self.store.due, free, due_by):
            message = await asyncio.to_thread(self.store.claim, candidate.id, self.name)
            if message is None:
                continue  # another worker was faster
            started += 1
            task = asyncio.ensure_future(self._attempt(message))
            self._inflight[message.id] = task
            task.add_done_callback(lambda done, mid=message.id: self._finished(mid, done))
        return started

    def _finished(self, message_id: int, task: "asyncio.Task[Message]") -> None:
        self._inflight.pop(message_id, None)
        try:
            outcome: Optional[Message] = task.result()
        except BaseException:  # cancelled at shutdown, or a database error: the lease takes it back
            if not task.cancelled():
                logger.exception("Outbox %s: the attempt could not be recorded", message_id)
            outcome = None
        for waiter in self._waiters.pop(message_id, []):
            if not waiter.done():
                waiter.set_result(outcome)
        if self._wake is not None:
            self._wake.set()  # the next message to that resident may go now

    async def run_once(self) -> int:
        """Make one attempt at every message due now (retries scheduled meanwhile wait for the
        next call) and wait for them; returns how many attempts were made.

        For scripts and tests; the server runs :meth:`start` instead.
        """
        await self._reclaim()
        total = 0
        now = time.time()
        while True:
            started = await self._round(due_by=now)
            total += started
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()))
            elif not started:
                return total

    async def wait_for(self, message_id: int, timeout: float) -> Message:
        """The message after its next attempt, or as it is after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.setdefault(message_id, []).append(waiter)
        try:
            current = await asyncio.to_thread(self.store.get, message_id)
            if current.status in FINAL or (current.status == PENDING and current.attempts > 0):
                return current
            if timeout > 0:
                try:
                    outcome = await asyncio.wait_for(asyncio.shield(waiter), timeout)
                    if outcome is not None:
                        return outcome
                except asyncio.TimeoutError:
                    pass
            return await asyncio.to_thread(self.store.get, message_id)
        finally:
            waiting = self._waiters.get(message_id)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    self._waiters.pop(message_id, None)

    # ------------------------------------------------------------ loop
    def wake(self) -> None:
        """Look for due messages now (callable from any thread)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _sleep(self) -> None:
        timeout = self.settings.interval
        try:
            due = await asyncio.to_thread(self.store.next_due)
            if due is not None:
                timeout = min(timeout, max(0.05, due - time.time()))
        except Exception:
            logger.debug("Could not read the next due time", exc_info=True)
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)  # type: ignore[union-attr]
        except asyncio.TimeoutError:
            pass

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # type: ignore[union-attr]
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Outbox round failed; retrying in %.0f s", self.settings.interval)
            await self._sleep()

    def start(self, app: Any = None) -> None:
        """Run the delivery loop on the current event loop (``app``: the server, for its transcripts)."""
        if app is not None:
            self._app = app
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop the loop; attempts under way are given a moment, then left to the lease."""
        await cancel(self._task)
        self._task = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)
        self._loop = None
