"""Benchmark metrics (benchmarks/nlu_metrics.py): OOS handling and threshold tuning."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from nlu_metrics import entity_f1, intent_scores, macro_f1, tune_threshold  # noqa: E402


def test_fallback_counts_as_correct_only_for_out_of_scope() -> None:
    gold = ["greet", "oos", "greet", "oos"]
    pred = ["greet", "nlu_fallback", "nlu_fallback", "greet"]
    s = intent_scores(gold, pred, "oos")
    assert s["accuracy"] == pytest.approx(0.5)
    assert s["in_scope_accuracy"] == pytest.approx(0.5)
    assert s["oos_recall"] == pytest.approx(0.5)


def test_macro_f1_weights_classes_equally() -> None:
    assert macro_f1(["a", "a", "a", "b"], ["a", "a", "a", "a"]) == pytest.approx((6 / 7 + 0) / 2)


def test_entity_f1_needs_exact_offsets() -> None:
    gold = [(0, "phone", 16, 27)]
    assert entity_f1(gold, [(0, "phone", 16, 27)])["entity_f1"] == 1.0
    assert entity_f1(gold, [(0, "phone", 15, 27)])["entity_f1"] == 0.0


def test_threshold_tuning_separates_low_confidence_oos() -> None:
    gold = ["a", "b", "oos", "oos"]
    ranked = [[("a", 0.9)], [("b", 0.8)], [("a", 0.3)], [("b", 0.5)]]
    t = tune_threshold(gold, ranked, "oos")
    assert 0.5 < t <= 0.8
