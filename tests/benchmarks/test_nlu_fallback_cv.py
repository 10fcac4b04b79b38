"""Folds of the fallback-threshold cross-validation (benchmarks/nlu_fallback_cv.py)."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from nlu_datasets import Utterance  # noqa: E402
from nlu_fallback_cv import folds_of  # noqa: E402


def _rows() -> list:
    sizes = {"greet": 10, "report_repair": 23, "out_of_scope": 7}
    return [Utterance(text=f"{intent} {i}", intent=intent, entities=[]) for intent, n in sizes.items() for i in range(n)]


def test_every_message_is_held_out_exactly_once() -> None:
    rows = _rows()
    folds = folds_of(rows, 5)
    flat = [i for fold in folds for i in fold]
    assert sorted(flat) == list(range(len(rows)))


def test_each_intent_is_spread_evenly_and_the_split_is_reproducible() -> None:
    rows = _rows()
    folds = folds_of(rows, 5)
    for intent, total in Counter(r.intent for r in rows).items():
        per_fold = [sum(1 for i in fold if rows[i].intent == intent) for fold in folds]
        assert max(per_fold) - min(per_fold) <= 1, (intent, per_fold)
        assert sum(per_fold) == total
    assert folds == folds_of(rows, 5)
    assert folds != folds_of(rows, 5, seed=7)
