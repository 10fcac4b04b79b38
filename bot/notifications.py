"""Proactive notifications: when a ticket's status changes, the resident is
told on the channel the ticket came from, in the ticket's language.

How it works
------------
Every status change is a ``ticket_events`` row (``action`` ``status``, or an
``assigned`` that moved the ticket). The server process runs a
:class:`Notifier` (started by :func:`bot.server.services`) that picks up new rows and queues one message per
event in the outbox (:mod:`bot.outbox`, dedupe key ``ticket-event:<id>``, so a
notification is queued once even with several processes or after a restart),
then records the event in ``notification_log`` so it is not looked at again.
The outbox worker delivers it with :func:`bot.outbound.send_text`, retries while
the channel is down, and appends the delivered text to the resident's
transcript (metadata ``{"notification": <ticket number>}``). Changes made by any
process (staff desk, scripts, the action server) are therefore delivered.

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
import time
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot import outbox
from bot.db import get_engine
from bot.outbox.store import OutboxStore
from bot.responses import render
from bot.satisfaction.asking import buttons, remember, ticket_prompt
from bot.satisfaction.store import SatisfactionStore
from bot.tasks import cancel
from bot.settings import Notifications
from bot.tickets.labels import label
from bot.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

metadata = MetaData()

notification_log = Table(
    "notification_log",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=False),  # ticket_events.id (0: start marker)
    Column("ticket_number", String(32)),
    Column("outcome", String(255), nullable=False),  # queued:<outbox id> | skipped | baseline (older: sent...)
    Column("at", Float, nullable=False),
)


def status_message(ticket: Ticket, event: TicketEvent) -> str:
    """The resident's notification for ``event`` on ``ticket``, in the ticket's language."""
    lang = "en" if (ticket.language or "").startswith("en") else "zh"
    lines = [render("utter_ticket_update", lang, type=label("type", ticket.type, lang), number=ticket.number,
                    status=label("status", event.to_status, lang))]
    if event.note and event.action == "status":
        lines.append(render("utter_ticket_update_note", lang, note=event.note))
    if event.to_status == "resolved":
        lines.append(render("utter_ticket_resolved_hint", lang))
    return "\n".join(lines)


def ticket_template(ticket: Ticket, event: TicketEvent) -> Dict[str, Any]:
    """The ``ticket_update`` template message for ``event`` (sent where a channel needs one: WeChat
    outside its customer-service window, :mod:`bot.channels.wechat_delivery`), in the ticket's language."""
    from bot.channels.wechat_delivery import format_time

    lang = "en" if (ticket.language or "").startswith("en") else "zh"
    return {"name": "ticket_update", "fields": {
        "number": ticket.number, "type": label("type", ticket.type, lang),
        "status": label("status", event.to_status, lang),
        "note": event.note if event.note and event.action == "status" else "",
        "time": format_time(event.at),
    }}


def _is_notifiable(event: TicketEvent) -> bool:
    if event.action == "status":
        return True
    # Assigning an open ticket moves it to "assigned"; re-assigning does not change the status.
    return event.action == "assigned" and bool(event.to_status) and event.from_status != event.to_status


class Notifier:
    """Queues each status change recorded in ``ticket_events`` in the outbox exactly once."""

    def __init__(self, engine: Engine, interval: float = 3.0) -> None:
        from bot.tickets.models import Base

        self.engine = engine
        self.interval = interval
        Base.metadata.create_all(engine)  # tickets tables, in case no ticket was written yet
        metadata.create_all(engine)
        self.outbox = OutboxStore(engine)
        self.ratings = SatisfactionStore(engine)
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

    def record(self, event_id: int, ticket_number: Optional[str], outcome: str) -> bool:
        """Note that ``event_id`` was handled; ``False`` if another process noted it first."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(notification_log).values(
                        event_id=event_id, ticket_number=ticket_number, outcome=outcome[:255], at=time.time()
                    )
                )
            return True
        except IntegrityError:
            return False

    def enqueue(self, ticket: Ticket, event: TicketEvent, rating: Optional[Tuple[Any, str]] = None) -> int:
        """Queue the resident's message for ``event`` (once: the dedupe key is the event); its outbox id.

        ``rating``: the satisfaction request and prompt of a resolved ticket (:meth:`rating_prompt`),
        appended to the message with buttons 1–5 (where the channel has them).
        """
        text, payload = status_message(ticket, event), {"template": ticket_template(ticket, event)}
        if rating is not None:
            text, payload = f"{text}\n{rating[1]}", {**payload, "buttons": buttons()}
        message_id, _created = self.outbox.enqueue(
            ticket.channel, ticket.sender_id, text, "notification", dedupe_key=f"ticket-event:{event.id}",
            payload=payload, transcript={"notification": ticket.number},
        )
        return message_id

    def rating_prompt(self, ticket: Ticket, event: TicketEvent) -> Optional[Tuple[Any, str]]:
        """For a ticket resolved by ``event``: its rating request and prompt (once per ticket,
        :func:`bot.satisfaction.asking.ticket_prompt`), else ``None``."""
        if event.to_status != "resolved":
            return None
        try:
            return ticket_prompt(self.ratings, ticket, f"ticket-event:{event.id}")
        except Exception:  # the status notification goes out without the prompt
            logger.exception("Could not ask for a rating of %s", ticket.number)
            return None

    # ------------------------------------------------------------ async loop
    async def run_once(self) -> int:
        """Queue every pending notification in the outbox; returns how many events were handled.

        The outbox row comes first and the log row second: a crash in between queues
        nothing twice (the dedupe key) and loses nothing (the event is still pending).
        """
        handled = queued = 0
        for ticket, event in await asyncio.to_thread(self.pending):
            if not _is_notifiable(event):
                handled += await asyncio.to_thread(self.record, event.id, ticket.number, "skipped")
                continue
            rating = await asyncio.to_thread(self.rating_prompt, ticket, event)
            if rating is not None:  # the slot first, so that the resident's answer always finds it
                await remember(getattr(getattr(self._app, "ctx", None), "agent", None), rating[0])
            message_id = await asyncio.to_thread(self.enqueue, ticket, event, rating)
            queued += 1
            if await asyncio.to_thread(self.record, event.id, ticket.number, f"queued:{message_id}"):
                handled += 1
                logger.info("Queued the notification that %s is %s (outbox %s)", ticket.number, event.to_status,
                            message_id)
        if queued:
            outbox.wake()
        return handled

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
        """Run the loop that queues notifications on the current event loop."""
        self._app = app
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop the loop."""
        await cancel(self._task)


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    """The process-wide notifier on ``DATABASE_URL``."""
    return Notifier(get_engine(), interval=Notifications.read("interval"))


def register_notifications(store: Any) -> None:
    """Make ``store``'s status changes reach residents right away (see the module docstring)."""
    store.add_status_listener(lambda _ticket, _event: notifier().wake())


async def start(app: Any) -> None:
    """Start the process-wide notifier (a step of :func:`bot.server.services`)."""
    notifier().start(app)


async def stop(_app: Any) -> None:
    """Stop it before shutdown."""
    await notifier().stop()
