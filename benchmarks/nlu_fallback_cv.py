"""Choose the own set's fallback threshold by cross-validation on the training data only.

    .venv/bin/python benchmarks/nlu_fallback_cv.py [--folds 5] [--force]

The project's held-out test file must not tune anything, and the training data
has no separate validation split, so: split ``data/nlu.yml`` into k folds
(stratified by intent, fixed seed), train the transformer pipeline of
``config.yml`` (without its ``FallbackClassifier``) on k-1 folds, parse the
held-out fold, and pool the out-of-fold (intent, confidence) pairs. The table
shows in-scope accuracy and out-of-scope recall of those pooled predictions for
each candidate threshold; the chosen one maximises overall accuracy, and among
equally accurate thresholds it is the highest (it sends more uncertain messages to
the fallback, i.e. the knowledge base or a human, at no cost in accuracy). Cached in ``benchmarks/results/own_fallback_cv.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from nlu_datasets import Utterance, load_dataset  # noqa: E402
from nlu_metrics import apply_threshold, intent_scores, tune_threshold  # noqa: E402
from nlu_worker import parse_all, quiet_rasa, ranked, write_training_data  # noqa: E402

CANDIDATES = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def folds_of(rows: List[Utterance], k: int, seed: int = 42) -> List[List[int]]:
    """Indices of ``rows`` in ``k`` folds, each intent spread evenly over the folds."""
    by_intent: Dict[str, List[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_intent[row.intent].append(i)
    folds: List[List[int]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    offset = 0
    for intent in sorted(by_intent):
        idx = by_intent[intent]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(i)
        offset += len(idx)
    return folds


def run(args: argparse.Namespace) -> Dict:
    """Train k models and return the pooled out-of-fold figures."""
    from rasa.model_training import train_nlu
    from rasa.core.agent import Agent

    data = load_dataset("own", Path(args.data_root))
    rows = data.train
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    fallback = next((c for c in config["pipeline"] if c["name"] == "FallbackClassifier"), {})
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "FallbackClassifier"]
    config.pop("policies", None)
    gold: List[str] = []
    predictions: List[List] = []
    start = time.time()
    folds = folds_of(rows, args.folds)
    for n, held_out in enumerate(folds, 1):
        work = Path(tempfile.mkdtemp(prefix=f"fallback-cv-{n}-"))
        held = set(held_out)
        (work / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        train = write_training_data([r for i, r in enumerate(rows) if i not in held], work / "train.json")
        print(f"[fallback-cv] fold {n}/{args.folds}: train {len(rows) - len(held)}, held out {len(held)}", flush=True)
        model = train_nlu(str(work / "config.yml"), str(train), str(work / "models"), fixed_model_name="model")
        quiet_rasa()
        results, _ = parse_all(Agent.load(model), [rows[i].text for i in held_out])
        gold += [rows[i].intent for i in held_out]
        predictions += [ranked(r) for r in results]
        shutil.rmtree(work, ignore_errors=True)
    oos = data.oos_intent
    curve = []
    for t in CANDIDATES:
        s = intent_scores(gold, [apply_threshold(p, t, oos) for p in predictions], oos)
        curve.append({"threshold": t, **{k: round(v, 4) for k, v in s.items() if isinstance(v, float)}})
    chosen = tune_threshold(gold, predictions, oos, ties="highest")
    return {"predictions": [[g, *p[0]] for g, p in zip(gold, predictions)], "folds": args.folds, "n": len(gold), "seconds": round(time.time() - start),
            "configured_threshold": fallback.get("threshold"), "chosen_threshold": round(chosen, 2),
            "curve": curve}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", default=str(HERE.parent / "config.yml"))
    parser.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "datasets"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    out = HERE / "results" / "own_fallback_cv.json"
    if out.exists() and not args.force:
        record = json.loads(out.read_text())
    else:
        record = run(args)
        record["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2))
    print(f"\n{record['folds']}-fold CV on data/nlu.yml ({record['n']} messages, {record['seconds']} s); "
          f"threshold chosen: {record['chosen_threshold']} (config.yml: {record['configured_threshold']})\n")
    print("| threshold | accuracy | in-scope acc | OOS recall |\n|---|---|---|---|")
    for row in record["curve"]:
        print(f"| {row['threshold']} | {row['accuracy']:.2%} | {row['in_scope_accuracy']:.2%} | {row['oos_recall']:.2%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
