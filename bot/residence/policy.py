"""``ResidentRequestPolicy``: residence statements and notice subscription commands go to their actions.

A Rasa policy (config.yml, above the rules) that predicts only for the messages it recognises
and abstains otherwise, so every other turn is predicted as if it did not exist. It needs no
training data. Never while a form is active, never in the middle of another turn, never for an
emergency or a request for a human:

* "退订通知" / "取消订阅通知" / "unsubscribe" / "stop notices", "订阅通知" / "subscribe" (the
  whole message): ``action_notice_subscription``;
* the message right after ``action_residence`` asked "您住在3栋2单元502，对吗？" (the slot
  ``pending_residence`` holds the unit): a yes or a no (words, or the affirm/deny intent), or a
  corrected unit ("不对，是3栋2单元503"): ``action_residence``;
* a residence statement and nothing else ("我住3栋2单元502", "I live in building 3 unit 2 room
  502", "我家是5号楼1203"; :func:`bot.residence.detect.stated_unit`): ``action_residence``.
  "我住3栋2单元502，厨房漏水" is a repair report and is left to the form.

After either action it predicts ``action_listen``.
"""

from __future__ import annotations

import logging
from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.decision_policy import DecisionPolicy, turn_of
from bot.residence.detect import confirmation, corrected_unit, stated_unit, subscription_command

logger = logging.getLogger(__name__)

ACTION_RESIDENCE, ACTION_SUBSCRIPTION = "action_residence", "action_notice_subscription"
SLOT = "pending_residence"
#: Always handled normally, whatever the text says.
NEVER = frozenset({"emergency", "request_human"})


def decide(tracker: DialogueStateTracker) -> Optional[str]:
    """The action this policy predicts for ``tracker``, or ``None`` (abstain; see the module docstring)."""
    turn = turn_of(tracker)
    if turn["after"] in (ACTION_RESIDENCE, ACTION_SUBSCRIPTION):
        return ACTION_LISTEN_NAME
    if tracker.active_loop_name or turn["after"] is not None or turn["user"] is None:
        return None
    message = turn["user"]
    text = (message.text or "").strip()
    intent = (message.intent or {}).get("name")
    if not text or text.startswith("/") or intent in NEVER:
        return None
    if subscription_command(text) is not None:
        return ACTION_SUBSCRIPTION
    if tracker.get_slot(SLOT) and turn["before"] == ACTION_RESIDENCE:
        if confirmation(text, intent) is not None or corrected_unit(text) is not None:
            return ACTION_RESIDENCE
    if stated_unit(text) is not None:
        return ACTION_RESIDENCE
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ResidentRequestPolicy(DecisionPolicy):
    """The policy described in the module docstring (``bot.residence.policy.ResidentRequestPolicy``)."""

    marker = "resident_request_policy.json"

    def decide(self, tracker: DialogueStateTracker) -> Optional[str]:
        """:func:`decide`."""
        return decide(tracker)
