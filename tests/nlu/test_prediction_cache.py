"""Serving-side NLU settings: the prediction cache and one inference thread."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from bot.nlu.bio import Span
from bot.nlu.cache import PredictionCache
from bot.nlu.joint_predictor import Prediction


def test_cache_computes_each_new_text_once_and_keeps_the_order() -> None:
    calls: List[List[str]] = []

    def compute(texts: List[str]) -> List[str]:
        calls.append(texts)
        return [t.upper() for t in texts]

    cache: PredictionCache[str] = PredictionCache(3)
    assert cache.get_many(["a", "b", "a"], compute) == ["A", "B", "A"]
    assert cache.get_many(["b", "c"], compute) == ["B", "C"]
    assert calls == [["a", "b"], ["c"]]  # duplicates in one call and cached texts are not recomputed
    assert (cache.hits, cache.misses) == (2, 3)


def test_cache_evicts_the_least_recently_used_text() -> None:
    seen: List[str] = []
    cache: PredictionCache[str] = PredictionCache(2)
    compute = lambda texts: seen.extend(texts) or list(texts)  # noqa: E731
    cache.get_many(["a", "b"], compute)
    cache.get_many(["a"], compute)      # "a" is now the most recent
    cache.get_many(["c"], compute)      # evicts "b"
    cache.get_many(["a", "b"], compute)
    assert seen == ["a", "b", "c", "b"]


def test_size_zero_never_caches() -> None:
    seen: List[str] = []
    cache: PredictionCache[str] = PredictionCache(0)
    for _ in range(2):
        cache.get_many(["a"], lambda texts: seen.extend(texts) or list(texts))
    assert seen == ["a", "a"]


class CountingPredictor:
    """Stands in for JointPredictor: a fixed prediction, and the texts it was asked about."""

    def __init__(self) -> None:
        self.asked: List[str] = []

    def predict(self, texts: List[str], batch_size: int = 64, top_k: Optional[int] = None) -> List[Prediction]:
        self.asked += texts
        return [Prediction([("report_repair", 0.9), ("inform", 0.1)], [Span(0, 8, "unit", 0.99)]) for _ in texts]


def _component(tmp_path: Path, predictor=None, **overrides):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.transformer_nlu import TransformerNLU

    (tmp_path / "storage").mkdir(parents=True, exist_ok=True)
    storage, resource = LocalModelStorage(tmp_path / "storage"), Resource("transformer_nlu")
    config = {**TransformerNLU.get_default_config(), **overrides}
    if predictor is None:
        return TransformerNLU.load(config, storage, resource, ExecutionContext(GraphSchema({}), "test"))
    return TransformerNLU(config, storage, resource, predictor)


def test_a_repeated_message_is_answered_from_the_cache_with_its_own_entities(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.message import Message

    predictor = CountingPredictor()
    component = _component(tmp_path, predictor)
    text = "3栋2单元502卫生间漏水"
    first, second = Message(data={"text": text}), Message(data={"text": text})
    component.process([first])
    second.set("entities", [{"entity": "unit", "start": 0, "end": 8, "value": "3栋2单元502", "extractor": "Pattern"}])
    component.process([second])
    assert predictor.asked == [text]
    assert first.get("intent") == second.get("intent") == {"name": "report_repair", "confidence": 0.9}
    assert [e["extractor"] for e in first.get("entities")] == ["TransformerNLU"]
    # The cached prediction is applied afresh: the pattern's unit stays the only one.
    assert [e["extractor"] for e in second.get("entities")] == ["Pattern"]


def test_cache_size_zero_predicts_every_message(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.message import Message

    predictor = CountingPredictor()
    component = _component(tmp_path, predictor, cache_size=0)
    for _ in range(2):
        component.process([Message(data={"text": "你好"})])
    assert predictor.asked == ["你好", "你好"]


def test_serving_uses_one_torch_thread_unless_configured(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        _component(tmp_path)  # an empty archive: loads without a model, after choosing the threads
        assert torch.get_num_threads() == 1
        _component(tmp_path, inference_threads=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
