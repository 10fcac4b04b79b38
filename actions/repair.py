"""Repair reports (报修): filing the confirmed report as a ticket.

The form itself is read by :mod:`actions.repair_form` and asked by
:mod:`actions.repair_prompts`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import incidents, places
from actions.common import language_of, resident_of, ticket_store, turn_key

logger = logging.getLogger(__name__)

#: Slots of one repair report; cleared after it is filed or cancelled. The place
#: and phone stay: the same resident usually reports for the same flat.
REPORT_SLOTS = ("repair_description", "repair_category", "urgency", "visit_time", "repair_confirmed",
                "location_partial", "form_retries", "confirm_edit", "incident_id", "incident_other")


def place_fields(tracker: Tracker) -> Dict[str, Any]:
    """A ticket's location columns from the form's slots (free text keeps the resident's words)."""
    return places.ticket_fields(places.from_json(tracker.get_slot("location")) or tracker.get_slot("unit"))


class ActionSubmitRepair(Action):
    """``action_submit_repair``: files the confirmed report as a ticket."""

    def name(self) -> Text:
        return "action_submit_repair"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        reset = [SlotSet(slot, None) for slot in REPORT_SLOTS]
        if tracker.get_slot("incident_id") and tracker.get_slot("incident_other") is False:
            # The same problem as an active incident: linked to it instead of a new ticket.
            if not await incidents.link_report(dispatcher, tracker):
                dispatcher.utter_message(response="utter_ticket_failed")
            return reset
        if tracker.get_slot("repair_confirmed") is not True:
            dispatcher.utter_message(response="utter_repair_cancelled")
            return reset
        channel, sender = resident_of(tracker)
        try:
            ticket = await asyncio.to_thread(
                ticket_store().create,
                ticket_type="repair",
                channel=channel,
                sender_id=sender,
                language=language_of(tracker),
                description=tracker.get_slot("repair_description") or "",
                category=tracker.get_slot("repair_category"),
                urgency=tracker.get_slot("urgency"),
                phone=tracker.get_slot("phone"),
                visit_time=tracker.get_slot("visit_time"),
                idempotency_key=turn_key(tracker, "repair"),
                **place_fields(tracker),
            )
        except SQLAlchemyError:
            logger.exception("Could not store repair ticket for %s:%s", channel, sender)
            dispatcher.utter_message(response="utter_ticket_failed")
            # Keep the report so that "yes" resubmits it.
            return [SlotSet("repair_confirmed", None)]
        dispatcher.utter_message(response="utter_repair_submitted", number=ticket.number)
        return reset + [SlotSet("ticket_id", ticket.number)]
