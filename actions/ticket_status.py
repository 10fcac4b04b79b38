"""``check_ticket``: a resident's own tickets and their status."""

from __future__ import annotations

import asyncio
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language_of, resident_of, ticket_store
from bot.nlu.patterns import find_ticket_ids
from bot.residence.linked import linked_ticket, linked_tickets
from bot.tickets.labels import label


def _requested_number(tracker: Tracker) -> Optional[str]:
    """The ticket number named in the latest message, if any."""
    for entity in (tracker.latest_message or {}).get("entities", []):
        if entity.get("entity") == "ticket_id" and entity.get("value"):
            return str(entity["value"])
    found = list(find_ticket_ids((tracker.latest_message or {}).get("text") or ""))
    return found[0].value if found else None


class ActionCheckTicket(Action):
    """``action_check_ticket``: one ticket by number, or the resident's latest five.

    Only tickets created from the same channel identity are visible, so one
    resident can never read another's ticket by guessing its number, and the tickets
    staff filed for them by phone or at the desk once both the unit and the phone on
    such a ticket are the resident's own (:mod:`bot.residence.linked`).
    """

    def name(self) -> Text:
        return "action_check_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        lang = language_of(tracker)
        channel, sender = resident_of(tracker)
        store = ticket_store()
        number = _requested_number(tracker)
        if number:
            ticket = await asyncio.to_thread(store.get_for_sender, number, channel, sender)
            if ticket is None:
                ticket = await asyncio.to_thread(linked_ticket, store.engine, channel, sender, number)
            if ticket is None:
                dispatcher.utter_message(response="utter_ticket_not_found", number=number)
            else:
                dispatcher.utter_message(
                    response="utter_ticket_detail",
                    number=ticket.number,
                    status=label("status", ticket.status, lang),
                    unit=ticket.unit or ticket.location or "-",
                    description=ticket.description,
                    created=ticket.created_at.astimezone(store.timezone).strftime("%Y-%m-%d %H:%M"),
                )
            return [SlotSet("ticket_id", None)]
        own = await asyncio.to_thread(store.list_for_sender, channel, sender)
        linked = await asyncio.to_thread(linked_tickets, store.engine, channel, sender)
        tickets = sorted(own + linked, key=lambda t: (t.created_at, t.id), reverse=True)[:5]
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
            return []
        lines = [
            f"• {t.number}  {label('type', t.type, lang)}  {label('status', t.status, lang)}  {t.description[:30]}"
            for t in tickets
        ]
        dispatcher.utter_message(response="utter_ticket_list", tickets="\n".join(lines))
        return []
