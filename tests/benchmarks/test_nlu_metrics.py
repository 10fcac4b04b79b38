"""Out-of-scope operating points (benchmarks/nlu_metrics.operating_points): val decides, test is reported."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from nlu_metrics import IN_SCOPE_FLOOR, operating_points  # noqa: E402


def _split(n_in: int, wrong: int, low: int, n_oos: int, caught: int):
    """``n_in`` in-scope messages (``wrong`` misclassified, ``low`` of the right ones at 0.2
    confidence, the rest at 0.9) and ``n_oos`` out-of-scope ones (``caught`` labelled oos by
    the classifier, the others "a" at 0.25 confidence)."""
    gold = ["a"] * n_in + ["oos"] * n_oos
    top1 = ([("b", 0.9)] * wrong + [("a", 0.2)] * low + [("a", 0.9)] * (n_in - wrong - low)
            + [("oos", 0.9)] * caught + [("a", 0.25)] * (n_oos - caught))
    return gold, top1


def test_the_floor_point_keeps_val_in_scope_accuracy_and_test_is_only_reported() -> None:
    # Val: 96 of 100 in-scope answers are right at 0.9, 2 right at 0.2, 2 wrong; half the OOS
    # messages are the classifier's own oos, half "a" at 0.25. Any threshold in (0.25, 0.9]
    # keeps 96 % in scope and catches every OOS message; the lowest of them is 0.251.
    val_gold, val_top1 = _split(100, 2, 2, 10, 5)
    # Test is worse at that threshold; the point must not move because of it.
    test_gold, test_top1 = _split(100, 2, 10, 10, 5)
    points = operating_points(val_gold, val_top1, test_gold, test_top1, "oos")
    floor = points["in_scope_floor"]
    assert floor["floor"] == IN_SCOPE_FLOOR
    assert floor["val"]["in_scope_accuracy"] >= IN_SCOPE_FLOOR
    assert floor["threshold"] == 0.251
    assert floor["val"] == {"in_scope_accuracy": 0.96, "oos_recall": 1.0, "accuracy": round(106 / 110, 4)}
    assert floor["test"] == {"in_scope_accuracy": 0.88, "oos_recall": 1.0, "accuracy": round(98 / 110, 4)}
    # Overall val accuracy is best at the same threshold (106 of 110 right).
    assert points["accuracy"]["threshold"] == floor["threshold"]


def test_no_floor_point_when_no_threshold_keeps_the_floor() -> None:
    gold, top1 = _split(100, 10, 0, 10, 5)  # 90 % in scope even with no threshold at all
    points = operating_points(gold, top1, gold, top1, "oos")
    assert "in_scope_floor" not in points
    assert points["floor_sensitivity"] == {}
    assert points["balanced"]["val"]["oos_recall"] == 1.0  # 0.25 < threshold catches the rest
