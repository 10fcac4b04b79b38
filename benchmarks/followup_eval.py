"""Follow-up benchmark: multi-turn questions answered with and without the conversation.

Run ``python benchmarks/followup_eval.py`` (``make bench-dialogue``). Each thread of
knowledge/eval/followup_questions.yaml is replayed as the action replays a conversation:
the first question on its own, then every follow-up with the context the previous turn
left (:class:`knowledge.followup.FollowupResolver`). The baseline asks each follow-up on
its own, as the bot did before. A message counts as correct when the first citation is
one of the expected FAQs, or when the bot abstains where "abstain" is expected.

Prints a table and writes benchmarks/results/dialogue_followup.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.followup import FollowupResolver, KBContext, faq_of  # noqa: E402

DEFAULT_SET = ROOT / "knowledge" / "eval" / "followup_questions.yaml"
RESULT_FILE = ROOT / "benchmarks" / "results" / "dialogue_followup.json"


def load_threads(path: Path) -> List[Dict[str, Any]]:
    """Threads with ``then`` and ``expect`` normalised to lists of lists."""
    import yaml

    threads = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for t in threads:
        then = t["then"] if isinstance(t["then"], list) else [t["then"]]
        expect = t["expect"] if isinstance(t["then"], list) else [t["expect"]]
        if len(then) != len(expect):
            raise ValueError(f"{t['id']}: {len(then)} follow-ups but {len(expect)} expectations")
        out.append({**t, "then": then, "expect": [_ids(e) for e in expect],
                    "expect_first": _ids(t.get("expect_first", [])), "split": t.get("split", "test")})
    return out


def _ids(value: Any) -> List[str]:
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])


def is_correct(result: Any, expected: Sequence[str]) -> bool:
    """Abstained where "abstain" is expected, or cited one of the expected FAQs."""
    if list(expected) == ["abstain"]:
        return bool(result.abstained)
    return faq_of(result) in expected


def default_answerer(index: Optional[str] = None) -> Any:
    """Extractive answerer on the deployed index: generation never changes which FAQ is cited first."""
    from knowledge.answer import Answerer
    from knowledge.config import load_config

    cfg = load_config().with_overrides(generator="extractive")
    return Answerer(cfg, Path(index) if index else None)


def _accuracy(flags: List[bool]) -> Optional[float]:
    return round(sum(flags) / len(flags), 4) if flags else None


def _summary(rows: List[Dict[str, Any]], key: str) -> Dict[str, Any]:
    groups: Dict[str, List[bool]] = defaultdict(list)
    for r in rows:
        ok = r[key]
        for g in ("overall", r["lang"], r["kind"], f"{r['kind']}_{r['lang']}", r["split"]):
            groups[g].append(ok)
        if r["first_ok"]:
            groups["given_correct_first"].append(ok)
    out = {g: _accuracy(v) for g, v in groups.items()}
    out["n"] = {g: len(v) for g, v in groups.items()}
    return out


def evaluate_followups(path: Path = DEFAULT_SET, answerer: Any = None, index: Optional[str] = None) -> Dict[str, Any]:
    """Accuracy of follow-up answers with the conversation ("context") and without ("no_context").

    Keys: ``context`` and ``no_context`` (accuracy overall, per language ``zh``/``en``, per
    kind ``followup``/``control``, per split ``dev``/``test``, ``given_correct_first``),
    ``first_turn`` (accuracy of the opening questions), ``detection`` (share of follow-ups
    resolved as follow-ups, share of control questions wrongly resolved as follow-ups),
    ``errors`` (every message answered wrongly with context) and ``n_threads``/``n_messages``.
    """
    answerer = answerer or default_answerer(index)
    resolver = FollowupResolver(answerer)
    rows: List[Dict[str, Any]] = []
    first_flags: Dict[str, List[bool]] = defaultdict(list)
    t0 = time.perf_counter()
    for thread in load_threads(path):
        lang = thread["lang"]
        _, first, context = resolver.ask(thread["first"], None, lang, log_unanswered=False)
        first_ok = is_correct(first, thread["expect_first"]) if thread["expect_first"] else True
        first_flags["overall"].append(first_ok)
        first_flags[lang].append(first_ok)
        ctx: Optional[KBContext] = context
        for message, expected in zip(thread["then"], thread["expect"]):
            resolution, with_ctx, ctx = resolver.ask(message, ctx, lang, log_unanswered=False)
            # Not a follow-up: answered on its own already.
            alone = answerer.ask(message, lang, log_unanswered=False) if resolution.followup else with_ctx
            rows.append({"id": thread["id"], "lang": lang, "kind": thread["kind"], "split": thread["split"],
                         "message": message, "expected": expected, "first_ok": first_ok,
                         "context_ok": is_correct(with_ctx, expected), "plain_ok": is_correct(alone, expected),
                         "followup": resolution.followup, "reason": resolution.reason,
                         "query": resolution.query, "got": "abstain" if with_ctx.abstained else faq_of(with_ctx) or
                         (with_ctx.citations[0]["chunk_id"] if with_ctx.citations else None),
                         "confidence": round(with_ctx.confidence, 4)})
    detected = [r["followup"] for r in rows if r["kind"] == "followup"]
    leaked = [r["followup"] for r in rows if r["kind"] == "control"]
    return {
        "set": str(Path(path).resolve().relative_to(ROOT)) if Path(path).resolve().is_relative_to(ROOT) else str(path),
        "n_threads": len(first_flags["overall"]), "n_messages": len(rows),
        "context": _summary(rows, "context_ok"), "no_context": _summary(rows, "plain_ok"),
        "first_turn": {g: _accuracy(v) for g, v in first_flags.items()},
        "detection": {"followups_detected": _accuracy(detected), "controls_taken_as_followups": _accuracy(leaked)},
        "errors": [{k: r[k] for k in ("id", "split", "kind", "message", "expected", "got", "followup", "reason",
                                       "confidence", "first_ok")} for r in rows if not r["context_ok"]],
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def table(result: Dict[str, Any]) -> str:
    """Plain-text table of the main figures."""
    cols = ("overall", "zh", "en", "followup", "control", "dev", "test", "given_correct_first")
    fmt = lambda v: "  -  " if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{'':12}" + "".join(f"{c:>21}" for c in cols)]
    for name in ("context", "no_context"):
        s = result[name]
        lines.append(f"{name:12}" + "".join(f"{fmt(s.get(c)) + ' (n=' + str(s['n'].get(c, 0)) + ')':>21}" for c in cols))
    d, f = result["detection"], result["first_turn"]
    lines.append(f"first turn answered correctly: {fmt(f.get('overall'))} (zh {fmt(f.get('zh'))}, en {fmt(f.get('en'))})")
    lines.append(f"follow-ups detected: {fmt(d['followups_detected'])}; "
                 f"controls taken as follow-ups: {fmt(d['controls_taken_as_followups'])}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """CLI: evaluate, print the table and the errors, write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default=str(DEFAULT_SET), help="follow-up question set (YAML)")
    ap.add_argument("--index", default=None, help="knowledge index folder (default: the configured one)")
    ap.add_argument("--out", default=str(RESULT_FILE), help="where to write the JSON result")
    ap.add_argument("--quiet", action="store_true", help="do not list the errors")
    args = ap.parse_args(argv)
    result = evaluate_followups(Path(args.set), index=args.index)
    result["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(table(result))
    if not args.quiet:
        for e in result["errors"]:
            print(f"  x {e['id']:<24} {e['message']:<28} expected {','.join(e['expected']):<32} got {e['got']} "
                  f"({'follow-up' if e['followup'] else 'alone'}: {e['reason']}, {e['confidence']})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
