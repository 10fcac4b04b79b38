"""``RatingPolicy``: the resident's answer to a rating prompt goes to the rating actions.

A Rasa policy (config.yml, priority above the rules) that predicts only in two situations
and abstains otherwise, so every other turn is predicted exactly as if no rating were pending:

* the ``rating_request`` slot waits for a score (stage ``rating``, not expired), no form is
  active, and the message reads as a rating (:func:`bot.satisfaction.parse.parse_rating`):
  ``action_rating``. Never for an emergency, a request for a human or an explicit complaint
  ("我要投诉…"); and a score in words followed by more ("很好，我家又漏水了") is not
  a rating when the message is confidently a repair, a ticket query or a question (a number
  or stars first, "3 - slow but fixed", always is);
* the slot waits for the comment (stage ``comment``) and this is the message right after
  ``action_rating`` invited it: ``action_rating_comment``, unless the message is a new request
  (an emergency, a repair, a question, a ticket query, "转人工", an explicit complaint...).

After either action it predicts ``action_listen``. It needs no training data.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.decision_policy import DecisionPolicy, turn_of

from bot.satisfaction.parse import parse_rating

logger = logging.getLogger(__name__)

SLOT = "rating_request"  # bot.satisfaction.asking.SLOT (not imported: Rasa loads this module alone)
ACTION_RATING, ACTION_COMMENT = "action_rating", "action_rating_comment"
#: Always handled normally, whatever the text says.
NEVER = frozenset({"emergency", "request_human"})
#: A score in words with more text is not taken when the message is confidently one of these.
REQUESTS = frozenset({"report_repair", "check_ticket", "ask_question"})
#: Handled normally instead of being stored as the comment.
NOT_A_COMMENT = frozenset({"emergency", "request_human", "report_repair", "check_ticket", "ask_question",
                           "greet", "goodbye", "bot_challenge"})
_EXPLICIT_COMPLAINT = re.compile(r"投诉|举报|\bcomplain", re.IGNORECASE)
#: Confidence from which an intent counts as what the message is. Comments are free text the
#: classifier often half-recognises ("师傅很耐心 110479": check_ticket 0.55), hence the higher bar.
CONFIDENT, CONFIDENT_NOT_A_COMMENT = 0.5, 0.7


def decide(tracker: DialogueStateTracker, now: Optional[float] = None) -> Optional[str]:
    """The action this policy predicts for ``tracker``, or ``None`` (see the module docstring)."""
    turn = turn_of(tracker)
    if turn["after"] in (ACTION_RATING, ACTION_COMMENT):
        return ACTION_LISTEN_NAME  # whatever the slot holds now (they clear it when done)
    request = tracker.get_slot(SLOT)
    if not isinstance(request, dict) or tracker.active_loop_name:
        return None
    if turn["after"] is not None or turn["user"] is None:
        return None  # in the middle of another turn
    message = turn["user"]
    text = (message.text or "").strip()
    intent = message.intent or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if not text or text.startswith("/") or name in NEVER:
        return None
    if name == "complaint" and _EXPLICIT_COMPLAINT.search(text):
        return None
    stage = request.get("stage")
    if stage == "rating":
        if float(request.get("expires_at") or 0) <= (time.time() if now is None else now):
            return None
        rating = parse_rating(text)
        if rating is None or (rating.comment and not rating.explicit and name in REQUESTS
                              and confidence >= CONFIDENT):
            return None
        return ACTION_RATING
    if stage == "comment" and turn["before"] == ACTION_RATING:
        if name in NOT_A_COMMENT and confidence >= CONFIDENT_NOT_A_COMMENT:
            return None
        return ACTION_COMMENT
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RatingPolicy(DecisionPolicy):
    """The policy described in the module docstring (``bot.satisfaction.policy.RatingPolicy``)."""

    marker = "rating_policy.json"

    def decide(self, tracker: DialogueStateTracker) -> Optional[str]:
        """:func:`decide`."""
        return decide(tracker)
