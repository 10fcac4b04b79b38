"""Rasa 3.6 component: fine-tuned transformer for intents and entities (issue 3).

Fine-tunes the provisioned multilingual-e5-small (or any Hub/local encoder
with a fast tokenizer) during ``rasa train`` with a joint intent head and a
BIO entity head, stores encoder + tokenizer + heads in the model archive and
predicts calibrated intent confidences plus entities with exact character
offsets.  The training itself lives in the Rasa-independent
:mod:`bot.nlu.joint_trainer`.

Confidences: label smoothing (``label_smoothing``) during training keeps them
away from 1.0; with ``calibration_fraction > 0`` a stratified held-out part of
the training data is used to fit a softmax temperature (then the model is
trained on the rest only).
"""
from __future__ import annotations

import hashlib
import logging
import random
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.bio import Span
from bot.nlu.cache import PredictionCache
from bot.nlu.joint_predictor import JointPredictor
from bot.nlu.joint_trainer import Example, TrainConfig, train
from bot.nlu.threads import configure_threads
from bot.provision.paths import E5_DIR, STAMP_FILE

logger = logging.getLogger(__name__)
# Bump when training or storage changes in a way that makes cached Rasa models stale.
CODE_VERSION = "transformer-nlu-2"


def _overlaps(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    return a.get("start", -1) < b.get("end", -1) and b.get("start", -1) < a.get("end", -1)


def examples_from_training_data(training_data: TrainingData) -> List[Example]:
    """Rasa messages with text and intent -> trainer examples (entity roles/groups ignored)."""
    examples: List[Example] = []
    for message in training_data.intent_examples:
        text = message.get(TEXT)
        if not text:
            continue
        spans = [
            Span(int(e["start"]), int(e["end"]), str(e["entity"]))
            for e in message.get(ENTITIES) or []
            if "start" in e and "end" in e
        ]
        examples.append(Example(text, message.get(INTENT), spans))
    return examples


def split_for_calibration(examples: List[Example], fraction: float, seed: int) -> Tuple[List[Example], List[Example]]:
    """Stratified split: ``fraction`` of each intent with >= 4 examples is held out."""
    if fraction <= 0:
        return examples, []
    rng = random.Random(seed)
    by_intent: Dict[str, List[Example]] = {}
    for ex in examples:
        by_intent.setdefault(ex.intent, []).append(ex)
    keep, held = [], []
    for group in by_intent.values():
        group = group[:]
        rng.shuffle(group)
        n = int(len(group) * fraction) if len(group) >= 4 else 0
        held += group[:n]
        keep += group[n:]
    return keep, held


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class TransformerNLU(GraphComponent, IntentClassifier, EntityExtractorMixin):
    """Joint intent classifier and entity extractor on a fine-tuned transformer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults; every key can be overridden in ``config.yml``."""
        return {
            "model_name_or_path": None,  # None -> provisioned multilingual-e5-small (bot.provision.paths)
            "epochs": 6,
            "batch_size": 16,
            "learning_rate": 5e-5,
            "head_learning_rate": 2e-3,
            "max_length": 64,
            "random_seed": 42,
            "device": "auto",
            "freeze_embeddings": True,
            "num_hidden_layers": 0,
            "trainable_layers": 4,
            "label_smoothing": 0.1,
            "entity_loss_weight": 1.0,
            "calibration_fraction": 0.0,
            "ranking_length": 10,
            "entity_confidence_threshold": 0.0,
            "num_threads": 0,  # training (0 = auto, bot.nlu.threads)
            # Serving: one thread. A forward pass on one short message gains little from a second
            # thread, and OpenMP threads spinning against another process (a second replica, the
            # action server) made it 3-10x slower on 2 cores (docs/benchmarks.md "Load").
            "inference_threads": 1,
            "cache_size": 2048,  # predictions kept by text (bot.nlu.cache); 0 = none
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        predictor: Optional[JointPredictor] = None,
    ) -> None:
        self.component_config = config
        self._model_storage, self._resource = model_storage, resource
        self._predictor = predictor
        self._cache: PredictionCache = PredictionCache(int(config.get("cache_size") or 0))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TransformerNLU":
        """New, untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain (instead of reusing Rasa's cache) when this code's storage or the encoder changes."""
        path = Path(config.get("model_name_or_path") or E5_DIR)
        stamp = path / STAMP_FILE
        encoder_id = stamp.read_text(encoding="utf-8") if stamp.is_file() else str(path)
        return f"{CODE_VERSION}:{hashlib.sha256(encoder_id.encode()).hexdigest()[:16]}"

    def _train_config(self) -> TrainConfig:
        values = dict(self.component_config)
        path = values.get("model_name_or_path") or str(E5_DIR)
        if not values.get("model_name_or_path") and not Path(path).is_dir():
            raise FileNotFoundError(
                f"Pretrained encoder not found at {path}. Run `.venv/bin/python -m bot.provision --only e5` "
                "or set model_name_or_path for TransformerNLU in config.yml."
            )
        values["model_name_or_path"] = path
        return TrainConfig.from_dict(values)

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune on the NLU examples and persist into the model storage."""
        examples = examples_from_training_data(training_data)
        if not examples:
            logger.warning("TransformerNLU: no intent examples in the training data; nothing trained.")
            return self._resource
        cfg = self._train_config()
        fit, held = split_for_calibration(
            examples, float(self.component_config.get("calibration_fraction") or 0), cfg.random_seed
        )
        self._predictor = train(fit, cfg, log=logger.info, calibration_examples=held or None)
        self._cache = PredictionCache(self._cache.size)
        with self._model_storage.write_to(self._resource) as folder:
            self._predictor.save(Path(folder))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TransformerNLU":
        """Load the fine-tuned model from the archive (everything it needs is inside)."""
        configure_threads(int(config.get("inference_threads") or 0))
        try:
            with model_storage.read_from(resource) as folder:
                predictor = JointPredictor.load(Path(folder), config.get("device", "auto"))
        except ValueError:
            logger.warning("TransformerNLU: no trained model in the archive; it will predict nothing.")
            predictor = None
        return cls(config, model_storage, resource, predictor)

    def process(self, messages: List[Message]) -> List[Message]:
        """Set ``intent``, ``intent_ranking`` and add learned ``entities``."""
        if self._predictor is None:
            return messages
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return messages
        top_k = int(self.component_config.get("ranking_length") or 0) or None
        threshold = float(self.component_config.get("entity_confidence_threshold") or 0.0)
        predictions = self._cache.get_many([m.get(TEXT) for m in todo],
                                           lambda texts: self._predictor.predict(texts, top_k=top_k))
        for message, pred in zip(todo, predictions):
            ranking = [{"name": name, "confidence": conf} for name, conf in pred.intent_ranking]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            self._add_entities(message, [s for s in pred.spans if s.confidence >= threshold])
        return messages

    def _add_entities(self, message: Message, spans: List[Span]) -> None:
        """Append learned spans that do not overlap entities another extractor already set."""
        text = message.get(TEXT)
        existing = message.get(ENTITIES) or []
        new = [
            {"entity": s.label, "start": s.start, "end": s.end, "value": text[s.start : s.end],
             "confidence_entity": round(s.confidence, 4)}
            for s in spans
        ]
        new = [e for e in new if not any(_overlaps(e, old) for old in existing)]
        new = self.add_extractor_name(new)
        message.set(ENTITIES, sorted(existing + new, key=lambda e: e.get("start", 0)), add_to_output=True)
