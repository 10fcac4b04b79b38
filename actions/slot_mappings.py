"""Global slot extraction that runs after every user message."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.common import language_of


class ValidateSlotMappings(ValidationAction):
    """``action_validate_slot_mappings``: keeps the ``language`` slot current.

    Each message that carries language (Han characters or English words) sets
    the conversation language; neutral messages ("13812345678", button payloads)
    keep the previous one, so a Chinese conversation stays Chinese.
    """

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"language": language_of(tracker)}
