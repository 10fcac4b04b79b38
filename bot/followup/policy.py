"""``FollowupPolicy``: an elliptical follow-up to a knowledge-base answer goes back to the knowledge base.

The intent classifier sees one message at a time. Right after "物业几点下班？" was answered,
"周末呢？" is a question about the office's weekend hours, but on its own the classifier
called it ``greet`` (0.41); "收费不" after a parking answer was ``deny``, "and the gym?"
``affirm``. Those turns got a greeting or a "no" handled, never the answer. Measured on the
follow-up messages of knowledge/eval/followup_questions.yaml, 33 of 114 were routed away from
the knowledge base this way (docs/benchmarks.md, *Follow-ups end to end*).

This policy (config.yml, above the rules) takes the turn and predicts
``action_answer_question`` (which resolves the follow-up, :mod:`knowledge.followup`) only when
all of these hold, and abstains otherwise:

* the bot's previous action was ``action_answer_question`` with a knowledge-base context
  in the slot ``kb_context``, and no form is active;
* the message leans on the previous one (:func:`knowledge.followup.analyse`: little content
  of its own, a continuation marker "那…"/"…呢"/"and …", or an anaphor "it"/"它"), **and**
  it is a question or carries a marker or anaphor: "你好", "谢谢", "好的", "不用了" are
  short too, but ask nothing;
* the classifier's intent is not already routed to the knowledge base, is not one that is
  always honoured (an emergency, a request for a human, "are you a robot"), and its
  confidence is below ``SOCIAL_BELOW`` (greetings, thanks, yes/no…) or ``TASK_BELOW``
  (a repair report, a complaint, a ticket query: costlier to take away).

After its own ``action_answer_question`` it predicts ``action_listen``.
"""

from __future__ import annotations

import logging
from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.decision_policy import DecisionPolicy, turn_of
from bot.nlu.questions import is_question

logger = logging.getLogger(__name__)

ACTION = "action_answer_question"
#: Intents the rules already send to the knowledge base.
ROUTED = frozenset({"ask_question", "nlu_fallback", "out_of_scope"})
#: Always handled as classified, whatever the text looks like.
NEVER = frozenset({"emergency", "request_human", "bot_challenge"})
#: Intents that start or change a task: taken over only when the classifier is unsure.
TASKS = frozenset({"report_repair", "complaint", "check_ticket"})
# Confidence limits, chosen on knowledge/eval/followup_questions.yaml's follow-ups against
# data/test/nlu_test.yml's other messages (docs/benchmarks.md: 0.8 took none of the latter).
SOCIAL_BELOW = 0.8
TASK_BELOW = 0.5


def follows_up(message: UserUttered, language: str) -> bool:
    """Does ``message`` read as a follow-up question and not as what its intent says?"""
    from knowledge.followup import analyse  # imported late: the knowledge package pulls in FAISS

    text = (message.text or "").strip()
    intent = message.intent or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if not text or text.startswith("/") or name in ROUTED or name in NEVER:
        return False
    if confidence >= (TASK_BELOW if name in TASKS else SOCIAL_BELOW):
        return False
    cues = analyse(text, language)
    return cues.elliptical and (cues.marker or cues.anaphor or is_question(text))


def decide(tracker: DialogueStateTracker) -> Optional[str]:
    """The action this policy predicts for ``tracker``, or ``None`` (see the module docstring)."""
    from knowledge.followup import KB_CONTEXT_SLOT, KBContext
    from knowledge.lang import language_or

    turn = turn_of(tracker)
    if tracker.active_loop_name or turn["user"] is None or turn["before"] != ACTION:
        return None
    context = KBContext.from_json(tracker.get_slot(KB_CONTEXT_SLOT))
    if context is None or not follows_up(turn["user"], language_or(turn["user"].text or "", context.language)):
        return None
    if turn["after"] is None:
        logger.debug("follow-up %r (intent %s) goes to the knowledge base", turn["user"].text,
                     (turn["user"].intent or {}).get("name"))
        return ACTION
    return ACTION_LISTEN_NAME if turn["after"] == ACTION else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class FollowupPolicy(DecisionPolicy):
    """The policy described in the module docstring (``bot.followup.policy.FollowupPolicy``)."""

    marker = "followup_policy.json"

    def decide(self, tracker: DialogueStateTracker) -> Optional[str]:
        """:func:`decide`."""
        return decide(tracker)
