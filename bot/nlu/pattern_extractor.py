"""Rasa NLU component: extracts ``unit``, ``phone`` and ``ticket_id`` by pattern.

These entities have a strict shape, so patterns find them with exact offsets
and normalise their values (``B3-502`` → ``3栋502``, ``+86 138 1234 5678`` →
``13812345678``) before any slot sees them. Learned extractors in the same
pipeline may propose the same spans; this component drops learned entities that
overlap one of its own, so the pipeline never emits duplicates. With
``authoritative: true`` (the default) it also drops learned entities of its own
types that it did not confirm: a learned "unit" that no pattern accepts would
only fail the form's validation (which uses the same patterns) and make the
assistant re-ask a question the resident already answered.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.patterns import find_entities


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class PatternEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds structured entities (units, phones, ticket numbers) with patterns."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Which entity types to extract; all by default."""
        return {"entities": ["unit", "phone", "ticket_id"], "authoritative": True}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._entities = set(config.get("entities") or [])
        self._authoritative = bool(config.get("authoritative", True))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PatternEntityExtractor":
        """Create the component; it has nothing to train or persist."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Add pattern entities to each message, replacing overlapping ones."""
        for message in messages:
            text = message.get(TEXT) or ""
            found = [
                {
                    "entity": m.entity,
                    "start": m.start,
                    "end": m.end,
                    "value": m.value,
                }
                for m in find_entities(text)
                if m.entity in self._entities
            ]
            found = self.add_extractor_name(found)
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if not (self._authoritative and e.get("entity") in self._entities)
                and not any(
                    e.get("start", -1) < f["end"] and f["start"] < e.get("end", -1)
                    for f in found
                )
            ]
            message.set(
                ENTITIES,
                sorted(kept + found, key=lambda e: e.get("start", 0)),
                add_to_output=True,
            )
        return messages
