"""Distance-based out-of-scope scores for a trained TransformerNLU (issue 15, CLINC150).

The product's out-of-scope decision is Rasa's FallbackClassifier on the calibrated top-1
confidence; on CLINC150 that gave OOS recall 63.3 % at 95.9 % in-scope accuracy. Two
scores that look at *where* a message lies rather than how peaked the softmax is:

- **Mahalanobis** (Lee et al. 2018; Podolskiy et al. 2021 for transformers): one Gaussian
  per in-scope intent over the fine-tuned encoder's pooled, normalised sentence vectors,
  with one shared covariance (Ledoit-Wolf shrinkage), fitted on the training messages; the
  score is the distance to the nearest intent.
- **relative Mahalanobis** (Ren et al. 2021): the same distance minus the distance under one
  background Gaussian fitted to all in-scope training messages, which discounts directions
  that every intent shares (near-OOD messages that only look like "some intent").
- **max cosine**: one minus the cosine to the nearest intent prototype of the model's own
  cosine head (no fitting at all).

A message is out of scope when the classifier says so (CLINC's ``oos`` is a trained
class) or its score is above a threshold. Every choice is made on ``val`` + ``oos_val``
only: the threshold maximises validation accuracy (the usual CLINC protocol, as for the
confidence threshold); a second maximises (in-scope accuracy + OOS recall) / 2; a third
gives the most OOS recall that keeps validation in-scope accuracy at ``IN_SCOPE_FLOOR``.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from nlu_metrics import IN_SCOPE_FLOOR  # one floor for every score (confidence included)


def component_folder(model_archive: Path, into: Path) -> Path:
    """Unpack a Rasa model archive and return the TransformerNLU resource folder in it."""
    with tarfile.open(model_archive) as tar:
        tar.extractall(into)  # our own archive, just trained
    found = [p.parent for p in Path(into).rglob("labels.json") if (p.parent / "heads.pt").exists()]
    if not found:
        raise FileNotFoundError(f"{model_archive}: no TransformerNLU resource (labels.json + heads.pt) inside")
    return found[0]


def _scores(train_x: np.ndarray, train_y: Sequence[str], x: np.ndarray, oos: str, prototypes: np.ndarray) -> Dict[str, np.ndarray]:
    from sklearn.covariance import LedoitWolf

    labels = sorted({y for y in train_y if y != oos})
    y = np.asarray(train_y)
    means = np.stack([train_x[y == c].mean(0) for c in labels])
    centred = np.concatenate([train_x[y == c] - means[i] for i, c in enumerate(labels)])
    precision = LedoitWolf().fit(centred).precision_
    nearest = _squared_distances(x, means, precision).min(1)
    inside = train_x[np.isin(y, labels)]
    background = inside.mean(0, keepdims=True)
    wide = _squared_distances(x, background, LedoitWolf().fit(inside - background).precision_)[:, 0]
    return {"mahalanobis": nearest, "relative_mahalanobis": nearest - wide,
            "max_cosine": 1.0 - (x @ prototypes.T).max(1)}


def _squared_distances(x: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """(x - m)^T P (x - m) for every message and mean, without an N x C x H tensor."""
    xp = x @ precision
    return (xp * x).sum(1)[:, None] - 2 * xp @ means.T + ((means @ precision) * means).sum(1)[None, :]


def _decide(top1: Sequence[str], score: np.ndarray, threshold: float, oos: str) -> List[str]:
    return [oos if (t == oos or s > threshold) else t for t, s in zip(top1, score)]


def _rates(gold: Sequence[str], pred: Sequence[str], oos: str) -> Dict[str, float]:
    inside = [(g, p) for g, p in zip(gold, pred) if g != oos]
    outside = [p for g, p in zip(gold, pred) if g == oos]
    return {"in_scope_accuracy": round(float(np.mean([g == p for g, p in inside])), 4),
            "oos_recall": round(float(np.mean([p == oos for p in outside])), 4),
            "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred)])), 4)}


def evaluate(model_archive: Path, train: Sequence, val: Sequence, test: Sequence, val_top1: Sequence[str],
             test_top1: Sequence[str], oos: str) -> Dict:
    """Both scores, thresholds tuned on ``val``, applied to ``test`` (Utterance lists, top-1 intents)."""
    from bot.nlu.joint_predictor import JointPredictor

    with tempfile.TemporaryDirectory(prefix="oos-") as tmp:
        predictor = JointPredictor.load(component_folder(model_archive, Path(tmp)), "cpu")
        vec = lambda rows: predictor.sentence_vectors([u.text for u in rows]).numpy()  # noqa: E731
        train_x, val_x, test_x = vec(train), vec(val), vec(test)
        prototypes = predictor.model.prototypes.detach().float().cpu().numpy()
        prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
        order = [predictor.model.intents.index(i) for i in predictor.model.intents if i != oos]
        prototypes = prototypes[order]
    train_y = [u.intent for u in train]
    val_s = _scores(train_x, train_y, val_x, oos, prototypes)
    test_s = _scores(train_x, train_y, test_x, oos, prototypes)
    val_gold, test_gold = [u.intent for u in val], [u.intent for u in test]
    out: Dict = {}
    for name in val_s:
        grid = np.quantile(val_s[name], np.linspace(0.5, 0.999, 400))
        rows = [(t, _rates(val_gold, _decide(val_top1, val_s[name], t, oos), oos)) for t in grid]
        chosen = {"accuracy": max(rows, key=lambda r: (r[1]["accuracy"], -r[0])),
                  "balanced": max(rows, key=lambda r: (r[1]["in_scope_accuracy"] + r[1]["oos_recall"], -r[0]))}
        # The operating point, still chosen on val: the most OOS recall that keeps
        # validation in-scope accuracy at IN_SCOPE_FLOOR or more.
        keeping = [r for r in rows if r[1]["in_scope_accuracy"] >= IN_SCOPE_FLOOR]
        if keeping:
            chosen["in_scope_floor"] = max(keeping, key=lambda r: (r[1]["oos_recall"], r[0]))
        out[name] = {objective: {"threshold": round(float(t), 5), "val": v,
                                 "test": _rates(test_gold, _decide(test_top1, test_s[name], t, oos), oos)}
                     for objective, (t, v) in chosen.items()}
        # Kept so other thresholds can be examined without retraining (as val_top1 / test_top1).
        out[name]["val_scores"] = [round(float(x), 4) for x in val_s[name]]
        out[name]["test_scores"] = [round(float(x), 4) for x in test_s[name]]
    return out


# Weights of the confidence in the combined score (the distance gets 1 - w); chosen on val.
COMBINED_WEIGHTS = tuple(round(w, 1) for w in np.arange(0.0, 1.01, 0.1))


def combined(val_gold: Sequence[str], val_top1: Sequence[Sequence], val_distance: Sequence[float],
             test_gold: Sequence[str], test_top1: Sequence[Sequence], test_distance: Sequence[float],
             oos: str) -> Dict:
    """Top-1 confidence and a distance score together: ``w * z(-confidence) + (1 - w) * z(distance)``.

    The two scores see different failures (a peaked softmax far from every intent, a flat
    one close to two), so their sum can separate better than either. Each is z-normalised
    with its val mean and deviation; the weight and the threshold are both chosen on val
    (the most val OOS recall at val in-scope accuracy >= ``IN_SCOPE_FLOOR``; equal recall:
    the weight nearest 0.5). Test is only reported. ``*_top1`` are (intent, confidence) pairs
    as stored in a record; ``*_distance`` the record's ``val_scores`` / ``test_scores``.
    """
    vc = -np.asarray([c for _, c in val_top1], dtype=float)
    tc = -np.asarray([c for _, c in test_top1], dtype=float)
    vd, td = np.asarray(val_distance, dtype=float), np.asarray(test_distance, dtype=float)
    z = lambda a, ref: (a - ref.mean()) / (ref.std() or 1.0)  # noqa: E731
    val_labels, test_labels = [t for t, _ in val_top1], [t for t, _ in test_top1]
    curve, best = [], None
    for w in COMBINED_WEIGHTS:
        score = w * z(vc, vc) + (1 - w) * z(vd, vd)
        rows = [(t, _rates(val_gold, _decide(val_labels, score, t, oos), oos))
                for t in np.quantile(score, np.linspace(0.3, 0.999, 700))]
        keeping = [r for r in rows if r[1]["in_scope_accuracy"] >= IN_SCOPE_FLOOR]
        if not keeping:
            continue
        t, val = max(keeping, key=lambda r: (r[1]["oos_recall"], r[0]))
        curve.append({"weight": w, "val_oos_recall": val["oos_recall"]})
        if best is None or (val["oos_recall"], -abs(w - 0.5)) > (best[2]["oos_recall"], -abs(best[0] - 0.5)):
            best = (w, t, val)
    if best is None:
        return {"val_curve": curve}
    w, t, val = best
    test_score = w * z(tc, vc) + (1 - w) * z(td, vd)
    return {"weight": w, "threshold": round(float(t), 5), "floor": IN_SCOPE_FLOOR, "val": val,
            "test": _rates(test_gold, _decide(test_labels, test_score, t, oos), oos), "val_curve": curve}


def from_record(record: Dict, val_gold: Sequence[str], test_gold: Sequence[str], oos: str) -> Dict:
    """:func:`combined` for every distance score a record kept per message (``{}`` when none)."""
    out = {}
    for name, scores in (record.get("distance_oos") or {}).items():
        if scores.get("val_scores") and record.get("val_top1"):
            out[name] = combined(val_gold, record["val_top1"], scores["val_scores"],
                                 test_gold, record["test_top1"], scores["test_scores"], oos)
    return out
