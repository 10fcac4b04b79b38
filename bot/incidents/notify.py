"""When an incident is resolved, everyone linked to it (asked or reported) is told, once, on
their own channel and in their language, through the outbox (:mod:`bot.outbox`).

One message per conversation (``dedupe_key`` ``incident:<id>:resolved:<conversation>``, so a
retry, a second replica or the straggler loop never queues it twice). The payload carries the
template fields WeChat's template-message fallback maps (``{"template": {"name": "incident",
"fields": {"title", "status", "body", "time"}}}``); the transcript line names the incident.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Dict

from bot import outbox
from bot.incidents import texts
from bot.incidents.store import Incident, IncidentStore, Link
from bot.responses import render

logger = logging.getLogger(__name__)


def message(incident: Incident, link: Link) -> Dict:
    """``enqueue``'s arguments for telling ``link``'s resident that ``incident`` is resolved."""
    lang = link.language
    text = texts.resolved(incident, lang)
    fields = {"title": incident.title(lang), "status": render("utter_incident_status_resolved", lang),
              "body": (incident.resolution_note or render("utter_incident_resolved_body", lang)),
              "time": texts.local_time(incident.resolved_at, lang)}
    return {"channel": link.channel, "sender_id": link.sender_id, "text": text, "kind": "incident",
            "dedupe_key": f"incident:{incident.id}:resolved:{link.conversation_id}",
            "payload": {"template": {"name": "incident", "fields": fields}},
            "transcript": {"incident": incident.id}}


async def notify_resolved(store: IncidentStore, incident_id: int) -> int:
    """Queue the resolution message of every linked conversation; how many conversations."""
    incident = await asyncio.to_thread(store.get, incident_id)
    if incident.status != "resolved":
        return 0
    seen = set()
    for link in await asyncio.to_thread(store.links, incident_id):
        if link.conversation_id in seen:
            continue  # asked and reported: one message
        seen.add(link.conversation_id)
        args = message(incident, link)
        await outbox.enqueue(args.pop("channel"), args.pop("sender_id"), args.pop("text"), args.pop("kind"), **args)
    await asyncio.to_thread(store.mark_notified, incident_id)
    if seen:
        logger.info("Incident %s resolved: %d resident(s) queued a message", incident_id, len(seen))
    return len(seen)
