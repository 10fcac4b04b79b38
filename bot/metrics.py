"""Prometheus metrics of a Linli process (served at ``GET /metrics``, :mod:`bot.web.metrics`).

Counted where things happen (each replica counts its own work; Prometheus sums them):

- ``linli_messages_total{channel}``: resident messages (:func:`observe_user_event`, fed by
  the event-broker consumer through :func:`observe_event`);
- ``linli_nlu_confidence``: confidence of the top intent of each message (histogram);
- ``linli_nlu_fallbacks_total{channel}``: messages NLU did not understand (``nlu_fallback``);
- ``linli_turn_seconds{channel}``: message in → answer out (:func:`observe_turn`);
- ``linli_delivery_failures_total{channel,kind}``: failed delivery attempts (:func:`delivery_failed`,
  called by the outbox worker);
- ``linli_action_seconds{action}``: custom actions run by the action server.

Read from the database when scraped (cached for ``LINLI_METRICS_CACHE_SECONDS``, 15 s, so
that several replicas and Prometheus servers do not hammer it). Every replica reports the
same values: aggregate with ``max``, not ``sum``:

- ``linli_handoffs_waiting{status}``: conversations queued for staff / being handled;
- ``linli_handoff_oldest_queued_seconds``: how long the longest-waiting resident has waited;
- ``linli_tickets{type,status}``: tickets by type and status;
- ``linli_outbox_messages{status}`` and ``linli_outbox_dead_letters``: when an ``outbox``
  table exists (messages waiting for delivery, and those given up on);
- ``linli_database_up``: 1 when those queries succeeded, 0 when the database did not answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.settings import Operations

logger = logging.getLogger(__name__)

disable_created_metrics()  # no *_created series: they double the output and no dashboard reads them

#: Seconds a turn takes on CPU: from a greeting (~0.2 s) to a knowledge-base answer by the local LLM.
TURN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
ACTION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

MESSAGES = Counter("linli_messages", "Resident messages received", ["channel"])
FALLBACKS = Counter("linli_nlu_fallbacks", "Resident messages NLU did not understand (nlu_fallback)", ["channel"])
NLU_CONFIDENCE = Histogram("linli_nlu_confidence", "Confidence of the top intent of resident messages",
                           buckets=CONFIDENCE_BUCKETS)
TURN_SECONDS = Histogram("linli_turn_seconds", "Seconds from a resident message to the bot's answer",
                         ["channel"], buckets=TURN_BUCKETS)
DELIVERY_FAILURES = Counter("linli_delivery_failures", "Messages to residents that could not be delivered",
                            ["channel", "kind"])
ACTION_SECONDS = Histogram("linli_action_seconds", "Seconds the action server took per custom action",
                           ["action"], buckets=ACTION_BUCKETS)

FALLBACK_INTENT = "nlu_fallback"
#: Statuses of an ``outbox`` row that mean "given up" (the outbox module's names, read defensively).
DEAD_STATUSES = ("dead", "dead_letter", "dead_lettered", "failed")
_LABEL = re.compile(r"[^a-z0-9_]+")


def _label(value: Any, default: str = "unknown", length: int = 32) -> str:
    """A short, bounded label value (lowercase ``[a-z0-9_]``, at most ``length`` characters)."""
    text = _LABEL.sub("_", str(value or "").strip().lower()).strip("_")[:length]
    return text or default


def _channel(value: Any) -> str:
    """The channel label: a known channel's name, else ``other`` (labels must stay few)."""
    from bot.channels.identity import CHANNELS, UNKNOWN

    name = _label(value, UNKNOWN)
    return name if name in CHANNELS or name == UNKNOWN else "other"


def observe_user_event(event: Mapping[str, Any]) -> None:
    """Count one resident message from a Rasa ``user`` tracker event (its ``as_dict()`` form).

    Counts it per ``input_channel``, records the top intent's confidence, and counts a
    fallback when the intent is ``nlu_fallback``. Other events are ignored, and a
    malformed one never raises (metrics must not break a conversation).
    """
    try:
        if event.get("event") not in (None, "user"):
            return
        channel = _channel(event.get("input_channel"))
        MESSAGES.labels(channel).inc()
        intent = ((event.get("parse_data") or {}).get("intent")) or {}
        confidence = intent.get("confidence")
        if isinstance(confidence, (int, float)):
            NLU_CONFIDENCE.observe(max(0.0, min(1.0, float(confidence))))
        if intent.get("name") == FALLBACK_INTENT:
            FALLBACKS.labels(channel).inc()
    except Exception:  # pragma: no cover - defensive: never let a metric break a turn
        logger.debug("Could not count a user event", exc_info=True)


async def observe_event(event: Mapping[str, Any]) -> None:
    """Event-broker handler (:mod:`bot.broker`): counts ``user`` events, ignores the rest.

    Each event reaches one replica's consumer, so the cluster counts each message once.
    """
    if event.get("event") == "user":
        observe_user_event(event)


def observe_turn(channel: str, seconds: float) -> None:
    """Record how long one turn took on ``channel`` (message in → answer out)."""
    TURN_SECONDS.labels(_channel(channel)).observe(max(0.0, seconds))


def delivery_failed(channel: str, kind: str) -> None:
    """Count one failed attempt to deliver a message to a resident on ``channel``.

    ``kind`` says what failed: the outbox passes the message kind (``notification``,
    ``agent_reply``…); a channel may pass a short reason (``timeout``). Normalised to
    ``[a-z0-9_]``, at most 32 characters.
    """
    DELIVERY_FAILURES.labels(_channel(channel), _label(kind)).inc()


def observe_action(action: str, seconds: float) -> None:
    """Record how long the action server took for ``action`` (a name it has registered)."""
    ACTION_SECONDS.labels(_label(action, "other", 64)).observe(max(0.0, seconds))


# ------------------------------------------------------------------ scrape-time gauges
def cache_seconds() -> float:
    """``LINLI_METRICS_CACHE_SECONDS`` (15): how long database figures are reused."""
    try:
        return max(0.0, Operations.read("metrics_cache_seconds"))
    except ValueError:  # a malformed value: the default, as always (the scrape must not fail)
        return Operations.metrics_cache_seconds


def _as_utc(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite without type affinity
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def database_figures(engine: Any, now: Optional[datetime] = None) -> Dict[str, Any]:
    """Count handoffs, tickets and outbox rows in ``engine``'s database (one short read each).

    A table that does not exist yet (nothing was ever handed off, no outbox module)
    contributes nothing rather than an error.
    """
    from sqlalchemy import func, inspect, select

    from bot.handoff.models import ACTIVE_STATUSES, Handoff, HandoffStatus
    from bot.tickets.models import Ticket, TicketStatus, TicketType

    now = now or datetime.now(timezone.utc)
    tables = set(inspect(engine).get_table_names())
    figures: Dict[str, Any] = {"handoffs": {}, "oldest_queued": None, "tickets": {}, "outbox": None}
    with engine.connect() as connection:
        if Handoff.__tablename__ in tables:
            rows = connection.execute(select(Handoff.status, func.count()).where(Handoff.status.in_(ACTIVE_STATUSES))
                                      .group_by(Handoff.status)).all()
            figures["handoffs"] = {status: 0 for status in ACTIVE_STATUSES} | {s: n for s, n in rows}
            oldest = connection.execute(select(func.min(Handoff.created_at))
                                        .where(Handoff.status == HandoffStatus.QUEUED.value)).scalar()
            oldest = _as_utc(oldest)
            figures["oldest_queued"] = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        if Ticket.__tablename__ in tables:
            counts = {(t.value, s.value): 0 for t in TicketType for s in TicketStatus}
            for kind, status, count in connection.execute(
                    select(Ticket.type, Ticket.status, func.count()).group_by(Ticket.type, Ticket.status)):
                counts[(kind, status)] = count
            figures["tickets"] = counts
        if "outbox" in tables:
            figures["outbox"] = _outbox_figures(connection, inspect(engine).get_columns("outbox"))
    return figures


def _outbox_figures(connection: Any, columns: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Rows of the ``outbox`` table by status, and how many are dead letters.

    The outbox belongs to another module; only its table name and, if present, a
    ``status`` column (or a ``dead_at``-like timestamp) are relied on.
    """
    from sqlalchemy import text

    names = {column["name"] for column in columns}
    by_status: Dict[str, int] = {}
    dead = 0
    if "status" in names:
        for status, count in connection.execute(text("SELECT status, COUNT(*) FROM outbox GROUP BY status")):
            by_status[_label(status)] = by_status.get(_label(status), 0) + count
        dead = sum(count for status, count in by_status.items() if status in DEAD_STATUSES)
    for column in ("dead_at", "dead_lettered_at", "failed_at"):
        if column in names and "status" not in names:
            dead = connection.execute(text(f"SELECT COUNT(*) FROM outbox WHERE {column} IS NOT NULL")).scalar() or 0
            break
    return {"by_status": by_status, "dead": dead}


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time, reused for :func:`cache_seconds`."""

    def __init__(self, engine_factory: Any = None) -> None:
        self._engine_factory = engine_factory
        self._lock = threading.Lock()
        self._cached: Optional[Tuple[float, bool, Dict[str, Any]]] = None

    def _engine(self) -> Any:
        if self._engine_factory is not None:
            return self._engine_factory()
        from bot.db import get_engine

        return get_engine()

    def snapshot(self) -> Tuple[bool, Dict[str, Any]]:
        """``(database answered, figures)``, from the cache while it is fresh."""
        with self._lock:  # one refresh at a time; concurrent scrapes reuse it
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < cache_seconds():
                return self._cached[1], self._cached[2]
            try:
                up, figures = True, database_figures(self._engine())
            except Exception as exc:
                logger.warning("Metrics: the database did not answer (%s); check DATABASE_URL", exc)
                up, figures = False, {"handoffs": {}, "oldest_queued": None, "tickets": {}, "outbox": None}
            self._cached = (now, up, figures)
            return up, figures

    def describe(self) -> Iterable[Metric]:
        return []  # scraped lazily: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        up, figures = self.snapshot()
        database = GaugeMetricFamily("linli_database_up", "1 when the database answered the metrics queries")
        database.add_metric([], 1.0 if up else 0.0)
        yield database
        if not up:
            return
        waiting = GaugeMetricFamily("linli_handoffs_waiting", "Handoffs waiting for or handled by staff",
                                    labels=["status"])
        for status, count in sorted(figures["handoffs"].items()):
            waiting.add_metric([status], count)
        yield waiting
        if figures["oldest_queued"] is not None:
            oldest = GaugeMetricFamily("linli_handoff_oldest_queued_seconds",
                                       "Seconds the longest-waiting queued handoff has waited (0: none queued)")
            oldest.add_metric([], figures["oldest_queued"])
            yield oldest
        tickets = GaugeMetricFamily("linli_tickets", "Tickets by type and status", labels=["type", "status"])
        for (kind, status), count in sorted(figures["tickets"].items()):
            tickets.add_metric([kind, status], count)
        yield tickets
        outbox = figures["outbox"]
        if outbox is not None:
            messages = GaugeMetricFamily("linli_outbox_messages", "Outbox rows by status", labels=["status"])
            for status, count in sorted(outbox["by_status"].items()):
                messages.add_metric([status], count)
            yield messages
            dead = GaugeMetricFamily("linli_outbox_dead_letters", "Outbox messages given up on (dead letters)")
            dead.add_metric([], outbox["dead"])
            yield dead


_collector: Optional[DatabaseCollector] = None
_collector_lock = threading.Lock()


def register_database_gauges(registry: CollectorRegistry = REGISTRY) -> DatabaseCollector:
    """Add the database gauges to ``registry`` once per process; returns the collector."""
    global _collector
    with _collector_lock:
        if _collector is None:
            _collector = DatabaseCollector()
            registry.register(_collector)
        return _collector


def exposition(registry: CollectorRegistry = REGISTRY) -> Tuple[bytes, str]:
    """The registry in Prometheus' text format: ``(body, content type)``. Blocking (database)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    register_database_gauges(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
