"""The repair form's questions that depend on what the resident already said."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import places
from actions.common import language_of, resident_of
from bot.tickets.labels import label
from bot.tickets.location import Location

logger = logging.getLogger(__name__)

#: At most this many of the resident's known units are offered as answers.
MAX_KNOWN_UNITS = 3


def known_unit_buttons(tracker: Tracker, lang: str) -> List[Dict[str, Any]]:
    """The resident's units (stated and confirmed, added by staff, or from their flat tickets:
    bot/residence) as buttons whose payload is the unit itself, so a tap, or "1" on WeChat, answers
    the question exactly as typing it would. Empty when none is known or the store cannot be read."""
    from bot.residence.store import residence_store

    channel, sender = resident_of(tracker)
    try:
        units = residence_store().units_of(channel, sender)[:MAX_KNOWN_UNITS]
    except Exception:  # the question is still asked, without the shortcut
        logger.exception("Could not read the units of %s", tracker.sender_id)
        return []
    buttons = []
    for known in units:
        text = known.unit.english() if lang == "en" else known.unit.canonical()
        buttons.append({"title": text, "payload": text})
    return buttons


class ActionAskUnit(Action):
    """``action_ask_unit``: where the problem is, or only what is still missing of it.

    "楼道灯坏了" names a place without a building: the resident is asked which
    building, not for the whole address again.
    """

    def name(self) -> Text:
        return "action_ask_unit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language_of(tracker)
        partial = places.from_json(tracker.get_slot("location_partial"))
        if isinstance(partial, Location) and partial.missing == "building" and partial.kind == "flat" and partial.room:
            dispatcher.utter_message(response="utter_ask_unit_building_of_room", room=partial.room)
        elif isinstance(partial, Location) and partial.missing == "building":
            dispatcher.utter_message(response="utter_ask_unit_building", area=partial.display(lang))
        elif isinstance(partial, Location) and partial.missing == "room" and partial.building:
            dispatcher.utter_message(response="utter_ask_unit_room", building=partial.building)
        else:
            buttons = await asyncio.to_thread(known_unit_buttons, tracker, lang)
            dispatcher.utter_message(response="utter_ask_unit", buttons=buttons or None)
        return []


class ActionAskRepairConfirmed(Action):
    """``action_ask_repair_confirmed``: shows the report and asks to confirm (or what to change)."""

    def name(self) -> Text:
        return "action_ask_repair_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language_of(tracker)
        if tracker.get_slot("confirm_edit"):
            dispatcher.utter_message(response="utter_ask_what_to_change")
            return []
        place = places.from_json(tracker.get_slot("location"))
        visit = tracker.get_slot("visit_time")
        visit_line = ""
        if visit:
            visit_line = f"\n上门时间：{visit}" if lang == "zh" else f"\nVisit: {visit}"
        dispatcher.utter_message(
            response="utter_confirm_repair",
            unit=places.display(place, lang, tracker.get_slot("unit")),
            description=tracker.get_slot("repair_description") or "-",
            category=label("category", tracker.get_slot("repair_category"), lang),
            urgency=label("urgency", tracker.get_slot("urgency"), lang),
            phone=tracker.get_slot("phone") or "-",
            visit=visit_line,
        )
        return []
