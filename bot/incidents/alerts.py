"""Early warning (预警): repair tickets that cluster raise one alert proposing an incident.

A cluster is at least ``LINLI_INCIDENT_CLUSTER_SIZE`` repair tickets of one category in one
building created within ``LINLI_INCIDENT_CLUSTER_HOURS`` (default 3 within 2 hours). The
server's incident loop (:mod:`bot.incidents.service`) runs :meth:`AlertStore.detect`; every
replica may run it at the same time:

- a new alert is an ``INSERT`` whose ``open_key`` (``"<category>:<building>"``) is unique while
  the alert is open, so one replica's insert wins and the others see an ``IntegrityError``;
- while an alert is open, later tickets of the same cluster are added to it (no second alert);
- once staff dismissed it or declared an incident from it, only tickets newer than its last
  one can form the next cluster;
- no alert is raised for a category and building that an active incident already explains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.incidents.models import (
    ALERT_STATUSES, CATEGORY_KIND, DECLARED, DISMISSED, OPEN, alerts_table as at, as_utc, metadata, utcnow,
)
from bot.incidents.store import IncidentError, IncidentStore
from bot.tickets.models import Ticket


class AlertNotFound(LookupError):
    """No alert with that id."""


@dataclass(frozen=True)
class Alert:
    """One early-warning alert."""

    id: int
    category: str
    building: str
    status: str
    ticket_count: int
    ticket_numbers: List[str]
    first_ticket_at: datetime
    last_ticket_at: datetime
    created_at: datetime
    handled_by: Optional[str]
    handled_at: Optional[datetime]
    incident_id: Optional[int]

    @classmethod
    def from_row(cls, row: Any) -> "Alert":
        m = row._mapping
        return cls(id=m["id"], category=m["category"], building=m["building"], status=m["status"],
                   ticket_count=m["ticket_count"], ticket_numbers=json.loads(m["ticket_numbers"] or "[]"),
                   first_ticket_at=as_utc(m["first_ticket_at"]), last_ticket_at=as_utc(m["last_ticket_at"]),
                   created_at=as_utc(m["created_at"]), handled_by=m["handled_by"],
                   handled_at=as_utc(m["handled_at"]), incident_id=m["incident_id"])

    def proposal(self) -> Dict[str, Any]:
        """The incident this alert proposes: kind from the category, the building, draft titles."""
        kind = CATEGORY_KIND.get(self.category, "other")
        zh = {"water": "停水/漏水", "power": "停电", "lift": "电梯故障"}.get(kind, "集中报修")
        en = {"water": "Water outage / leak", "power": "Power cut", "lift": "Lift out of service"}.get(
            kind, "Cluster of repair reports")
        return {"kind": kind, "buildings": [self.building], "community_wide": False,
                "title_zh": f"{self.building}号楼{zh}", "title_en": f"Building {self.building}: {en}"}

    def as_dict(self) -> Dict[str, Any]:
        iso = lambda value: value.isoformat() if value else None  # noqa: E731
        return {"id": self.id, "category": self.category, "building": self.building, "status": self.status,
                "ticket_count": self.ticket_count, "ticket_numbers": self.ticket_numbers,
                "first_ticket_at": iso(self.first_ticket_at), "last_ticket_at": iso(self.last_ticket_at),
                "created_at": iso(self.created_at), "handled_by": self.handled_by,
                "handled_at": iso(self.handled_at), "incident_id": self.incident_id, "proposal": self.proposal()}


def _open_key(category: str, building: str) -> str:
    return f"{category}:{building}"[:64]


class AlertStore:
    """Early-warning alerts on one engine (with the ticket tables beside them)."""

    def __init__(self, engine: Engine, incidents: Optional[IncidentStore] = None) -> None:
        from bot.tickets.models import Base

        self.engine = engine
        Base.metadata.create_all(engine)
        metadata.create_all(engine)
        self.incidents = incidents or IncidentStore(engine)

    # ------------------------------------------------------------ reading
    def get(self, alert_id: int) -> Alert:
        with self.engine.connect() as conn:
            row = conn.execute(select(at).where(at.c.id == alert_id)).first()
        if row is None:
            raise AlertNotFound(alert_id)
        return Alert.from_row(row)

    def list(self, status: Optional[Sequence[str]] = (OPEN,), limit: int = 100) -> List[Alert]:
        """Alerts, newest first (open ones by default)."""
        query = select(at)
        if status:
            query = query.where(at.c.status.in_(list(status)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(at.c.id.desc()).limit(limit)).all()
        return [Alert.from_row(r) for r in rows]

    # ------------------------------------------------------------ detection
    def _recent_tickets(self, since: datetime) -> Dict[Tuple[str, str], List[Tuple[str, datetime]]]:
        query = (select(Ticket.number, Ticket.category, Ticket.building, Ticket.created_at)
                 .where(Ticket.type == "repair", Ticket.created_at >= since, Ticket.category.is_not(None),
                        Ticket.building.is_not(None)).order_by(Ticket.created_at, Ticket.id))
        groups: Dict[Tuple[str, str], List[Tuple[str, datetime]]] = {}
        with self.engine.connect() as conn:
            for number, category, building, created in conn.execute(query):
                if category and building:
                    groups.setdefault((category, building), []).append((number, as_utc(created)))
        return groups

    def _latest(self, conn: Any, category: str, building: str) -> Optional[Alert]:
        row = conn.execute(select(at).where(at.c.category == category, at.c.building == building)
                           .order_by(at.c.id.desc()).limit(1)).first()
        return Alert.from_row(row) if row is not None else None

    def detect(self, size: int, window_hours: float, now: Optional[datetime] = None) -> List[Alert]:
        """Raise an alert for each new cluster (see the module docstring); returns the alerts raised."""
        now = now or utcnow()
        since = now - timedelta(hours=window_hours)
        active = self.incidents.active(now)
        raised: List[Alert] = []
        for (category, building), tickets in self._recent_tickets(since).items():
            if len(tickets) < size:
                continue
            if any(i.explains(category) and i.affects(building) for i in active):
                continue  # declared already: those reports are the incident
            with self.engine.connect() as conn:
                latest = self._latest(conn, category, building)
            if latest is not None and latest.status == OPEN:
                self._extend(latest, tickets)
                continue
            fresh = [t for t in tickets if latest is None or t[1] > latest.last_ticket_at]
            if len(fresh) < size:
                continue
            alert = self._raise(category, building, fresh, now)
            if alert is not None:
                raised.append(alert)
        return raised

    def _raise(self, category: str, building: str, tickets: List[Tuple[str, datetime]],
               now: datetime) -> Optional[Alert]:
        try:
            with self.engine.begin() as conn:
                alert_id = conn.execute(insert(at).values(
                    category=category, building=building, status=OPEN, open_key=_open_key(category, building),
                    ticket_count=len(tickets), ticket_numbers=json.dumps([n for n, _ in tickets]),
                    first_ticket_at=tickets[0][1], last_ticket_at=tickets[-1][1], created_at=now,
                )).inserted_primary_key[0]
        except IntegrityError:
            return None  # another replica raised this cluster's alert a moment ago
        return self.get(int(alert_id))

    def _extend(self, alert: Alert, tickets: List[Tuple[str, datetime]]) -> None:
        """Add the cluster's later tickets to its open alert."""
        numbers = list(alert.ticket_numbers)
        last = alert.last_ticket_at
        for number, created in tickets:
            if number not in numbers and created >= alert.first_ticket_at:
                numbers.append(number)
                last = max(last, created)
        if len(numbers) == len(alert.ticket_numbers):
            return
        with self.engine.begin() as conn:
            conn.execute(update(at).where(at.c.id == alert.id, at.c.status == OPEN).values(
                ticket_numbers=json.dumps(numbers), ticket_count=len(numbers), last_ticket_at=last))

    # ------------------------------------------------------------ staff decisions
    def _close(self, alert_id: int, status: str, actor: str, incident_id: Optional[int] = None) -> Alert:
        with self.engine.begin() as conn:
            done = conn.execute(update(at).where(at.c.id == alert_id, at.c.status == OPEN).values(
                status=status, open_key=None, handled_by=actor[:64], handled_at=utcnow(), incident_id=incident_id))
        if not done.rowcount:
            alert = self.get(alert_id)  # AlertNotFound when there is none
            raise IncidentError("alert_closed", f"This alert is already {alert.status}.", status=409)
        return self.get(alert_id)

    def dismiss(self, alert_id: int, actor: str) -> Alert:
        """Staff judged the cluster a coincidence."""
        return self._close(alert_id, DISMISSED, actor)

    def declare(self, alert_id: int, data: Dict[str, Any], actor: str) -> Tuple[Any, Alert]:
        """Declare the incident an open alert proposes (``data`` overrides the proposal) and link
        the cluster's reporters to it; returns ``(incident, alert)``."""
        alert = self.get(alert_id)
        if alert.status != OPEN:
            raise IncidentError("alert_closed", f"This alert is already {alert.status}.", status=409)
        proposal = {**alert.proposal(), **(data or {})}
        incident = self.incidents.declare(proposal, actor, alert_id=alert.id)
        try:
            closed = self._close(alert_id, DECLARED, actor, incident.id)
        except IncidentError:  # someone else handled it meanwhile: keep one incident
            self.incidents.delete(incident.id)
            raise
        self._link_tickets(incident.id, alert.ticket_numbers)
        return self.incidents.get(incident.id), closed

    def _link_tickets(self, incident_id: int, numbers: List[str]) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(Ticket.number, Ticket.channel, Ticket.sender_id, Ticket.language)
                                .where(Ticket.number.in_(numbers))).all()
        for number, channel, sender, language in rows:
            self.incidents.link(incident_id, "reported", channel, sender, language or "zh", ticket_number=number)


def alert_status_filter(value: Optional[str]) -> List[str]:
    """``?status=open`` (default), ``dismissed``, ``declared``, comma-separated, or ``all``."""
    if value == "all":
        return []
    wanted = [v.strip() for v in (value or OPEN).split(",") if v.strip()]
    if any(v not in ALERT_STATUSES for v in wanted):
        raise IncidentError("bad_status", f"status must be {', '.join(ALERT_STATUSES)} or all.")
    return wanted
