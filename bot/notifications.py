"""Proactive notifications: when a ticket's status changes, the resident is
told on the channel the ticket came from, in the ticket's language.

How it works
------------
Every status change is a ``ticket_events`` row (``action`` ``status``, or an
``assigned`` that moved the ticket). The server process runs a
:class:`Notifier` (started by :data:`blueprint`, mounted in
:func:`bot.web.blueprints`) that picks up new rows, claims each one in
``notification_log`` (unique per event, so a notification is sent once even
with several processes or after a restart) and sends the message with
:func:`bot.outbound.send_text`. Changes made by any process (staff desk,
scripts, the action server) are therefore delivered.

For immediate delivery, code that changes statuses in the server process calls
:func:`register_notifications` once on its :class:`~bot.tickets.TicketStore`::

    from bot.notifications import register_notifications
    store = TicketStore.from_env()
    register_notifications(store)      # wakes the notifier right after each change

Without it, the change is still delivered at the next poll
(``LINLI_NOTIFY_INTERVAL`` seconds, default 3).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from functools import lru_cache
from typing import Any, List, Optional, Tuple

from sanic import Blueprint
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rasa.shared.core.events import BotUttered

from bot.channels.identity import resident_id
from bot.conversations import append_events
from bot.db import get_engine
from bot.outbound import DeliveryError, send_text
from bot.settings import redact
from bot.tickets.labels import label
from bot.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

metadata = MetaData()

notification_log = Table(
    "notification_log",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=False),  # ticket_events.id (0: start marker)
    Column("ticket_number", String(32)),
    Column("outcome", String(255), nullable=False),  # sent | undeliverable: ... | failed: ... | baseline
    Column("at", Float, nullable=False),
)

MESSAGES = {
    "zh": "您的{type}工单 {number} 状态已更新为：{status}。",
    "en": "Update on your {type} ticket {number}: it is now {status}.",
}
NOTE = {"zh": "备注：{note}", "en": "Note: {note}"}
RESOLVED_HINT = {
    "zh": "如果问题仍未解决，请直接回复告诉我们。",
    "en": "If the problem isn't fixed, just reply here to tell us.",
}


def status_message(ticket: Ticket, event: TicketEvent) -> str:
    """The resident's notification for ``event`` on ``ticket``, in the ticket's language."""
    lang = "en" if (ticket.language or "").startswith("en") else "zh"
    lines = [
        MESSAGES[lang].format(
            type=label("type", ticket.type, lang),
            number=ticket.number,
            status=label("status", event.to_status, lang),
        )
    ]
    if event.note and event.action == "status":
        lines.append(NOTE[lang].format(note=event.note))
    if event.to_status == "resolved":
        lines.append(RESOLVED_HINT[lang])
    return "\n".join(lines)


def _is_notifiable(event: TicketEvent) -> bool:
    if event.action == "status":
        return True
    # Assigning an open ticket moves it to "assigned"; re-assigning does not change the status.
    return event.action == "assigned" and bool(event.to_status) and event.from_status != event.to_status


class Notifier:
    """Delivers status changes recorded in ``ticket_events`` exactly once."""

    def __init__(self, engine: Engine, interval: float = 3.0) -> None:
        from bot.tickets.models import Base

        self.engine = engine
        self.interval = interval
        Base.metadata.create_all(engine)  # tickets tables, in case no ticket was written yet
        metadata.create_all(engine)
        self._wake: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._app: Any = None
        self._task: Optional[asyncio.Task] = None
        self.baseline = self._baseline()

    def _baseline(self) -> int:
        """The last event that happened before notifications were first started: never announced.

        Stored once as the marker row ``event_id = 0`` (event ids start at 1).
        """
        marker = select(notification_log.c.ticket_number).where(notification_log.c.event_id == 0)
        with self.engine.connect() as conn:
            stored = conn.scalar(marker)
            latest = conn.scalar(select(func.max(TicketEvent.id))) or 0
        if stored is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(notification_log).values(
                            event_id=0, ticket_number=str(latest), outcome="baseline", at=time.time()
                        )
                    )
            except IntegrityError:  # another process wrote it first: use theirs
                pass
            with self.engine.connect() as conn:
                stored = conn.scalar(marker)
        return int(stored)

    # ------------------------------------------------------------ sync DB work
    def pending(self, limit: int = 50) -> List[Tuple[Ticket, TicketEvent]]:
        """Status events not yet handled, oldest first."""
        from sqlalchemy.orm import Session

        done = select(notification_log.c.event_id)
        with Session(self.engine) as session:
            events = list(
                session.scalars(
                    select(TicketEvent)
                    .where(
                        TicketEvent.id > self.baseline,
                        TicketEvent.action.in_(["status", "assigned"]),
                        TicketEvent.id.not_in(done),
                    )
                    .order_by(TicketEvent.id)
                    .limit(limit)
                )
            )
            rows = [(event.ticket, event) for event in events]
            session.expunge_all()
        return rows

    def claim(self, event: TicketEvent, ticket: Ticket) -> bool:
        """Record that this process handles ``event``; ``False`` if another already did."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(notification_log).values(
                        event_id=event.id, ticket_number=ticket.number, outcome="sending", at=time.time()
                    )
                )
            return True
        except IntegrityError:
            return False

    def record(self, event_id: int, outcome: str) -> None:
        """Store how the delivery went."""
        with self.engine.begin() as conn:
            conn.execute(
                notification_log.update().where(notification_log.c.event_id == event_id).values(outcome=outcome[:255])
            )

    # ------------------------------------------------------------ async loop
    async def run_once(self) -> int:
        """Send every pending notification; returns how many were handled."""
        handled = 0
        for ticket, event in await asyncio.to_thread(self.pending):
            if not await asyncio.to_thread(self.claim, event, ticket):
                continue
            handled += 1
            if not _is_notifiable(event):
                await asyncio.to_thread(self.record, event.id, "skipped")
                continue
            message = status_message(ticket, event)
            try:
                await send_text(ticket.channel, ticket.sender_id, message)
                await self._record(resident_id(ticket.channel, ticket.sender_id), message, ticket.number)
                outcome = "sent"
                logger.info("Told %s:%s that %s is %s", ticket.channel, ticket.sender_id, ticket.number, event.to_status)
            except DeliveryError as exc:
                outcome = f"undeliverable: {exc}"  # DeliveryError texts are redacted already
                logger.warning("Could not notify about %s: %s", ticket.number, outcome)
            except Exception as exc:  # never let one bad message stop the loop
                outcome = redact(f"failed: {type(exc).__name__}: {exc}")
                logger.exception("Notification for %s failed", ticket.number)
            await asyncio.to_thread(self.record, event.id, outcome)
        return handled

    async def _record(self, sender_id: str, text: str, number: str) -> None:
        """Keep the delivered notification in the conversation's transcript."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return
        try:
            await append_events(agent, sender_id, [BotUttered(text, metadata={"notification": number})])
        except Exception:  # delivered already; a missing transcript line must not fail the loop
            logger.exception("Could not record the notification for %s in its transcript", number)

    def wake(self) -> None:
        """Look for new status changes now (callable from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Notification round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)  # type: ignore[union-attr]
            except asyncio.TimeoutError:
                pass
            self._wake.clear()  # type: ignore[union-attr]

    def start(self, app: Any = None) -> None:
        """Run the delivery loop on the current event loop (``app``: the server, for its transcripts)."""
        self._app = app
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop the delivery loop."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    """The process-wide notifier on ``DATABASE_URL``."""
    return Notifier(get_engine(), interval=float(os.environ.get("LINLI_NOTIFY_INTERVAL", "3")))


def register_notifications(store: Any) -> None:
    """Make ``store``'s status changes reach residents right away (see the module docstring)."""
    store.add_status_listener(lambda _ticket, _event: notifier().wake())


blueprint = Blueprint("linli_notifications")


@blueprint.listener("after_server_start")
async def _start(app: Any, _loop: Any) -> None:
    notifier().start(app)


@blueprint.listener("before_server_stop")
async def _stop(_app: Any, _loop: Any) -> None:
    await notifier().stop()
