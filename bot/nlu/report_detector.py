"""Rasa NLU component: a message that plainly reports a problem is a report, whatever the classifier guessed.

Residents type reports the classifier has never seen: typos ("toilet bloked"),
no punctuation, the address first ("3号楼2单元502 厨房水龙头滴水"), a typo in
the very word that names the intent ("我要头诉"). When the classifier calls
such a message a question, small talk or out of scope, this component looks at
what the message contains:

* a problem (a repair category or a "broken/leaking/堵/坏" word) **and** a place
  or a phone number, and no question → ``report_repair``;
* a complaint word (投诉 and its usual typos, "complain") and no question →
  ``complaint``.

The classifier's own guess is kept as ``linli_nlu_intent``. Transactional
intents (a repair, a complaint, an emergency, a ticket check, a human, a cancel)
are never overridden.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.tickets.location import parse_location
from bot.tickets.triage import describes_a_fault, infer_category

#: The classifier's guesses this component may replace.
REPLACEABLE = {"ask_question", "out_of_scope", "nlu_fallback", "inform", "greet", "affirm", "deny", "thank",
               "goodbye", "bot_challenge"}
_COMPLAINT = re.compile(r"投诉|头诉|投述|投拆|偷诉|\bcompl[ai]{1,2}n\w*|\bcomplaint", re.IGNORECASE)
_QUESTION = re.compile(
    r"[?？]|吗|怎么|如何|多少|几点|哪里|哪儿|什么|是否|能不能|可不可以|有没有|为什么"
    r"|^\W*(what|when|where|how|why|who|which|can|could|is|are|do|does|will|should)\b", re.IGNORECASE)


def _report_intent(text: str, entities: List[Dict[str, Any]]) -> Optional[str]:
    if not text or text.startswith("/") or _QUESTION.search(text):
        return None
    if _COMPLAINT.search(text):
        return "complaint"
    has_phone = any(e.get("entity") == "phone" for e in entities)
    place = parse_location(text)
    # A fault word, or a fixture ("toilet", "水龙头"): a public place alone ("花园") is no report.
    fault = describes_a_fault(text) or infer_category(text) not in (None, "public_area")
    if fault and (has_phone or (place is not None and place.complete)):
        return "report_repair"
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ReportDetector(GraphComponent):
    """Turns plain problem reports misread as something else into reports (module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """No options."""
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ReportDetector":
        """Create the component; it has nothing to train or persist."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace a misread intent by ``report_repair`` or ``complaint`` where the message says so."""
        for message in messages:
            guess = message.get(INTENT) or {}
            if guess.get("name") not in REPLACEABLE | {"report_repair", "complaint"}:
                continue  # a confident guess of the same report is only made sure of below
            intent = _report_intent(message.get(TEXT) or "", message.get(ENTITIES) or [])
            if intent is None:
                continue
            message.set("linli_nlu_intent", guess, add_to_output=True)
            # The others are halved so that the FallbackClassifier's ambiguity check keeps this decision.
            ranking = [{**r, "confidence": float(r.get("confidence") or 0) / 2}
                       for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
            message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *ranking], add_to_output=True)
        return messages
