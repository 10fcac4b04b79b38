"""Rasa NLU component: a message that plainly reports a problem is a report, whatever the classifier guessed.

Residents type reports the classifier has never seen: typos ("toilet bloked"),
no punctuation, the address first ("3号楼2单元502 厨房水龙头滴水"), a typo in
the very word that names the intent ("我要头诉"). When the classifier calls
such a message a question, small talk or out of scope, this component looks at
what the message contains:

* a problem (a repair category or a "broken/leaking/堵/坏" word) **and** a place
  or a phone number, and no question → ``report_repair``;
* a complaint word (投诉 and its usual typos, "complain") and no question →
  ``complaint``;
* a question about an outage ("停水了吗？", "is there a power cut in building 3?") →
  ``ask_question``, even when the classifier read "停" as ``stop`` or the place as a report:
  the active incidents, then the knowledge base, answer it.

The classifier's own guess is kept as ``linli_nlu_intent``. Transactional
intents (a repair, a complaint, an emergency, a ticket check, a human, a cancel)
are never overridden.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentRules, promote, top_intent
from bot.incidents.matching import asks_about_outage
from bot.nlu.questions import is_question
from bot.tickets.location import parse_location
from bot.tickets.triage import describes_a_fault, infer_category

#: The classifier's guesses this component may replace (and the reports it only makes sure of).
REPLACEABLE = {"ask_question", "out_of_scope", "nlu_fallback", "inform", "greet", "affirm", "deny", "thank",
               "goodbye", "bot_challenge", "report_repair", "complaint"}
#: Guesses an outage question may replace besides those (never an emergency, a human, a ticket check).
OUTAGE_REPLACEABLE = REPLACEABLE | {"stop"}
_COMPLAINT = re.compile(r"投诉|头诉|投述|投拆|偷诉|\bcompl[ai]{1,2}n\w*|\bcomplaint", re.IGNORECASE)


def _report_intent(text: str, entities: List[Dict[str, Any]]) -> Optional[str]:
    if not text or text.startswith("/") or is_question(text):
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
class ReportDetector(IntentRules):
    """Turns plain problem reports misread as something else into reports (module docstring)."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace a misread intent by ``report_repair`` or ``complaint`` where the message says so."""
        for message in messages:
            text = message.get(TEXT) or ""
            if top_intent(message) in OUTAGE_REPLACEABLE and asks_about_outage(text):
                if top_intent(message) != "ask_question":
                    promote(message, "ask_question")
                continue
            if top_intent(message) not in REPLACEABLE:
                continue
            intent = _report_intent(message.get(TEXT) or "", message.get(ENTITIES) or [])
            if intent is not None:
                promote(message, intent)
        return messages
