"""Metrics for the NLU benchmark: accuracy, macro-F1, OOS recall, entity F1, latency."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

FALLBACK = "nlu_fallback"
# The operating point is >= 95 % test in-scope accuracy; the threshold rule keeps
# *validation* in-scope accuracy half a point above it, so that the val -> test drop of a
# few tenths (measured in every CLINC150 run) stays above 95 %.
IN_SCOPE_FLOOR = 0.955
FLOOR_SENSITIVITY = (0.95, 0.955, 0.96)


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Unweighted mean F1 over the gold labels."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def intent_scores(gold: Sequence[str], pred: Sequence[str], oos: Optional[str]) -> Dict[str, float]:
    """Accuracy and macro-F1; with an OOS label also in-scope accuracy and OOS recall.

    ``nlu_fallback`` counts as a correct answer only for out-of-scope messages.
    """
    pred = [oos if (p == FALLBACK and oos) else p for p in pred]
    result = {
        "accuracy": float(np.mean([g == p for g, p in zip(gold, pred)])),
        "macro_f1": macro_f1(gold, pred),
    }
    if oos and oos in gold:
        inside = [(g, p) for g, p in zip(gold, pred) if g != oos]
        outside = [p for g, p in zip(gold, pred) if g == oos]
        result["in_scope_accuracy"] = float(np.mean([g == p for g, p in inside])) if inside else 0.0
        result["oos_recall"] = float(np.mean([p == oos for p in outside]))
        result["oos_precision"] = float(
            sum(p == oos for g, p in zip(gold, pred) if g == oos) / max(1, sum(p == oos for p in pred))
        )
    return result


Entity = Tuple[int, str, int, int]  # (message index, type, start, end)


def entity_f1(gold: Iterable[Entity], pred: Iterable[Entity]) -> Dict[str, float]:
    """Micro precision/recall/F1 on exact (type, start, end) matches."""
    g: Set[Entity] = set(gold)
    p: Set[Entity] = set(pred)
    tp = len(g & p)
    precision = tp / len(p) if p else 0.0
    recall = tp / len(g) if g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"entity_precision": precision, "entity_recall": recall, "entity_f1": f1}


def apply_threshold(ranked: List[Tuple[str, float]], threshold: float, oos: str) -> str:
    """Top intent, or ``oos`` when its confidence is below ``threshold``."""
    name, conf = ranked[0]
    return oos if conf < threshold else name


def tune_threshold(
    gold: Sequence[str], ranked: Sequence[List[Tuple[str, float]]], oos: str, objective: str = "accuracy",
    ties: str = "lowest",
) -> float:
    """Out-of-scope threshold tuned on validation data (grid 0.00-0.99).

    ``accuracy`` (default, the usual CLINC150 protocol): maximise overall
    validation accuracy (in-scope and out-of-scope messages together).
    ``balanced``: maximise (in-scope accuracy + OOS recall) / 2, which favours
    OOS recall at the cost of in-scope accuracy. ``ties``: which of equally
    good thresholds wins, ``lowest`` or ``highest``.
    """
    grid = np.round(np.linspace(0.0, 0.99, 100), 2)  # the grid of every record so far (operating_points: 0.001)
    rates = _confidence_rates(*_top1_arrays(gold, [r[0] for r in ranked], oos), grid, oos)
    score = rates["accuracy"] if objective == "accuracy" else rates["in_scope_accuracy"] + rates["oos_recall"]
    equal = np.flatnonzero(score == score.max())
    return float(grid[equal[-1] if ties == "highest" else equal[0]])


def _top1_arrays(gold: Sequence[str], top1: Sequence[Tuple[str, float]], oos: str) -> Tuple[np.ndarray, ...]:
    """(gold, top intent, its confidence) as arrays; ``nlu_fallback`` counts as ``oos`` (as in intent_scores)."""
    return (np.asarray(gold), np.asarray([oos if t == FALLBACK else t for t, _ in top1]),
            np.asarray([c for _, c in top1], dtype=float))


def _confidence_rates(gold: np.ndarray, top: np.ndarray, conf: np.ndarray, thresholds: np.ndarray,
                      oos: str) -> Dict[str, np.ndarray]:
    """In-scope accuracy, OOS recall and accuracy at every threshold at once (vectorised)."""
    inside = gold != oos
    rejected = (top == oos)[None, :] | (conf[None, :] < thresholds[:, None])  # thresholds x messages
    right = np.where(inside[None, :], (~rejected) & (top == gold)[None, :], rejected)
    return {"in_scope_accuracy": right[:, inside].mean(1), "oos_recall": right[:, ~inside].mean(1),
            "accuracy": right.mean(1)}


def operating_points(val_gold: Sequence[str], val_top1: Sequence[Tuple[str, float]], test_gold: Sequence[str],
                     test_top1: Sequence[Tuple[str, float]], oos: str) -> Dict[str, Dict]:
    """Confidence thresholds chosen on validation data for three objectives, with their test rates.

    ``accuracy`` (overall val accuracy, the usual CLINC150 protocol), ``balanced``
    ((in-scope accuracy + OOS recall) / 2) and ``in_scope_floor`` (the most val OOS recall
    that keeps val in-scope accuracy >= ``IN_SCOPE_FLOOR``); ``floor_sensitivity`` repeats the
    last for the floors in ``FLOOR_SENSITIVITY``. The grid is 0.000-0.999 in steps of 0.001;
    ties go to the lowest threshold. Only val decides a threshold; test is only reported.
    """
    grid = np.round(np.arange(0.0, 1.0, 0.001), 3)

    val = _confidence_rates(*_top1_arrays(val_gold, val_top1, oos), grid, oos)
    test_arrays = _top1_arrays(test_gold, test_top1, oos)

    def point(index: int) -> Dict:
        test = _confidence_rates(*test_arrays, grid[index:index + 1], oos)
        return {"threshold": float(grid[index]),
                "val": {k: round(float(v[index]), 4) for k, v in val.items()},
                "test": {k: round(float(v[0]), 4) for k, v in test.items()}}

    def floor_point(floor: float) -> Optional[Dict]:
        keeping = np.flatnonzero(val["in_scope_accuracy"] >= floor)
        if not keeping.size:
            return None
        return {"floor": floor, **point(int(keeping[np.argmax(val["oos_recall"][keeping])]))}

    out: Dict[str, Dict] = {"accuracy": point(int(np.argmax(val["accuracy"]))),
                            "balanced": point(int(np.argmax(val["in_scope_accuracy"] + val["oos_recall"])))}
    floor = floor_point(IN_SCOPE_FLOOR)
    if floor is not None:
        out["in_scope_floor"] = floor
    out["floor_sensitivity"] = {str(f): p for f in FLOOR_SENSITIVITY if (p := floor_point(f)) is not None}
    return out


def latency_ms(samples: Sequence[float]) -> Dict[str, float]:
    """p50/p95 of per-message latencies given in seconds."""
    arr = np.asarray(samples) * 1000
    return {"latency_p50_ms": float(np.percentile(arr, 50)), "latency_p95_ms": float(np.percentile(arr, 95))}
