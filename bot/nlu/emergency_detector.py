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

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergency.playbook import detect_hazards, says_emergency

EMERGENCY = "emergency"
QUESTION = "ask_question"


def _demote(message: Message) -> None:
    """Replace ``emergency`` by the next intent of the ranking (a false alarm costs the duty staff)."""
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != EMERGENCY]
    message.set("linli_nlu_intent", message.get(INTENT) or {}, add_to_output=True)
    following = ranking[0] if ranking else {"name": QUESTION, "confidence": 0.0}
    message.set(INTENT, dict(following), add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def _promote(message: Message, intent: str) -> None:
    """Make ``intent`` the top intent with confidence 1.0, keeping the rest of the ranking."""
    original = message.get(INTENT) or {}
    message.set("linli_nlu_intent", original, add_to_output=True)
    # The others are halved: the FallbackClassifier's ambiguity check must not undo the decision.
    ranking = [{**r, "confidence": float(r.get("confidence") or 0) / 2}
               for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
    message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *ranking], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyDetector(GraphComponent):
    """Overrides the intent for messages that report a hazard (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """No options: the playbook is data (``LINLI_EMERGENCY_PLAYBOOK``)."""
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyDetector":
        """Create the component; it has nothing to train or persist."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Set intent ``emergency`` and ``hazard`` entities where the playbook matches."""
        for message in messages:
            text = message.get(TEXT) or ""
            matches = detect_hazards(text)
            if matches:
                _promote(message, EMERGENCY)
                hazards = [
                    {"entity": "hazard", "start": m.start, "end": m.end, "value": m.hazard.id,
                     "extractor": self.__class__.__name__}
                    for m in matches
                ]
                message.set(ENTITIES, [*message.get(ENTITIES, []), *hazards], add_to_output=True)
            elif (message.get(INTENT) or {}).get("name") == EMERGENCY and not says_emergency(text):
                _demote(message)
        return messages
