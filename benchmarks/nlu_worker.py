"""One benchmark run: train one pipeline on one data set with Rasa, then parse the test set.

Run by ``bench_nlu.py`` in a child process so that peak RSS and timings belong
to this run alone.  Writes a JSON result file.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, for bot.* components

from nlu_datasets import Dataset, Utterance, load_dataset  # noqa: E402
from nlu_metrics import (apply_threshold, entity_f1, intent_scores, latency_ms, operating_points,  # noqa: E402
                         tune_threshold)

FALLBACK_NAME = "FallbackClassifier"


def parse_overrides(items: List[str]) -> Dict[str, Any]:
    """``["epochs=3", "device=cpu"]`` -> ``{"epochs": 3, "device": "cpu"}`` (YAML-typed values)."""
    result: Dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        result[key.strip()] = yaml.safe_load(value)
    return result


def prepare_config(path: Path, dataset: Dataset, overrides: Dict[str, Any], out: Path) -> Tuple[Path, float]:
    """Copy the config; apply overrides to the intent classifier; drop the fallback for public sets.

    On public data sets the out-of-scope decision is a threshold tuned on
    validation data instead (returned, 0.0 = none), so it is applied here.
    """
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    pipeline = []
    threshold = 0.0
    for component in config["pipeline"]:
        name = component["name"]
        if name == FALLBACK_NAME and dataset.name != "own":
            threshold = float(component.get("threshold", 0.3))
            continue
        if name.endswith("TransformerNLU") or name == "DIETClassifier":
            component = {**component, **overrides}
        pipeline.append(component)
    config["pipeline"] = pipeline
    config.pop("policies", None)
    out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out, threshold


def write_training_data(rows: List[Utterance], out: Path) -> Path:
    """Rasa JSON format: texts are taken literally (no ``[entity](type)`` markup parsing)."""
    examples = [{"text": u.text, "intent": u.intent, "entities": [dict(e, value=u.text[e["start"]:e["end"]]) for e in u.entities]} for u in rows]
    out.write_text(json.dumps({"rasa_nlu_data": {"common_examples": examples}}, ensure_ascii=False), encoding="utf-8")
    return out


def parse_all(agent, texts: List[str]) -> Tuple[List[Dict[str, Any]], List[float]]:
    """Parse messages one by one (as in production), timing each."""
    loop = asyncio.new_event_loop()
    loop.run_until_complete(agent.parse_message(texts[0] if texts else "warm up"))
    results, times = [], []
    for text in texts:
        start = time.perf_counter()
        results.append(loop.run_until_complete(agent.parse_message(text)))
        times.append(time.perf_counter() - start)
    return results, times


def ranked(result: Dict[str, Any]) -> List[Tuple[str, float]]:
    """Intent ranking of a parse result (top intent first)."""
    ranking = result.get("intent_ranking") or [result["intent"]]
    return [(r["name"], float(r["confidence"])) for r in ranking]


def quiet_rasa() -> None:
    """Stop Rasa's per-message debug logs: they flood the output and inflate latency."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """Train, evaluate and return the result record."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    dataset = load_dataset(args.dataset, Path(args.data_root))
    work = Path(tempfile.mkdtemp(prefix=f"bench-{args.dataset}-{args.system}-"))
    config, threshold = prepare_config(Path(args.config), dataset, parse_overrides(args.set or []), work / "config.yml")
    data = write_training_data(dataset.train, work / "train.json")
    print(f"[bench] {args.system} on {args.dataset}: {len(dataset.train)} train / {len(dataset.test)} test", flush=True)
    start = time.time()
    model_path = train_nlu(str(config), str(data), str(work / "models"), fixed_model_name="model")
    train_s = time.time() - start
    if not model_path:
        raise RuntimeError("rasa train_nlu produced no model")
    quiet_rasa()
    agent = Agent.load(model_path)
    results, times = parse_all(agent, [u.text for u in dataset.test])
    gold = [u.intent for u in dataset.test]
    record: Dict[str, Any] = {"n_train": len(dataset.train), "n_test": len(dataset.test)}
    if dataset.val and dataset.oos_intent:
        val_results, _ = parse_all(agent, [u.text for u in dataset.val])
        threshold = tune_threshold([u.intent for u in dataset.val], [ranked(r) for r in val_results], dataset.oos_intent)
        # Top-1 (intent, confidence) per message, so thresholds can be re-examined without retraining.
        record["val_top1"] = [ranked(r)[0] for r in val_results]
        record["test_top1"] = [ranked(r)[0] for r in results]
        record["operating_points"] = operating_points([u.intent for u in dataset.val], record["val_top1"],
                                                      gold, record["test_top1"], dataset.oos_intent)
    if dataset.val and dataset.oos_intent and args.system.startswith("transformer") and dataset.name != "own":
        from nlu_distance_oos import evaluate as distance_oos  # noqa: E402
        from nlu_distance_oos import from_record as combined_oos  # noqa: E402

        print("[bench] distance-based out-of-scope scores (Mahalanobis, max cosine)", flush=True)
        record["distance_oos"] = distance_oos(Path(model_path), dataset.train, dataset.val, dataset.test,
                                              [ranked(r)[0][0] for r in val_results],
                                              [ranked(r)[0][0] for r in results], dataset.oos_intent)
        record["combined_oos"] = combined_oos(record, [u.intent for u in dataset.val], gold, dataset.oos_intent)
    if dataset.name != "own" and dataset.oos_intent:
        pred = [apply_threshold(ranked(r), threshold, dataset.oos_intent) for r in results]
        record["oos_threshold"] = threshold
    else:
        pred = [r["intent"]["name"] for r in results]
    record.update(intent_scores(gold, pred, dataset.oos_intent))
    if dataset.has_entities:
        g = [(i, e["entity"], e["start"], e["end"]) for i, u in enumerate(dataset.test) for e in u.entities]
        p = [(i, e["entity"], e["start"], e["end"]) for i, r in enumerate(results) for e in r.get("entities", [])]
        record.update(entity_f1(g, p))
    record.update(latency_ms(times))
    record.update(
        {
            "train_seconds": train_s,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "archive_mb": os.path.getsize(model_path) / 2**20,
            "errors": [(u.text, u.intent, p_) for u, p_ in zip(dataset.test, pred) if u.intent != p_][:50],
        }
    )
    shutil.rmtree(work, ignore_errors=True)  # the trained archive (~115 MB) is not needed any more
    return record


def main() -> None:
    """CLI entry for one run (see ``bench_nlu.py``)."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("bot").setLevel(logging.INFO)  # training progress of TransformerNLU
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--set", action="append")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    record = run(args)
    Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
