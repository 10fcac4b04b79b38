"""Metrics for the NLU benchmark: accuracy, macro-F1, OOS recall, entity F1, latency."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

FALLBACK = "nlu_fallback"


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
    scored = []
    for threshold in np.round(np.linspace(0.0, 0.99, 100), 2):
        s = intent_scores(gold, [apply_threshold(r, float(threshold), oos) for r in ranked], oos)
        score = s["accuracy"] if objective == "accuracy" else (s["in_scope_accuracy"] + s["oos_recall"]) / 2
        scored.append((score, float(threshold)))
    best = max(score for score, _ in scored)
    equal = [t for score, t in scored if score == best]
    return max(equal) if ties == "highest" else min(equal)


def latency_ms(samples: Sequence[float]) -> Dict[str, float]:
    """p50/p95 of per-message latencies given in seconds."""
    arr = np.asarray(samples) * 1000
    return {"latency_p50_ms": float(np.percentile(arr, 50)), "latency_p95_ms": float(np.percentile(arr, 95))}
