"""Distance-based out-of-scope scores (benchmarks/nlu_distance_oos.py) on synthetic sentence vectors."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from nlu_distance_oos import _decide, _rates, _scores, combined  # noqa: E402
from nlu_metrics import IN_SCOPE_FLOOR  # noqa: E402


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_messages_far_from_every_intent_score_higher_than_messages_of_an_intent() -> None:
    rng = np.random.default_rng(0)
    centres = _unit(rng.normal(size=(3, 16)))
    train_x = _unit(np.concatenate([c + 0.05 * rng.normal(size=(40, 16)) for c in centres]))
    train_y = [label for label in ("a", "b", "c") for _ in range(40)]
    # The trained "oos" class (CLINC's oos_train) is not an intent to be near.
    train_x = np.concatenate([train_x, _unit(rng.normal(size=(5, 16)))])
    train_y += ["oos"] * 5
    inside = _unit(centres + 0.05 * rng.normal(size=(3, 16)))
    outside = _unit(rng.normal(size=(3, 16)))
    scores = _scores(train_x, train_y, np.concatenate([inside, outside]), "oos", centres)
    for name in ("mahalanobis", "relative_mahalanobis", "max_cosine"):
        assert scores[name][:3].max() < scores[name][3:].min(), name


def test_the_decision_keeps_the_classifier_s_own_oos_and_rates_count_both_sides() -> None:
    pred = _decide(["a", "oos", "b", "c"], np.array([0.1, 0.1, 0.9, 0.2]), 0.5, "oos")
    assert pred == ["a", "oos", "oos", "c"]
    assert _rates(["a", "oos", "oos", "b"], pred, "oos") == {"in_scope_accuracy": 0.5, "oos_recall": 1.0,
                                                              "accuracy": 0.75}


def _split(rng: np.random.Generator) -> tuple:
    """In-scope messages are unsure *or* far, never both; out-of-scope ones are both."""
    unif = rng.uniform
    n = 200
    conf = np.concatenate([unif(0.2, 0.5, n // 2), unif(0.8, 1.0, n // 2), unif(0.2, 0.5, 20)])
    dist = np.concatenate([unif(0.0, 0.5, n // 2), unif(1.5, 2.0, n // 2), unif(1.5, 2.0, 20)])
    gold = ["a"] * n + ["oos"] * 20
    return gold, [("a", float(c)) for c in conf], list(dist)


def test_the_combined_score_separates_what_neither_score_separates_alone_and_val_decides() -> None:
    rng = np.random.default_rng(1)
    val_gold, val_top1, val_dist = _split(rng)
    test_gold, test_top1, test_dist = _split(rng)
    out = combined(val_gold, val_top1, val_dist, test_gold, test_top1, test_dist, "oos")
    curve = {p["weight"]: p["val_oos_recall"] for p in out["val_curve"]}
    # Either score alone must reject half the in-scope messages to catch the out-of-scope ones.
    assert curve[0.0] < 0.2 and curve[1.0] < 0.2
    assert 0.0 < out["weight"] < 1.0 and out["val"]["oos_recall"] == 1.0
    assert out["val"]["in_scope_accuracy"] >= IN_SCOPE_FLOOR
    assert out["test"]["oos_recall"] >= 0.9 and out["test"]["in_scope_accuracy"] >= 0.9
