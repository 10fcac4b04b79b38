"""Shared by the rule-based NLU components that correct the classifier's intent.

:class:`bot.nlu.emergency_detector.EmergencyDetector` and
:class:`bot.nlu.report_detector.ReportDetector` decide an intent from what a
message says; these helpers make that decision the message's intent in a way
the rest of the pipeline respects, and keep the classifier's own guess as
``linli_nlu_intent`` for debugging.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

ORIGINAL_INTENT = "linli_nlu_intent"


def promote(message: Message, intent: str) -> None:
    """Make ``intent`` the top intent with confidence 1.0, keeping the rest of the ranking.

    The others are halved, so the FallbackClassifier's ambiguity check (top two
    closer than its threshold) cannot undo the decision.
    """
    message.set(ORIGINAL_INTENT, message.get(INTENT) or {}, add_to_output=True)
    ranking = [{**r, "confidence": float(r.get("confidence") or 0) / 2}
               for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
    message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *ranking], add_to_output=True)


def demote(message: Message, intent: str, fallback: str) -> None:
    """Replace ``intent`` by the next intent of the ranking (``fallback`` when there is none)."""
    message.set(ORIGINAL_INTENT, message.get(INTENT) or {}, add_to_output=True)
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
    following = ranking[0] if ranking else {"name": fallback, "confidence": 0.0}
    message.set(INTENT, dict(following), add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


class IntentRules(GraphComponent):
    """Base of a component that has nothing to train or persist and no options."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """No options: the rules are code or data files."""
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentRules":
        """Create the component."""
        return cls()


def top_intent(message: Message) -> Optional[str]:
    """The name of the message's current intent."""
    return (message.get(INTENT) or {}).get("name")
