"""Dialogue benchmark: the conversation suite (tests/conversations/*.yml) against real servers.

    .venv/bin/python benchmarks/bench_dialogue.py [--model models/rasa/current.tar.gz]
        [--suite tests/conversations] [--category emergency --category cancel] [--jobs 2]
        [--results benchmarks/results/dialogue_suite.json] [--followups knowledge/eval/followup_questions.yaml]

Starts an action server and a Linli server (tests/servers.py) on free ports with fresh
databases, plays every conversation with its own sender id, prints the pass rate per
category × language (Markdown) and the failed conversations, and writes the results
(summary + every transcript) as JSON. When ``benchmarks/followup_eval.py`` exists, its
``evaluate_followups(path)`` is run on the follow-up question set and its accuracy printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.bench_nlu import machine  # noqa: E402
from benchmarks.followup_eval import evaluate_followups, table  # noqa: E402
from tests.conversation_suite import SUITE_DIR, format_summary, load_suite, run_suite, summarise  # noqa: E402
from tests.servers import load_default_settings, start_stack  # noqa: E402


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("LINLI_TEST_MODEL",
                                                          str(REPO_ROOT / "models" / "rasa" / "current.tar.gz")))
    parser.add_argument("--suite", default=str(SUITE_DIR), help="folder of conversation files")
    parser.add_argument("--category", action="append", help="repeatable; default: every category")
    parser.add_argument("--id", action="append", dest="ids", help="run only these conversation ids (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="conversations played at the same time")
    parser.add_argument("--results", default=str(HERE / "results" / "dialogue_suite.json"))
    parser.add_argument("--followups", default=str(REPO_ROOT / "knowledge" / "eval" / "followup_questions.yaml"))
    parser.add_argument("--no-followups", action="store_true", help="skip the follow-up question evaluation")
    parser.add_argument("--workdir", help="where the servers keep their databases and logs (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="print the transcript of every failed conversation")
    return parser.parse_args(argv)


def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def run_followups(path: Path) -> Dict[str, Any]:
    """The follow-up question set through the knowledge base (benchmarks/followup_eval.py)."""
    report = evaluate_followups(path)
    shown = path.resolve().relative_to(REPO_ROOT) if path.resolve().is_relative_to(REPO_ROOT) else path
    print(f"\n## Follow-up questions ({shown})")
    print(f"accuracy: {_percent(report['context']['overall'])} "
          f"(each follow-up asked alone: {_percent(report['no_context']['overall'])})")
    print(table(report))
    return report


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    load_default_settings()

    model = Path(args.model)
    if not model.exists():
        print(f"No trained model at {model}: run `make train` first.", file=sys.stderr)
        return 2
    conversations = load_suite(Path(args.suite), args.category)
    if args.ids:
        wanted = set(args.ids)
        conversations = [c for c in conversations if c.id in wanted]
    if not conversations:
        print("No conversations selected.", file=sys.stderr)
        return 2

    workdir_ctx = tempfile.TemporaryDirectory(prefix="bench-dialogue-") if not args.workdir else None
    workdir = Path(args.workdir or workdir_ctx.name)  # type: ignore[union-attr]
    print(f"Starting the servers ({model.resolve().name}) …", flush=True)
    started = time.monotonic()
    stack = start_stack(workdir / "stack", model.resolve())
    boot_seconds = time.monotonic() - started
    print(f"Servers up in {boot_seconds:.0f} s; playing {len(conversations)} conversations …", flush=True)

    done = [0]

    def progress(result: Any) -> None:
        done[0] += 1
        mark = "." if result.passed else "F"
        print(mark, end="\n" if done[0] % 50 == 0 else "", flush=True)

    try:
        started = time.monotonic()
        results = run_suite(stack, conversations, jobs=args.jobs, progress=progress)
        suite_seconds = time.monotonic() - started
    finally:
        stack.stop()
        if workdir_ctx is not None:
            workdir_ctx.cleanup()
    print()

    summary = summarise(results)
    turns = sum(len(r.turns) for r in results)
    print(f"\n## Conversation suite: {summary['overall']['passed']}/{summary['overall']['total']} passed "
          f"({summary['overall']['rate']:.1%}), {turns} turns in {suite_seconds:.0f} s\n")
    print(format_summary(summary))
    failed = [r for r in results if not r.passed]
    if failed:
        print(f"\n### Failed ({len(failed)})")
        for result in failed:
            if args.verbose:
                print("\n" + result.report())
            else:
                first = result.failures[0] if result.failures else "?"
                print(f"- {result.conversation.id} [{result.conversation.category}/{result.conversation.lang}]: "
                      f"{first[:200]}")

    followups = None if args.no_followups else run_followups(Path(args.followups))

    out = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "model": model.resolve().name,
        "suite": str(Path(args.suite).resolve().relative_to(REPO_ROOT)) if Path(args.suite).resolve().is_relative_to(
            REPO_ROOT) else args.suite,
        "selection": {"categories": args.category, "ids": args.ids},
        "boot_seconds": round(boot_seconds, 1),
        "suite_seconds": round(suite_seconds, 1),
        "turns": turns,
        "summary": summary,
        "followup_accuracy": followups["context"]["overall"] if followups else None,
        "followups": followups,
        "conversations": [r.as_dict() for r in results],
    }
    results_path = Path(args.results)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nResults: {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
