"""Answer quality (issue 15): key-fact recall, unsupported sentences and answer length per answering mode.

Questions: benchmarks/answer_quality.yml (FAQ and regulations, zh and en; each with the key
facts a good answer must contain and facts it must not). Modes:

  verbatim   no generator, the passage as stored (the behaviour before issue 15)
  concise    no generator, concise extraction (knowledge/concise.py; the default)
  local      the llama.cpp generator on the provisioned GGUF models, extraction as fallback
  openai     the OpenAI-compatible backend: ``--llm-url`` (or KNOWLEDGE_LLM_URL) when it answers
             ``/models``, or ``--start-llm-server`` to start llama-cpp-python's server on the
             provisioned Gemma-3-270M (knowledge/llm_server.py); skipped when none is reachable

Per mode: key-fact recall (share of a question's facts found, mean), all-facts rate, forbidden
facts, unsupported-sentence rate (sentences of the answer body, i.e. without the lead, that state
a fact knowledge/grounding.py's ``unsupported_facts`` cannot find in the cited passages, or whose
support ratio is below ``min_support``), answer length (characters of the answer, lead included),
the share of answers the generator wrote, and whether the cited source is the labelled one.
``--generate always`` makes the generator answer every question (as the pipeline does only for
regulation passages and mid-confidence hits). Run through ``make bench-rag`` (part ``quality``)
or alone: ``python benchmarks/bench_answers.py --modes verbatim,concise``. The record is written
to benchmarks/results/rag_quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUALITY_SET = ROOT / "benchmarks" / "answer_quality.yml"
RESULTS = ROOT / "benchmarks" / "results"
MODES = ("verbatim", "concise", "local", "openai")


def load_set(path: Path = QUALITY_SET) -> List[Dict]:
    """The questions, facts normalised to lists of alternatives."""
    import yaml

    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in items:
        item["facts"] = [f if isinstance(f, list) else [f] for f in item.get("facts") or []]
        item["not"] = list(item.get("not") or [])
    return items


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def has_fact(answer: str, alternatives: List[str]) -> bool:
    """Any alternative occurs in the answer (case and white space ignored)."""
    a = _norm(answer)
    return any(_norm(alt) in a for alt in alternatives)


def gold_match(chunk, gold: str) -> bool:
    """The chunk is the labelled source ("faq:<id>" or "doc:<file prefix>#<article>")."""
    if gold.startswith("faq:"):
        return chunk.faq_id == gold[4:]
    prefix, article = gold[4:].split("#", 1)
    return Path(chunk.source).name.startswith(prefix) and chunk.article.startswith(article)


def score(item: Dict, result, answerer) -> Dict:
    """Metrics of one answer."""
    from knowledge.concise import split_units
    from knowledge.grounding import support_ratio, unsupported_facts
    from knowledge.records import citation

    text = "" if result.abstained else result.answer
    found = [has_fact(text, alts) for alts in item["facts"]]
    forbidden = [f for f in item["not"] if _norm(f) in _norm(text)]
    by_id = {c.chunk_id: c for c in answerer.stored.chunks}
    cited = [by_id[c["chunk_id"]] for c in result.citations if c["chunk_id"] in by_id]
    support = [f"{citation(c, result.language)} {c.title} {c.text}" for c in cited]
    body = text[len(result.lead):] if result.lead and text.startswith(result.lead) else text
    sentences = [u.text for u in split_units(body)] if body else []
    bad = [s for s in sentences if unsupported_facts(s, support, item["q"])
           or support_ratio(s, support) < answerer.cfg.min_support]
    return {"id": item.get("source"), "q": item["q"], "lang": item["lang"], "mode": result.mode,
            "abstained": result.abstained, "recall": sum(found) / len(found) if found else 1.0,
            "all_facts": all(found), "missing": [alts[0] for alts, ok in zip(item["facts"], found) if not ok],
            "forbidden": forbidden, "sentences": len(sentences), "unsupported": len(bad), "bad_sentences": bad,
            "chars": len(text), "source_cited": any(gold_match(c, item["source"]) for c in cited),
            "ms": result.timings.get("total_ms"), "answer": text, "generated": result.generated,
            "rejected": result.unsupported}


def summarise(rows: List[Dict]) -> Dict:
    """Means over a mode's answers (overall and per language)."""
    def agg(rs: List[Dict]) -> Dict:
        if not rs:
            return {"n": 0}
        sentences = sum(r["sentences"] for r in rs)
        answered = [r for r in rs if not r["abstained"]]
        return {"n": len(rs), "key_fact_recall": round(statistics.mean(r["recall"] for r in rs), 4),
                "all_facts": round(sum(r["all_facts"] for r in rs) / len(rs), 4),
                "forbidden": sum(bool(r["forbidden"]) for r in rs),
                "unsupported_rate": round(sum(r["unsupported"] for r in rs) / sentences, 4) if sentences else 0.0,
                "mean_chars": round(statistics.mean(r["chars"] for r in answered), 1) if answered else 0.0,
                "median_chars": statistics.median(r["chars"] for r in answered) if answered else 0,
                "abstained": sum(r["abstained"] for r in rs),
                "generated": round(sum(r["mode"] == "generated" for r in rs) / len(rs), 4),
                "source_cited": round(sum(r["source_cited"] for r in rs) / len(rs), 4),
                "p50_ms": round(statistics.median(r["ms"] for r in rs if r["ms"] is not None), 1)}
    out = {"all": agg(rows)}
    for lang in ("zh", "en"):
        out[lang] = agg([r for r in rows if r["lang"] == lang])
    for kind in ("faq", "doc"):
        out[kind] = agg([r for r in rows if (r["id"] or "").startswith(kind)])
    return out


def _reachable(url: str) -> bool:
    import requests

    try:
        return requests.get(url.rstrip("/") + "/models", timeout=3).ok
    except requests.RequestException:
        return False


def run_mode(mode: str, items: List[Dict], index: Path, args) -> Dict:
    """Answer every question in one mode; returns the summary and the per-question rows."""
    from knowledge.answer import Answerer
    from knowledge.config import load_config

    cfg = load_config().with_overrides(unanswered_log=str(Path(os.devnull)))
    server = None
    if mode == "verbatim":
        cfg, backend = cfg.with_overrides(generator="extractive", answer_style="verbatim"), "extractive"
    elif mode == "concise":
        cfg, backend = cfg.with_overrides(generator="extractive", answer_style="concise"), "extractive"
    elif mode == "local":
        cfg, backend = cfg.with_overrides(generator="llamacpp"), "llamacpp"
    else:
        url = args.llm_url or cfg.llm_url
        model = args.llm_model or cfg.llm_model
        if not (url and _reachable(url)) and args.start_llm_server:
            from knowledge.config import resolve_model
            from knowledge.llm_server import LocalLLMServer

            gguf = next(resolve_model("gemma-3-270m").glob("*.gguf"))
            server = LocalLLMServer({"gemma-3-270m": gguf}, n_ctx=2048, n_threads=cfg.n_threads).start()
            url, model = server.url, "gemma-3-270m"
        if not (url and _reachable(url)):
            return {"skipped": f"no OpenAI-compatible endpoint reachable at {url or '(KNOWLEDGE_LLM_URL unset)'}"}
        cfg = cfg.with_overrides(generator="openai", llm_url=url, llm_model=model, llm_timeout_s=args.llm_timeout)
        backend = "openai"
    try:
        t0 = time.perf_counter()
        answerer = Answerer(cfg, index, backend)
        force = args.generate == "always" and mode in ("local", "openai")
        if mode in ("local", "openai"):
            answerer.generator  # load the model before timing  # noqa: B018
        rows = [score(item, answerer.ask(item["q"], item["lang"], log_unanswered=False, force_generate=force),
                      answerer) for item in items]
        return {"backend": backend, "generate": "always" if force else "pipeline", "endpoint_model": cfg.llm_model
                if mode == "openai" else None, "wall_s": round(time.perf_counter() - t0, 1),
                "summary": summarise(rows), "rows": rows}
    except Exception as exc:  # backend not installed here: report it, go on with the other modes
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    finally:
        if server is not None:
            server.stop()


def part_quality(args) -> Dict:
    """The benchmark body (also bench_rag.py's part ``quality``)."""
    items = load_set(Path(args.quality_set))
    if args.quality_limit:
        items = items[: args.quality_limit]
    modes = [m.strip() for m in args.answer_modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown answer modes {sorted(unknown)}; choose from {MODES}")
    out: Dict = {"questions": len(items), "set": str(Path(args.quality_set).relative_to(ROOT))
                 if Path(args.quality_set).is_relative_to(ROOT) else args.quality_set, "modes": {}}
    for mode in modes:
        print(f"[quality] mode {mode} ...", flush=True)
        subset = items if mode in ("verbatim", "concise") or not args.gen_limit else _spread(items, args.gen_limit)
        out["modes"][mode] = run_mode(mode, subset, Path(args.index), args)
        if "summary" in out["modes"][mode]:
            out["modes"][mode]["questions"] = len(subset)
    concise_rows = {r["q"]: r for r in out["modes"].get("concise", {}).get("rows", [])}
    for mode, r in out["modes"].items():  # a subset mode is compared with concise on the same questions
        if mode != "concise" and "rows" in r and concise_rows and len(r["rows"]) < len(concise_rows):
            same = [concise_rows[x["q"]] for x in r["rows"] if x["q"] in concise_rows]
            r["concise_same_questions"] = summarise(same)
    return out


def _spread(items: List[Dict], n: int) -> List[Dict]:
    """``n`` questions spread over the whole set (every kind and language), for slow modes."""
    if n >= len(items):
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def table(result: Dict) -> str:
    """Markdown table of a quality record."""
    lines = [f"**Answer quality** ({result['questions']} questions, {result['set']}; recall = share of key facts "
             "in the answer; unsupported = answer sentences (lead excluded) with a fact the cited passages do "
             "not contain or under the support ratio)", "",
             "| mode | n | key-fact recall | all facts | zh recall | en recall | FAQ recall | regulation recall | "
             "forbidden | unsupported sentences | mean chars (zh / en) | generated | abstained | p50 ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode, r in result["modes"].items():
        if "summary" not in r:
            lines.append(f"| {mode} | – | skipped: {r.get('skipped', '')} | | | | | | | | | | | |")
            continue
        s = r["summary"]
        a = s["all"]
        label = mode if r.get("generate") != "always" else f"{mode} (generator on every question)"
        lines.append(f"| {label} | {a['n']} | {a['key_fact_recall']:.3f} | {a['all_facts']:.3f} | "
                     f"{s['zh'].get('key_fact_recall', 0):.3f} | {s['en'].get('key_fact_recall', 0):.3f} | "
                     f"{s['faq'].get('key_fact_recall', 0):.3f} | {s['doc'].get('key_fact_recall', 0):.3f} | "
                     f"{a['forbidden']} | {a['unsupported_rate']:.3f} | {a['mean_chars']} "
                     f"({s['zh'].get('mean_chars', 0)} / {s['en'].get('mean_chars', 0)}) | {a['generated']:.2f} | "
                     f"{a['abstained']} | {a['p50_ms']} |")
        if "concise_same_questions" in r:
            c = r["concise_same_questions"]
            lines.append(f"| ↳ concise on the same {c['all']['n']} | {c['all']['n']} | {c['all']['key_fact_recall']:.3f} | "
                         f"{c['all']['all_facts']:.3f} | {c['zh'].get('key_fact_recall', 0):.3f} | "
                         f"{c['en'].get('key_fact_recall', 0):.3f} | {c['faq'].get('key_fact_recall', 0):.3f} | "
                         f"{c['doc'].get('key_fact_recall', 0):.3f} | {c['all']['forbidden']} | "
                         f"{c['all']['unsupported_rate']:.3f} | {c['all']['mean_chars']} ({c['zh'].get('mean_chars', 0)} / "
                         f"{c['en'].get('mean_chars', 0)}) | – | {c['all']['abstained']} | {c['all']['p50_ms']} |")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared with bench_rag.py."""
    p.add_argument("--quality-set", default=str(QUALITY_SET))
    p.add_argument("--answer-modes", default="verbatim,concise,local,openai",
                   help=f"comma-separated subset of {','.join(MODES)}")
    p.add_argument("--generate", choices=("pipeline", "always"), default="pipeline",
                   help="local/openai: generate only where the pipeline would (default) or for every question")
    p.add_argument("--gen-limit", type=int, default=0, help="local/openai: only this many questions (0 = all)")
    p.add_argument("--quality-limit", type=int, default=0, help="only the first N questions (smoke runs)")
    p.add_argument("--llm-url", default="", help="openai mode: endpoint (default KNOWLEDGE_LLM_URL)")
    p.add_argument("--llm-model", default="")
    p.add_argument("--llm-timeout", type=float, default=60.0)
    p.add_argument("--start-llm-server", action="store_true",
                   help="openai mode: start llama-cpp-python's server on the provisioned Gemma when none is reachable")


def main(argv: Optional[List[str]] = None) -> int:
    from knowledge.config import load_config

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cfg = load_config()
    p.add_argument("--index", default=str(cfg.path(cfg.index)))
    p.add_argument("--out", default=str(RESULTS / "rag_quality.json"))
    add_arguments(p)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    result = part_quality(args)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_rag import machine

    result["machine"] = machine()
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(table(result))
    print(f"-> {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
