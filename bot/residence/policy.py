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
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.residence.detect import confirmation, corrected_unit, stated_unit, subscription_command

logger = logging.getLogger(__name__)

ACTION_RESIDENCE, ACTION_SUBSCRIPTION = "action_residence", "action_notice_subscription"
SLOT = "pending_residence"
#: Always handled normally, whatever the text says.
NEVER = frozenset({"emergency", "request_human"})
_SKIPPED = (ACTION_LISTEN_NAME, "action_extract_slots", None)


def _turn(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """``{"after": <first action run since the latest user message> | None, "user": <that
    UserUttered> | None, "before": <the last action before it other than listening>}``."""
    after: Optional[str] = None
    user: Optional[UserUttered] = None
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            if user is None:
                if after is None and event.action_name and event.action_name != "action_extract_slots":
                    after = event.action_name
            elif event.action_name not in _SKIPPED:
                return {"after": after, "user": user, "before": event.action_name}
        elif isinstance(event, UserUttered) and user is None:
            user = event
            if after is not None:
                break
    return {"after": after, "user": user, "before": None}


def decide(tracker: DialogueStateTracker) -> Optional[str]:
    """The action this policy predicts for ``tracker``, or ``None`` (abstain; see the module docstring)."""
    turn = _turn(tracker)
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
class ResidentRequestPolicy(Policy):
    """The policy described in the module docstring (``bot.residence.policy.ResidentRequestPolicy``)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Above RulePolicy (6): its prediction wins when it makes one (it abstains otherwise)."""
        return {"priority": 7}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, featurizer: Any = None) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn; writes a marker so that the model archive has this policy's resource."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "resident_request_policy.json").write_text("{}", encoding="utf-8")
        return self._resource

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        """Confidence 1 for the action :func:`decide` names, all zeros otherwise (abstain)."""
        probabilities = self._default_predictions(domain)
        action = decide(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
            logger.debug("ResidentRequestPolicy predicts %s", action)
        return self._prediction(probabilities)
