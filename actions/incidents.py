"""Incidents in conversation (bot/incidents): while one lasts, residents it affects are told.

- A question about an outage ("停水了吗？", "is the lift broken in building 5?") from a resident of
  an affected building (named in the message, else :func:`bot.residence.lookup.buildings_of`) or
  during a community-wide incident is answered with the incident and its expected end by
  ``action_answer_question`` (:func:`outage_reply`), before the knowledge base; the resident is
  linked to it (``asked``) and told when it is resolved.
- A repair report of the same kind or category, in an affected building, gets one more question
  in ``repair_form`` (:func:`required_slots`): ``action_ask_incident_other`` tells the resident
  about the incident and asks whether their problem is something else. "是别的问题" / "something
  else": the report goes on. "就是这个" / "it's the same": the form ends and
  ``action_submit_repair`` links the report to the incident (``reported``) instead of filing a
  ticket (:func:`link_report`). Emergencies never get here (the form leaves for the emergency
  path), and a report that names a hazard is never deflected.

The texts are ``domain.yml`` responses rendered here (:mod:`bot.incidents.texts`), so the
trained model needs none of them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import places
from actions.common import language_of, resident_of
from actions.form_turn import latest_intent, latest_text
from bot.db import get_engine
from bot.emergency.playbook import detect_hazards, says_emergency
from bot.incidents import texts
from bot.incidents.matching import asks_about_outage, buildings_in, kinds_in
from bot.incidents.models import ACTIVE
from bot.incidents.store import Incident, IncidentNotFound, IncidentStore
from bot.responses import render
from bot.tickets.location import Location

logger = logging.getLogger(__name__)

SLOT_ID, SLOT_OTHER = "incident_id", "incident_other"
#: Unclear answers to "is it something else?" before the report simply goes on.
MAX_UNCLEAR = 2

_NOT_OTHER = re.compile(r"不是别的|没有别的|没别的|不是其他|不是其它|\bnot (something|anything) else\b|\bnothing else\b"
                        r"|\bnot (a )?different\b|\bnot another\b", re.IGNORECASE)
_OTHER = re.compile(r"别的|其他|其它|另外|不是这个|不是同一|不一样|不同|另一个|\bsomething else\b|\bdifferent\b|\banother\b"
                    r"|\bother\b|\bnot the same\b|\bunrelated\b|\bseparate\b", re.IGNORECASE)
_SAME = re.compile(r"就是这个|就是这|是这个|一样|同一|相同|就是它|\bsame\b|\bthat'?s it\b|\bthat is it\b|\bthis one\b",
                   re.IGNORECASE)
_YES = re.compile(r"^\W*(是|是的|对|对的|嗯+|好|好的|yes|yeah|yep|yup|y|sure)\W*$", re.IGNORECASE)
_NO = re.compile(r"^\W*(不是|不是的|不|否|没有|no|nope|nah|n)\W*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def incident_store() -> IncidentStore:
    """The process-wide incident store on ``DATABASE_URL``."""
    return IncidentStore(get_engine())


def _resident_buildings(tracker: Tracker) -> List[str]:
    from bot.residence.lookup import buildings_of

    channel, sender = resident_of(tracker)
    return buildings_of(get_engine(), channel, sender)


def _report_buildings(tracker: Tracker) -> List[str]:
    """The report's building (its place, complete or partial), else the resident's buildings."""
    for slot in ("location", "location_partial"):
        place = places.from_json(tracker.get_slot(slot))
        if isinstance(place, Location) and place.building:
            return [str(place.building)]
    return _resident_buildings(tracker)


# ---------------------------------------------------------------- asked about it
async def outage_reply(tracker: Tracker, text: str, language: str) -> Optional[str]:
    """The incident answer to a question about an outage that affects the resident, else ``None``
    (the knowledge base answers); links the resident (``asked``)."""
    kinds = asks_about_outage(text, latest_intent(tracker).get("name"))
    if not kinds:
        return None
    try:
        store = await asyncio.to_thread(incident_store)
        buildings = buildings_in(text) or await asyncio.to_thread(_resident_buildings, tracker)
        found = await asyncio.to_thread(store.matching, buildings, kinds)
        if not found:
            return None
        channel, sender = resident_of(tracker)
        for incident in found:
            await asyncio.to_thread(store.link, incident.id, "asked", channel, sender, language)
    except Exception:  # incidents are extra: the knowledge base still answers
        logger.exception("Could not look up incidents for %r", text)
        return None
    return "\n\n".join(render("utter_incident_question", language, info=texts.info(i, language)) for i in found[:2])


# ---------------------------------------------------------------- a matching repair report
async def find_incident(tracker: Tracker) -> Dict[str, Any]:
    """``{"incident_id": ...}`` when the report being filled matches an active incident, else ``{}``.

    Looked for once per report (until the resident answered), as soon as its problem is known.
    """
    if tracker.get_slot(SLOT_ID) or tracker.get_slot(SLOT_OTHER) is not None:
        return {}
    description = tracker.get_slot("repair_description")
    if not description:
        return {}
    text = latest_text(tracker)
    if detect_hazards(description) or detect_hazards(text) or says_emergency(text):
        return {}  # an emergency is never deflected
    kinds = kinds_in(description) + kinds_in(text)
    try:
        store = await asyncio.to_thread(incident_store)
        buildings = await asyncio.to_thread(_report_buildings, tracker)
        found = await asyncio.to_thread(store.matching, buildings, kinds, tracker.get_slot("repair_category"))
    except Exception:  # the report goes on as a normal one
        logger.exception("Could not look up incidents for a repair report")
        return {}
    return {SLOT_ID: str(found[0].id)} if found else {}


def required_slots(slots: List[Text], tracker: Tracker) -> List[Text]:
    """The form's questions with the incident's: asked right after the problem when an incident
    matches; nothing more once the report is linked to it."""
    incident, other = tracker.get_slot(SLOT_ID), tracker.get_slot(SLOT_OTHER)
    if incident and other is False:
        return []
    if not incident and other is None:
        return slots
    at = slots.index("repair_description") + 1 if "repair_description" in slots else 0
    return slots[:at] + [SLOT_OTHER] + [s for s in slots[at:] if s != SLOT_OTHER]


def answer_values(text: str) -> Optional[Dict[str, Any]]:
    """The slots an answer to "is it something else?" sets; ``None`` when it is unclear."""
    text = (text or "").strip()
    if text.startswith("/affirm"):
        return {SLOT_OTHER: True, SLOT_ID: None}
    if text.startswith("/deny"):
        return {SLOT_OTHER: False}
    if _NOT_OTHER.search(text):
        return {SLOT_OTHER: False}
    if _OTHER.search(text):
        return {SLOT_OTHER: True, SLOT_ID: None}
    if _SAME.search(text) or _NO.match(text):
        return {SLOT_OTHER: False}
    if _YES.match(text):
        return {SLOT_OTHER: True, SLOT_ID: None}
    return None


def unclear(dispatcher: CollectingDispatcher, count: int, language: str) -> Dict[str, Any]:
    """A hint the first time; the second time the report goes on as a report of its own."""
    if count < MAX_UNCLEAR:
        dispatcher.utter_message(text=render("utter_incident_other_hint", language))
        return {"form_retries": f"{SLOT_OTHER}:{count}"}
    dispatcher.utter_message(text=render("utter_incident_continue", language))
    return {SLOT_OTHER: True, SLOT_ID: None, "form_retries": None}


def _incident(tracker: Tracker) -> Optional[Incident]:
    value = tracker.get_slot(SLOT_ID)
    try:
        return incident_store().get(int(value)) if value else None
    except (IncidentNotFound, ValueError):
        return None


class ActionAskIncidentOther(Action):
    """``action_ask_incident_other``: the incident, its expected end, and "is it something else?"."""

    def name(self) -> Text:
        return "action_ask_incident_other"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        lang = language_of(tracker)
        incident = await asyncio.to_thread(_incident, tracker)
        info = texts.info(incident, lang) if incident is not None else ""
        dispatcher.utter_message(
            text=render("utter_ask_incident_other", lang, info=info).strip(),
            buttons=[{"title": render("utter_incident_button_other", lang), "payload": "/affirm"},
                     {"title": render("utter_incident_button_same", lang), "payload": "/deny"}])
        return []


async def link_report(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Link the confirmed-same report to its incident instead of a ticket; False when it failed."""
    lang = language_of(tracker)
    channel, sender = resident_of(tracker)
    try:
        incident = await asyncio.to_thread(_incident, tracker)
        if incident is None or incident.status != ACTIVE:
            # Resolved (or withdrawn) while the resident answered: nothing to link to any more.
            dispatcher.utter_message(text=render("utter_incident_over", lang))
            return True
        await asyncio.to_thread(incident_store().link, incident.id, "reported", channel, sender, lang)
    except Exception:
        logger.exception("Could not link a report of %s:%s to an incident", channel, sender)
        return False
    dispatcher.utter_message(text=render("utter_incident_linked", lang, title=incident.title(lang)))
    return True
