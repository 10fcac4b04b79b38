"""``action_cancel_form``: the resident left a form ("算了", "cancel", "bye")."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_turn import latest_intent
from actions.repair import REPORT_SLOTS

COMPLAINT_SLOTS = ("complaint_description", "complaint_location")


class ActionCancelForm(Action):
    """Forgets the unfinished report or complaint; nothing is filed.

    Rules run it after ``action_deactivate_loop``. It says "cancelled" unless the
    resident said goodbye (the goodbye rule answers that).
    """

    def name(self) -> Text:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if latest_intent(tracker).get("name") != "goodbye":
            dispatcher.utter_message(response="utter_form_cancelled")
        return [SlotSet(slot, None) for slot in (*REPORT_SLOTS, *COMPLAINT_SLOTS)]
