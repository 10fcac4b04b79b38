"""NLU benchmark: the transformer pipeline (config.yml) vs the DIET baseline (config-baseline.yml).

    .venv/bin/python benchmarks/bench_nlu.py --dataset own --dataset banking77 \
        [--data-root ../shared/datasets] [--systems transformer,diet] [--force] \
        [--set epochs=3]  [--diet-set epochs=50]

Each (data set, system) pair is trained and evaluated in its own child process
(``nlu_worker.py``) so timings and peak RSS are its own.  Finished results are
cached as JSON in ``benchmarks/results/``; a rerun prints cached rows unless
``--force``.  Prints one Markdown table per data set.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DATASETS = ["own", "banking77", "clinc150"]
COLUMNS = [
    ("accuracy", "acc", "{:.2%}"),
    ("macro_f1", "macro-F1", "{:.3f}"),
    ("in_scope_accuracy", "in-scope acc", "{:.2%}"),
    ("oos_recall", "OOS recall", "{:.2%}"),
    ("entity_f1", "entity F1", "{:.3f}"),
    ("train_seconds", "train s", "{:.0f}"),
    ("latency_p50_ms", "p50 ms", "{:.1f}"),
    ("latency_p95_ms", "p95 ms", "{:.1f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("archive_mb", "archive MB", "{:.0f}"),
]


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="repeatable; default: own")
    parser.add_argument("--data-root", default=str(REPO_ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--systems", default="transformer,diet", help="comma list of transformer, diet")
    parser.add_argument("--config", default=str(REPO_ROOT / "config.yml"), help="transformer pipeline")
    parser.add_argument("--baseline-config", default=str(REPO_ROOT / "config-baseline.yml"))
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE override for TransformerNLU")
    parser.add_argument("--diet-set", action="append", default=[], help="KEY=VALUE override for DIETClassifier")
    parser.add_argument("--results-dir", default=str(HERE / "results"))
    parser.add_argument("--force", action="store_true", help="rerun even when a cached result exists")
    parser.add_argument("--tag", default="", help="name for a variant (e.g. with --set); kept beside the default rows")
    return parser.parse_args(argv)


def _fingerprint(config: Path, overrides: List[str]) -> str:
    digest = hashlib.sha256(config.read_bytes())
    digest.update("\n".join(overrides).encode())
    return digest.hexdigest()[:12]


def machine() -> str:
    """One-line description of the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {platform.system()} {platform.release()}"


def run_one(dataset: str, system: str, config: Path, overrides: List[str], args: argparse.Namespace) -> Dict[str, Any]:
    """Run (or read from cache) one benchmark pair."""
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    name = f"{system}-{args.tag}" if args.tag else system
    out = results / f"{dataset}__{name}.json"
    fingerprint = _fingerprint(config, overrides)
    if out.is_file() and not args.force:
        record = json.loads(out.read_text(encoding="utf-8"))
        record["cached"] = True
        if record.get("fingerprint") != fingerprint:
            record["stale"] = True
        return record
    cmd = [sys.executable, str(HERE / "nlu_worker.py"), "--system", system, "--dataset", dataset,
           "--config", str(config), "--data-root", args.data_root, "--out", str(out) + ".part"]
    for item in overrides:
        cmd += ["--set", item]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
           "RASA_MAX_CACHE_SIZE": "0"}  # Rasa's training cache would make training times meaningless
    print(f"==> {dataset} / {system}: {' '.join(cmd[1:])}", flush=True)
    start = time.time()
    subprocess.run(cmd, check=True, cwd=REPO_ROOT, env=env)
    record = json.loads(Path(str(out) + ".part").read_text(encoding="utf-8"))
    record.update({"system": name, "dataset": dataset, "config": str(config), "overrides": overrides,
                   "fingerprint": fingerprint, "machine": machine(), "wall_seconds": time.time() - start,
                   "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    Path(str(out) + ".part").unlink()
    return record


def table(dataset: str, records: List[Dict[str, Any]]) -> str:
    """Markdown table of the records of one data set (only columns that have values)."""
    cols = [c for c in COLUMNS if any(c[0] in r for r in records)]
    lines = [f"### {dataset}", "", "| system | " + " | ".join(c[1] for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for r in records:
        flag = " (cached; config or --set differ from this call)" if r.get("stale") else ""
        cells = [c[2].format(r[c[0]]) if c[0] in r else "–" for c in cols]
        lines.append(f"| {r['system']}{flag} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def with_operating_points(dataset: str, records: List[Dict[str, Any]], data_root: Path) -> List[Dict[str, Any]]:
    """Give every record with per-message top-1 results its confidence operating points.

    Runs recorded before ``operating_points`` existed get them computed from their
    ``val_top1`` / ``test_top1`` (thresholds re-examined without retraining; val still decides).
    """
    from nlu_datasets import load_dataset
    from nlu_metrics import operating_points

    missing = [r for r in records if "operating_points" not in r and r.get("val_top1") and r.get("test_top1")]
    if missing:
        data = load_dataset(dataset, data_root)
        for r in missing:
            r["operating_points"] = operating_points([u.intent for u in data.val], r["val_top1"],
                                                     [u.intent for u in data.test], r["test_top1"], data.oos_intent)
            r["operating_points_from_record"] = True
    stored = [r for r in records if "combined_oos" not in r
              and any(s.get("val_scores") for s in (r.get("distance_oos") or {}).values())]
    if stored:
        from nlu_distance_oos import from_record

        data = load_dataset(dataset, data_root)
        for r in stored:  # recorded before the combined score existed: computed from the stored scores
            r["combined_oos"] = from_record(r, [u.intent for u in data.val], [u.intent for u in data.test],
                                            data.oos_intent)
    return [r for r in records if "operating_points" in r]


def operating_point_table(dataset: str, records: List[Dict[str, Any]]) -> str:
    """Markdown table: each system's confidence threshold per val objective, and its test rates."""
    lines = [f"#### {dataset}: out-of-scope confidence threshold per objective (chosen on val; test reported)", "",
             "| system | objective | threshold | val in-scope | val OOS recall | test in-scope | test OOS recall |",
             "|---|---|---|---|---|---|---|"]
    for r in records:
        points = r["operating_points"]
        rows = [(k, points[k]) for k in ("accuracy", "balanced", "in_scope_floor") if k in points]
        rows += [(f"in-scope floor {f}", p) for f, p in points.get("floor_sensitivity", {}).items()]
        for name, p in rows:
            lines.append(f"| {r['system']} | {name} | {p['threshold']:.3f} | {p['val']['in_scope_accuracy']:.2%} | "
                         f"{p['val']['oos_recall']:.2%} | {p['test']['in_scope_accuracy']:.2%} | "
                         f"{p['test']['oos_recall']:.2%} |")
        for name, p in (r.get("combined_oos") or {}).items():
            if "test" in p:
                lines.append(f"| {r['system']} | confidence + {name} (w {p['weight']}), in-scope floor | "
                             f"{p['threshold']:.3f} | {p['val']['in_scope_accuracy']:.2%} | "
                             f"{p['val']['oos_recall']:.2%} | {p['test']['in_scope_accuracy']:.2%} | "
                             f"{p['test']['oos_recall']:.2%} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the requested benchmarks and print the tables."""
    args = _parse_args(argv)
    systems = {"transformer": (Path(args.config), args.set), "diet": (Path(args.baseline_config), args.diet_set)}
    chosen = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(chosen) - set(systems)
    if unknown:
        print(f"error: unknown system(s) {sorted(unknown)}; use transformer and/or diet", file=sys.stderr)
        return 2
    tables = []
    failed = 0
    for dataset in args.dataset or ["own"]:
        records = []
        for system in chosen:
            config, overrides = systems[system]
            try:
                records.append(run_one(dataset, system, config, overrides, args))
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                print(f"!! {dataset} / {system} failed: {exc}", file=sys.stderr)
                failed += 1
        if records:
            tables.append(table(dataset, records))
            print("\n" + tables[-1] + "\n", flush=True)
            pointed = with_operating_points(dataset, records, Path(args.data_root))
            if pointed:
                print(operating_point_table(dataset, pointed) + "\n", flush=True)
                summary = {r["system"]: {"finished": r.get("finished"), "from_record": r.get("operating_points_from_record", False),
                                         **r["operating_points"],
                                         **({"combined_oos": r["combined_oos"]} if r.get("combined_oos") else {})}
                           for r in pointed}
                out = Path(args.results_dir) / f"{dataset}__operating_points.json"
                old = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
                out.write_text(json.dumps({**old, **summary}, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"machine: {machine()}")
    if failed:
        print(f"!! {failed} run(s) failed; their errors are above", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
