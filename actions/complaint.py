"""Complaints (投诉): what happened and where, recorded as a ticket."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import places
from actions.common import language_of, resident_of, ticket_store, turn_key
from actions.form_turn import QUESTION_INTENTS, answer_in_form, latest_intent
from bot.nlu.questions import is_question
from bot.tickets.location import parse_location
from bot.tickets.triage import clean_description


class ValidateComplaintForm(FormValidationAction):
    """``validate_complaint_form``: needs a real description and a place."""

    def name(self) -> Text:
        return "validate_complaint_form"

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        description = clean_description(str(value or ""))
        if description is None:
            if tracker.get_slot("requested_slot") == "complaint_description":
                dispatcher.utter_message(response="utter_invalid_description")
            return {"complaint_description": None}
        slots: Dict[Text, Any] = {"complaint_description": description}
        place = parse_location(str(value))
        if place is not None and place.complete and not tracker.get_slot("complaint_location"):
            slots["complaint_location"] = place.canonical()  # "东门保安态度很差": where is already said
        return slots

    async def validate_complaint_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {"complaint_location": None}
        intent = latest_intent(tracker)
        asked = tracker.get_slot("requested_slot") == "complaint_location"
        if asked and is_question(text) and intent.get("name") in QUESTION_INTENTS and parse_location(text) is None:
            # "几点以后算扰民啊？" while asked where: answer it, then ask where again.
            await answer_in_form(dispatcher, text, language_of(tracker))
            return {"complaint_location": None}
        place = parse_location(text)
        return {"complaint_location": place.canonical() if place and place.complete else text[:255]}


class ActionSubmitComplaint(Action):
    """``action_submit_complaint``: stores the complaint and gives its number."""

    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        channel, sender = resident_of(tracker)
        location = tracker.get_slot("complaint_location")
        place = parse_location(location or "")
        where = places.ticket_fields(place if place is not None and place.complete else location)
        # A complaint about a public place still belongs to the resident's own flat.
        where["unit"] = where.get("unit") or tracker.get_slot("unit")
        try:
            ticket = await asyncio.to_thread(
                ticket_store().create,
                ticket_type="complaint",
                channel=channel,
                sender_id=sender,
                language=language_of(tracker),
                description=tracker.get_slot("complaint_description") or "",
                phone=tracker.get_slot("phone"),
                idempotency_key=turn_key(tracker, "complaint"),
                **where,
            )
        except SQLAlchemyError:
            logging.getLogger(__name__).exception("Could not store complaint for %s:%s", channel, sender)
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        dispatcher.utter_message(response="utter_complaint_submitted", number=ticket.number)
        return [
            SlotSet("complaint_description", None),
            SlotSet("complaint_location", None),
            SlotSet("ticket_id", ticket.number),
        ]
