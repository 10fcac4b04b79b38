"""Repair reports (报修): form validation, confirmation and ticket creation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import language_of, resident_of, ticket_store, turn_key
from bot.nlu.patterns import normalise_phone, parse_unit
from bot.tickets.labels import label
from bot.tickets.triage import (
    clean_description,
    infer_category,
    infer_urgency,
    normalise_category,
    normalise_urgency,
)

logger = logging.getLogger(__name__)

#: Slots of one repair report; cleared after it is filed or cancelled. Unit and
#: phone stay: the same resident usually reports for the same flat.
REPORT_SLOTS = ("repair_description", "repair_category", "urgency", "repair_confirmed")


def _answered(tracker: Tracker, slot: str) -> bool:
    """True when the resident is answering our question for ``slot`` (not pre-filling)."""
    return tracker.get_slot("requested_slot") == slot


class ValidateRepairForm(FormValidationAction):
    """``validate_repair_form``: checks each answer and re-asks with a hint."""

    def name(self) -> Text:
        return "validate_repair_form"

    async def validate_repair_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        description = clean_description(str(value or ""))
        if description is None:
            if _answered(tracker, "repair_description"):
                dispatcher.utter_message(response="utter_invalid_description")
            return {"repair_description": None}
        slots: Dict[Text, Any] = {"repair_description": description}
        # Pre-fill what the description already says; the resident confirms it later.
        if not tracker.get_slot("repair_category"):
            slots["repair_category"] = infer_category(description)
        if not tracker.get_slot("urgency"):
            slots["urgency"] = infer_urgency(description)
        return slots

    async def validate_unit(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        unit = parse_unit(str(value or ""))
        if unit is None:
            dispatcher.utter_message(response="utter_invalid_unit")
            return {"unit": None}
        return {"unit": unit.canonical()}

    async def extract_unit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # Answers like "502" carry no unit entity: hand them to validation so the
        # resident gets a hint instead of the same question again.
        if _answered(tracker, "unit") and not any(
            e.get("entity") == "unit" for e in (tracker.latest_message or {}).get("entities", [])
        ):
            text = (tracker.latest_message or {}).get("text") or ""
            if text and not text.startswith("/"):
                return {"unit": text}
        return {}

    async def validate_repair_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        category = normalise_category(str(value or ""))
        if category is None:
            if _answered(tracker, "repair_category"):
                dispatcher.utter_message(response="utter_invalid_repair_category")
            return {"repair_category": None}
        return {"repair_category": category}

    async def validate_urgency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        urgency = normalise_urgency(str(value or ""))
        if urgency is None:
            if _answered(tracker, "urgency"):
                dispatcher.utter_message(response="utter_invalid_urgency")
            return {"urgency": None}
        return {"urgency": urgency}

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = normalise_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
            return {"phone": None}
        return {"phone": phone}

    async def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # A wrong number ("1381234") has no phone entity; validate it to explain why.
        if _answered(tracker, "phone") and not any(
            e.get("entity") == "phone" for e in (tracker.latest_message or {}).get("entities", [])
        ):
            text = (tracker.latest_message or {}).get("text") or ""
            if any(ch.isdigit() for ch in text):
                return {"phone": text}
        return {}


class ActionAskRepairConfirmed(Action):
    """``action_ask_repair_confirmed``: shows the report and asks to confirm it."""

    def name(self) -> Text:
        return "action_ask_repair_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language_of(tracker)
        unit = tracker.get_slot("unit")
        parsed = parse_unit(unit or "")
        dispatcher.utter_message(
            response="utter_confirm_repair",
            unit=(parsed.english() if parsed and lang == "en" else unit) or "-",
            description=tracker.get_slot("repair_description") or "-",
            category=label("category", tracker.get_slot("repair_category"), lang),
            urgency=label("urgency", tracker.get_slot("urgency"), lang),
            phone=tracker.get_slot("phone") or "-",
        )
        return []


class ActionSubmitRepair(Action):
    """``action_submit_repair``: files the confirmed report as a ticket."""

    def name(self) -> Text:
        return "action_submit_repair"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        reset = [SlotSet(slot, None) for slot in REPORT_SLOTS]
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
                unit=tracker.get_slot("unit"),
                description=tracker.get_slot("repair_description") or "",
                category=tracker.get_slot("repair_category"),
                urgency=tracker.get_slot("urgency"),
                phone=tracker.get_slot("phone"),
                idempotency_key=turn_key(tracker, "repair"),
            )
        except SQLAlchemyError:
            logger.exception("Could not store repair ticket for %s:%s", channel, sender)
            dispatcher.utter_message(response="utter_ticket_failed")
            # Keep the report so that "yes" resubmits it.
            return [SlotSet("repair_confirmed", None)]
        dispatcher.utter_message(response="utter_repair_submitted", number=ticket.number)
        return reset + [SlotSet("ticket_id", ticket.number)]
