"""``action_emergency``: safety first, then an urgent ticket and the duty staff.

One reply, in this order: the hazard's safety advice from the playbook, the
public emergency numbers and the property's 24-hour duty phone, the urgent
ticket's number (with whatever place is known: a public place, the flat from
the form, or none), and — only after all that — a request for the exact place
if it is unknown. The channels join consecutive messages (WeChat sends them as
one passive reply). The conversation is then handed to staff with priority
``urgent`` (first in the desk's queue, with an alert), so the bot stays silent
while the duty staff talk to the resident.
"""

from __future__ import annotations

import asyncio
import logging
from typing import List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import places
from actions.cancel import COMPLAINT_SLOTS
from actions.common import language_of, resident_of, ticket_store, turn_key
from actions.form_turn import entities, latest_text
from actions.handoff import handoff_store
from actions.repair import REPORT_SLOTS
from bot.emergency import Hazard, detect_hazards, load_playbook
from bot.tickets import InvalidTransition
from bot.tickets.location import Location, parse_location
from bot.tickets.models import TicketStatus

logger = logging.getLogger(__name__)


def _hazards(tracker: Tracker) -> List[Hazard]:
    """The hazards of the latest message, most pressing first (the generic one if none matches)."""
    playbook = load_playbook()
    ids = entities(tracker, "hazard")
    found = [playbook.hazard(i) for i in dict.fromkeys(ids)] or [m.hazard for m in detect_hazards(latest_text(tracker))]
    return [h for h in found if h is not None] or [playbook.generic]


def _place(tracker: Tracker) -> Optional[Location]:
    """The place of the emergency: named in the message, else the flat of an unfinished report."""
    named = parse_location(latest_text(tracker))
    if named is not None:
        return named
    earlier = places.from_json(tracker.get_slot("location"))
    return earlier if isinstance(earlier, Location) and tracker.get_slot("repair_description") else None


class ActionEmergency(Action):
    """``action_emergency``: see the module docstring."""

    def name(self) -> Text:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language_of(tracker)
        playbook = load_playbook()
        hazards = _hazards(tracker)
        place = _place(tracker)
        # Advice first; the channels put consecutive messages together (WeChat: one passive reply).
        dispatcher.utter_message(text=hazards[0].advice[lang])
        dispatcher.utter_message(response="utter_emergency_numbers",
                                 numbers=("；" if lang == "zh" else "; ").join(playbook.number_lines(hazards, lang)))
        number = await self._open_ticket(tracker, hazards[0], place, lang)
        if number and place is not None:
            dispatcher.utter_message(response="utter_emergency_ticket", number=number, place=place.display(lang))
        elif number:
            dispatcher.utter_message(response="utter_emergency_ticket_unplaced", number=number)
        else:
            dispatcher.utter_message(response="utter_emergency_no_ticket", duty_phone=playbook.duty_phone)
        if place is None or not place.complete:
            dispatcher.utter_message(response="utter_emergency_ask_location")
        paused = await self._hand_off(tracker, hazards[0], lang)
        events: List[EventType] = [SlotSet(slot, None) for slot in (*REPORT_SLOTS, *COMPLAINT_SLOTS)]
        events.append(SlotSet("handoff_offered", False))
        if number:
            events.append(SlotSet("ticket_id", number))
        return events + ([ConversationPaused()] if paused else [])

    @staticmethod
    async def _open_ticket(tracker: Tracker, hazard: Hazard, place: Optional[Location], lang: str) -> Optional[str]:
        channel, sender = resident_of(tracker)
        description = f"【{hazard.label['zh']} / {hazard.label['en']}】{latest_text(tracker)}"[:1000]
        try:
            ticket = await asyncio.to_thread(
                ticket_store().create, ticket_type="repair", channel=channel, sender_id=sender, language=lang,
                description=description, category=hazard.category, urgency="urgent",
                phone=tracker.get_slot("phone"), idempotency_key=turn_key(tracker, "emergency"),
                **places.ticket_fields(place))
        except SQLAlchemyError:
            logger.exception("Could not store the emergency ticket for %s:%s", channel, sender)
            return None
        logger.warning("EMERGENCY (%s) reported by %s:%s, ticket %s", hazard.id, channel, sender, ticket.number)
        return ticket.number

    @staticmethod
    async def _hand_off(tracker: Tracker, hazard: Hazard, lang: str) -> bool:
        channel, sender = resident_of(tracker)
        try:
            await asyncio.to_thread(handoff_store().open, sender, channel, lang, "emergency",
                                    latest_text(tracker), priority="urgent")
        except (SQLAlchemyError, TypeError):
            logger.exception("Could not open the emergency handoff for %s:%s", channel, sender)
            return False
        return True


class ActionEmergencyPlace(Action):
    """``action_emergency_place``: the place a resident gives after an emergency, put on its ticket.

    The emergency reply asks for the place when it was unknown and the conversation then
    belongs to the duty staff, so Rasa predicts nothing for the answer. The handoff relay
    (:mod:`bot.handoff.relay`) runs this action for each message of an emergency handoff:
    when the message names a place and the urgent ticket (slot ``ticket_id``) has none
    that staff can find yet, the ticket gets it (a partial one completed by the next answer)
    and the resident hears that it was passed on. Staff see it on the ticket and in the
    transcript. Any other message is left to staff, without a reply.
    """

    def name(self) -> Text:
        return "action_emergency_place"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        number = tracker.get_slot("ticket_id")
        place = parse_location(latest_text(tracker))
        if not number or place is None:
            return []
        channel, sender = resident_of(tracker)
        store = ticket_store()
        try:
            ticket = await asyncio.to_thread(store.get_for_sender, str(number), channel, sender)
            if ticket is None or ticket.status == TicketStatus.CLOSED.value:
                return []
            known = parse_location(ticket.location) if ticket.location else None
            if known is not None and known.complete:
                return []  # staff can find it already; moving it is their call, not a passing mention's
            place = places.merge(known, place)  # "5号楼" then "1单元502"
            if ticket.location == place.canonical():
                return []  # said again (or a redelivered message): nothing new to tell
            await asyncio.to_thread(store.set_location, ticket.number, f"{channel}:{sender}",
                                    places.ticket_fields(place), place.canonical())
        except InvalidTransition:
            return []  # closed meanwhile: staff have it in hand
        except SQLAlchemyError:
            logger.exception("Could not add the place to emergency ticket %s", number)
            return []
        lang = language_of(tracker)
        response = "utter_emergency_place_added" if place.complete else "utter_emergency_place_partial"
        dispatcher.utter_message(response=response, number=ticket.number, place=place.display(lang))
        return [SlotSet("location", places.to_json(place))]


__all__: Sequence[str] = ["ActionEmergency", "ActionEmergencyPlace"]
