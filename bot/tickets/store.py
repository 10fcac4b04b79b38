"""The ticket store: every ticket operation goes through here.

Writes are short transactions. Ticket numbers are per day and type
(``BX-20261124-0007``), taken from a counter row that the allocating
transaction locks, so concurrent writers queue up and numbers stay dense and
unique; a unique (day, type, seq) constraint guards it. An optional idempotency
key makes a retried request return the ticket it already created.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.db import get_engine
from bot.settings import Community
from bot.tickets.models import (
    TRANSITIONS,
    Base,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketEvent,
    TicketStatus,
    TicketType,
    optional,
    ticket_number,
)

logger = logging.getLogger(__name__)

#: The columns that say where a ticket's problem is (:meth:`TicketStore.set_location`).
LOCATION_COLUMNS = ("location", "unit", "building", "entrance", "room", "area")

#: Callbacks run after a status change is committed: ``(ticket, event)``.
StatusListener = Callable[[Ticket, TicketEvent], None]


class TicketNotFound(LookupError):
    """No ticket has that number."""


class InvalidTransition(ValueError):
    """The requested status change is not allowed from the current status."""


class TicketStore:
    """Create, read and update tickets in a SQL database."""

    def __init__(self, engine: Engine, timezone: Optional[str] = None) -> None:
        self.engine = engine
        self.timezone = ZoneInfo(timezone or Community.read("timezone"))
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        self._listeners: List[StatusListener] = []
        Base.metadata.create_all(engine)

    @classmethod
    def from_env(cls) -> "TicketStore":
        """A store on ``DATABASE_URL`` (SQLite under ``var/`` by default)."""
        return cls(get_engine())

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call ``listener`` after every committed status change (e.g. to notify the resident)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------ create
    def create(
        self,
        *,
        ticket_type: str,
        channel: str,
        sender_id: str,
        description: str,
        language: str = "zh",
        unit: Optional[str] = None,
        category: Optional[str] = None,
        urgency: Optional[str] = None,
        phone: Optional[str] = None,
        location: Optional[str] = None,
        building: Optional[str] = None,
        entrance: Optional[str] = None,
        room: Optional[str] = None,
        area: Optional[str] = None,
        visit_time: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> Ticket:
        """Store a new ticket and return it with its number.

        With ``idempotency_key``, a second call with the same key returns the
        first ticket instead of creating another one. ``actor`` is who created it
        (the ``created`` event's actor): the reporter ``channel:sender_id`` unless
        staff filed it for a caller (``staff:<username>``).
        """
        kind = TicketType(ticket_type)
        for _attempt in range(10):
            if idempotency_key:
                existing = self._by_key(idempotency_key)
                if existing is not None:
                    return existing
            day = datetime.now(self.timezone).strftime("%Y%m%d")
            try:
                with self._sessions.begin() as session:
                    seq = self._next_seq(session, day, kind.value)
                    ticket = Ticket(
                        number=ticket_number(kind.value, day, seq),
                        type=kind.value,
                        day=day,
                        seq=seq,
                        status=TicketStatus.OPEN.value,
                        channel=channel,
                        sender_id=sender_id,
                        language=language,
                        unit=optional(unit),
                        category=optional(category),
                        urgency=optional(urgency),
                        description=description,
                        phone=optional(phone),
                        location=optional(location),
                        building=optional(building),
                        entrance=optional(entrance),
                        room=optional(room),
                        area=optional(area),
                        visit_time=optional(visit_time),
                        idempotency_key=optional(idempotency_key),
                    )
                    ticket.events.append(
                        TicketEvent(actor=actor or f"{channel}:{sender_id}", action="created",
                                    to_status=ticket.status)
                    )
                    session.add(ticket)
                logger.info("Created ticket %s for %s:%s", ticket.number, channel, sender_id)
                return ticket
            except IntegrityError:
                # Another writer created the day's counter first (or used this
                # idempotency key): retry after a short random pause.
                logger.debug("Ticket number race on %s, retrying", day)
                time.sleep(random.uniform(0.005, 0.05))
        raise RuntimeError("Could not allocate a ticket number after 10 attempts; is the database healthy?")

    @staticmethod
    def _next_seq(session: Session, day: str, ticket_type: str) -> int:
        """Take the next number of ``day`` for ``ticket_type`` (locks the counter row)."""
        where = (TicketCounter.day == day, TicketCounter.type == ticket_type)
        bumped = session.execute(update(TicketCounter).where(*where).values(last_seq=TicketCounter.last_seq + 1))
        if bumped.rowcount:
            return int(session.scalar(select(TicketCounter.last_seq).where(*where)))
        # First ticket of the day: continue after any ticket already stored.
        start = session.scalar(select(func.max(Ticket.seq)).where(Ticket.day == day, Ticket.type == ticket_type)) or 0
        session.add(TicketCounter(day=day, type=ticket_type, last_seq=start + 1))
        session.flush()  # a concurrent first ticket raises IntegrityError here → retry
        return start + 1

    def _by_key(self, key: str) -> Optional[Ticket]:
        with self._sessions() as session:
            return session.scalar(self._query().where(Ticket.idempotency_key == key))

    # ------------------------------------------------------------ read
    @staticmethod
    def _query():  # type: ignore[no-untyped-def]
        return select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.attachments))

    def get(self, number: str) -> Ticket:
        """The ticket with this number; raises :class:`TicketNotFound`."""
        with self._sessions() as session:
            ticket = session.scalar(self._query().where(Ticket.number == number.upper()))
        if ticket is None:
            raise TicketNotFound(number)
        return ticket

    def get_for_sender(self, number: str, channel: str, sender_id: str) -> Optional[Ticket]:
        """The ticket if this resident (channel + sender id) created it, else ``None``."""
        with self._sessions() as session:
            return session.scalar(
                self._query().where(
                    Ticket.number == number.upper(), Ticket.channel == channel, Ticket.sender_id == sender_id
                )
            )

    def list_for_sender(self, channel: str, sender_id: str, limit: int = 5) -> List[Ticket]:
        """A resident's most recent tickets, newest first."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    self._query()
                    .where(Ticket.channel == channel, Ticket.sender_id == sender_id)
                    .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                    .limit(limit)
                )
            )

    def latest_open_for_sender(self, channel: str, sender_id: str, ticket_type: str = "repair") -> Optional[Ticket]:
        """The resident's newest ticket that is not resolved or closed (to attach photos to)."""
        with self._sessions() as session:
            return session.scalar(
                self._query()
                .where(
                    Ticket.channel == channel,
                    Ticket.sender_id == sender_id,
                    Ticket.type == ticket_type,
                    Ticket.status.in_(
                        [TicketStatus.OPEN.value, TicketStatus.ASSIGNED.value, TicketStatus.IN_PROGRESS.value]
                    ),
                )
                .order_by(Ticket.id.desc())
                .limit(1)
            )

    def search(
        self,
        *,
        status: Optional[Sequence[str]] = None,
        ticket_type: Optional[str] = None,
        category: Optional[str] = None,
        unit: Optional[str] = None,
        building: Optional[str] = None,
        urgency: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        assignee: Optional[Sequence[str]] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> List[Ticket]:
        """Tickets matching every given filter, newest first (for the staff desk).

        ``assignee`` matches a ticket assigned to any of these names (a username, and the
        display name tickets assigned as free text before the desk's staff picker carry).
        """
        query = self._filtered(self._query(), status=status, ticket_type=ticket_type, category=category, unit=unit,
                               building=building, urgency=urgency, since=since, until=until, assignee=assignee)
        query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
        with self._sessions() as session:
            return list(session.scalars(query))

    def count(self, **filters: Any) -> int:
        """How many tickets match the filters of :meth:`search` (for paging)."""
        query = self._filtered(select(func.count()).select_from(Ticket), **filters)
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    @staticmethod
    def _filtered(query: Any, *, status: Optional[Sequence[str]] = None, ticket_type: Optional[str] = None,
                  category: Optional[str] = None, unit: Optional[str] = None, building: Optional[str] = None,
                  urgency: Optional[str] = None, since: Optional[datetime] = None,
                  until: Optional[datetime] = None, assignee: Optional[Sequence[str]] = None) -> Any:
        if status:
            query = query.where(Ticket.status.in_(list(status)))
        if ticket_type:
            query = query.where(Ticket.type == ticket_type)
        if category:
            query = query.where(Ticket.category == category)
        if unit:
            query = query.where(Ticket.unit.contains(unit) | Ticket.location.contains(unit))
        if building:
            query = query.where(Ticket.building == building.strip().upper())
        if urgency:
            query = query.where(Ticket.urgency == urgency)
        if since:
            query = query.where(Ticket.created_at >= since)
        if until:
            query = query.where(Ticket.created_at < until)
        if assignee:
            query = query.where(Ticket.assignee.in_(list(assignee)))
        return query

    # ------------------------------------------------------------ update
    def change_status(self, number: str, status: str, actor: str, note: Optional[str] = None) -> Ticket:
        """Move a ticket to ``status``, recording who did it and why."""
        target = TicketStatus(status)
        with self._sessions.begin() as session:
            ticket = self._locked(session, number)
            current = TicketStatus(ticket.status)
            if target not in TRANSITIONS[current]:
                raise InvalidTransition(f"{number}: {current.value} → {target.value} is not allowed")
            ticket.status = target.value
            event = TicketEvent(
                actor=actor, action="status", from_status=current.value, to_status=target.value, note=note
            )
            ticket.events.append(event)
        ticket = self.get(number)
        for listener in self._listeners:
            try:
                listener(ticket, event)
            except Exception:  # a failing notifier must not undo a committed change
                logger.exception("Status listener failed for %s", number)
        return ticket

    def assign(self, number: str, assignee: str, actor: str, note: Optional[str] = None) -> Ticket:
        """Give a ticket to a staff member; an open ticket becomes ``assigned``."""
        with self._sessions.begin() as session:
            ticket = self._locked(session, number)
            if ticket.status == TicketStatus.CLOSED.value:
                raise InvalidTransition(f"{number} is closed")
            ticket.assignee = assignee
            from_status = ticket.status
            if ticket.status == TicketStatus.OPEN.value:
                ticket.status = TicketStatus.ASSIGNED.value
            ticket.events.append(
                TicketEvent(
                    actor=actor, action="assigned", from_status=from_status, to_status=ticket.status,
                    note=note or assignee,
                )
            )
        return self.get(number)

    def set_location(self, number: str, actor: str, fields: Dict[str, Any], note: Optional[str] = None) -> Ticket:
        """Record where the ticket's problem is (the location columns of ``fields``), with a history entry.

        ``fields`` as :func:`actions.places.ticket_fields` gives them; columns it leaves out
        are cleared, so a flat replacing a public place keeps no stale ``area``.
        """
        unknown = set(fields) - set(LOCATION_COLUMNS)
        if unknown:
            raise ValueError(f"not location columns: {sorted(unknown)}")
        with self._sessions.begin() as session:
            ticket = self._locked(session, number)
            if ticket.status == TicketStatus.CLOSED.value:
                raise InvalidTransition(f"{number} is closed")
            for column in LOCATION_COLUMNS:
                setattr(ticket, column, fields.get(column))
            ticket.events.append(TicketEvent(actor=actor, action="location", note=note or fields.get("location")))
        return self.get(number)

    def add_note(self, number: str, actor: str, note: str) -> Ticket:
        """Append a free-text note to a ticket's history."""
        with self._sessions.begin() as session:
            ticket = self._locked(session, number)
            ticket.events.append(TicketEvent(actor=actor, action="note", note=note))
        return self.get(number)

    def add_attachment(self, number: str, ref: str, actor: str, kind: str = "image") -> Ticket:
        """Attach a photo or file (by URL, media id or path) to a ticket."""
        with self._sessions.begin() as session:
            ticket = self._locked(session, number)
            ticket.attachments.append(TicketAttachment(kind=kind, ref=ref))
            ticket.events.append(TicketEvent(actor=actor, action="attachment", note=ref))
        return self.get(number)

    def _locked(self, session: Session, number: str) -> Ticket:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number.upper()).with_for_update())
        if ticket is None:
            raise TicketNotFound(number)
        return ticket
