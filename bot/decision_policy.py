"""A Rasa policy that predicts the one action a rule names and abstains otherwise.

Linli's own policies (``bot.satisfaction.policy.RatingPolicy``,
``bot.residence.policy.ResidentRequestPolicy``) sit above RulePolicy and take a turn only when
a message is plainly theirs (a rating, "我住3栋2单元502", "退订通知"); every other turn is
predicted as if they did not exist. They learn nothing: a subclass implements :meth:`decide`.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

_SKIPPED = (ACTION_LISTEN_NAME, "action_extract_slots", None)


def turn_of(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Where the conversation stands: ``{"after": <first action run since the latest user message>
    | None, "user": <that UserUttered> | None, "before": <the last action before it other than listening>}``."""
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
    return {"after": after, "user": user, "before": None}


class DecisionPolicy(Policy):
    """Base of a policy whose :meth:`decide` names the action to run, or ``None`` to abstain.

    Subclasses register themselves with ``@DefaultV1Recipe.register(POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=True)`` and set :attr:`marker` (the file their resource holds in the model archive).
    """

    #: File written into the model archive, so that the archive has this policy's resource.
    marker = "decision_policy.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Above RulePolicy (6): its prediction wins when it makes one (it abstains otherwise)."""
        return {"priority": 7}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, featurizer: Any = None) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def decide(self, tracker: DialogueStateTracker) -> Optional[str]:
        """The action to predict for ``tracker``, or ``None``."""
        raise NotImplementedError

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn; writes :attr:`marker`."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.marker).write_text("{}", encoding="utf-8")
        return self._resource

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        """Confidence 1 for the action :meth:`decide` names, all zeros otherwise (abstain)."""
        probabilities = self._default_predictions(domain)
        action = self.decide(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
            logger.debug("%s predicts %s", type(self).__name__, action)
        return self._prediction(probabilities)
