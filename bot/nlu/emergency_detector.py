"""Rasa NLU component: a hazard in the message makes its intent ``emergency``.

Emergencies must never depend on a classifier's mood: a message that matches
the emergency playbook (``bot/emergency/playbook.yml``) gets intent
``emergency`` with confidence 1.0 and a ``hazard`` entity, whatever the
transformer predicted. The other direction is guarded too: when the
transformer calls a message an emergency but no hazard matches (a negated,
hypothetical or simply misread message: "不是煤气味，是下水道返臭"), the
emergency stands only if the message says so itself ("救命", "help me");
otherwise the next intent of the ranking is used. The original prediction is
kept in the message as ``linli_nlu_intent`` for debugging.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergency.playbook import detect_hazards, says_emergency
from bot.nlu.intent_override import IntentRules, demote, promote, top_intent

EMERGENCY = "emergency"
QUESTION = "ask_question"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyDetector(IntentRules):
    """Overrides the intent for messages that report a hazard (see the module docstring)."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Set intent ``emergency`` and ``hazard`` entities where the playbook matches."""
        for message in messages:
            text = message.get(TEXT) or ""
            matches = detect_hazards(text)
            if matches:
                promote(message, EMERGENCY)
                hazards = [
                    {"entity": "hazard", "start": m.start, "end": m.end, "value": m.hazard.id,
                     "extractor": self.__class__.__name__}
                    for m in matches
                ]
                message.set(ENTITIES, [*message.get(ENTITIES, []), *hazards], add_to_output=True)
            elif top_intent(message) == EMERGENCY and not says_emergency(text):
                demote(message, EMERGENCY, fallback=QUESTION)  # a false alarm costs the duty staff
        return messages
