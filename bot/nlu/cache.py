"""A small LRU cache of predictions by text.

Residents repeat themselves: "确认", "是的", "不急", "谢谢", "你好", the same FAQ wording.
The model is deterministic at inference (eval mode, no dropout), so a text seen recently gets
exactly the prediction it got then, without a forward pass.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Dict, Generic, List, Sequence, TypeVar

T = TypeVar("T")


class PredictionCache(Generic[T]):
    """At most ``size`` predictions, least recently used evicted first (``size`` 0: no caching)."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._items: "OrderedDict[str, T]" = OrderedDict()
        self.hits = self.misses = 0

    def get_many(self, texts: Sequence[str], compute: Callable[[List[str]], List[T]]) -> List[T]:
        """Predictions for ``texts``; ``compute`` runs once, on the texts not cached (deduplicated)."""
        if not self.size:
            return compute(list(texts))
        found: Dict[str, T] = {}
        for text in texts:
            if text in self._items:
                self._items.move_to_end(text)
                found[text] = self._items[text]
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            for text, value in zip(missing, compute(missing)):
                found[text] = value
                self._items[text] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return [found[t] for t in texts]
