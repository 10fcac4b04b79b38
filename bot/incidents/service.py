"""The server's incident loop (a step of :func:`bot.server.services`).

Every ``LINLI_INCIDENT_CHECK_INTERVAL`` seconds it looks for clusters of repair tickets
(:meth:`bot.incidents.alerts.AlertStore.detect`: one alert per cluster, whichever replica
finds it) and queues the resolution messages a crash left out (resolved incidents whose
``notified_at`` is still empty; the outbox's dedupe keys make a repeat harmless).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Optional

from bot.db import get_engine
from bot.incidents.alerts import AlertStore
from bot.incidents.notify import notify_resolved
from bot.incidents.store import IncidentStore
from bot.settings import Incidents
from bot.tasks import cancel

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def stores() -> "tuple[IncidentStore, AlertStore]":
    """The process-wide incident and alert stores on ``DATABASE_URL``."""
    incidents = IncidentStore(get_engine())
    return incidents, AlertStore(get_engine(), incidents)


async def run_once(settings: Optional[Incidents] = None) -> int:
    """One round: new alerts raised (and the stragglers' messages queued); how many alerts."""
    settings = settings or Incidents.from_env()
    incidents, alerts = await asyncio.to_thread(stores)
    raised = await asyncio.to_thread(alerts.detect, settings.cluster_size, settings.cluster_hours)
    for alert in raised:
        logger.info("Early warning: %d %s tickets in building %s (alert %s)", alert.ticket_count, alert.category,
                    alert.building, alert.id)
    for incident in await asyncio.to_thread(incidents.unnotified):
        await notify_resolved(incidents, incident.id)
    return len(raised)


async def _loop(settings: Incidents) -> None:
    while True:
        try:
            await run_once(settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Incident round failed")
        await asyncio.sleep(settings.check_interval)


async def start(app: Any) -> None:
    """Start the loop (server start-up)."""
    app.ctx.linli_incidents = asyncio.ensure_future(_loop(Incidents.from_env()))


async def stop(app: Any) -> None:
    """Stop it (server shutdown)."""
    await cancel(getattr(app.ctx, "linli_incidents", None))
