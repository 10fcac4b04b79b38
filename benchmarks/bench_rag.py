"""RAG benchmark (issue 4): retrieval quality, abstention, latency, ingestion, FAISS scaling.

Run ``make bench-rag`` (or ``python benchmarks/bench_rag.py --parts own,dstc10``).
Each part's result is cached as JSON in benchmarks/results/rag_<part>.json;
``--force`` recomputes. ``--report`` prints the Markdown tables for
docs/benchmarks.md from the cached results.

Parts:
  tune       per-language abstention / extractive thresholds chosen on knowledge/eval/dev_questions.yaml
  own        recall@1/@5, MRR per language and retrieval mode on knowledge/eval/questions.yaml,
             plus abstention precision/recall (threshold sweep)
  dstc10     DSTC10 track 2 FAQ selection (val), same metrics, incl. no-answer turns
  transfer   abstention on bases it was not tuned on (DSTC10, DSTC11): the fixed threshold against
             the one measured on each base (benchmarks/abstention_transfer.py)
  training   trained retrieval tried on this machine: a feature reranker and a query-side e5 fine-tune,
             trained on DSTC11, evaluated on DSTC10 and the own set (benchmarks/retriever_training.py)
  rerank     a cross-encoder reranker on e5's lower layers, trained on DSTC11 and the own paraphrases,
             evaluated the same way (benchmarks/cross_encoder.py)
  ingest     time to ingest the demo base from scratch and to re-ingest it unchanged
  search10k  `search` latency (embed + FAISS + BM25 + fusion) on a 10k-chunk index
  latency    `ask` latency p50/p95 for each generator backend
  faiss      FAISS search p50/p99 and recall@10 vs exact at 10k/100k/1M synthetic vectors
  quality    answer quality on benchmarks/answer_quality.yml: key-fact recall, unsupported sentences,
             answer length per answering mode (benchmarks/bench_answers.py; --answer-modes, --gen-limit,
             --generate, --llm-url, --start-llm-server)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # sibling modules (dstc10_entities)

import bench_answers  # noqa: E402
from knowledge import store  # noqa: E402
from knowledge.config import load_config, resolve_model  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("tune", "own", "region", "dstc10", "transfer", "training", "rerank", "ingest", "search10k", "latency", "faiss",
         "quality")
# The demo community's city (its phone numbers are Hangzhou's 0571): the region part's setting.
DEMO_REGION = "浙江省杭州市"
MODES = ("vector", "bm25", "hybrid")
RERANKED = "vector+minilm"  # the product default: English candidates re-ordered (knowledge/rerank.py)
MIN_ANSWERED = 0.90  # share of answerable dev questions the abstention threshold must still answer


# ------------------------------------------------------------------ helpers
def machine() -> Dict:
    """Where the numbers were measured."""
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import faiss
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "faiss": faiss.__version__, "torch": torch.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def pct(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 2) if len(values) else float("nan")


def rank_metrics(ranks: List[Optional[int]]) -> Dict:
    """recall@1, recall@5 and MRR from the 1-based rank of the first correct hit (None = missed)."""
    n = len(ranks)
    if not n:
        return {"n": 0}
    return {"n": n, "recall@1": round(sum(r == 1 for r in ranks if r) / n, 4),
            "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4)}


def abstention(conf_answerable: Sequence[float], conf_unanswerable: Sequence[float],
               threshold, thr_answerable=None, thr_unanswerable=None) -> Dict:
    """Abstention precision/recall (abstain when confidence < threshold).

    ``thr_answerable``/``thr_unanswerable`` give a per-question threshold (per-language thresholds).
    """
    a = np.asarray(conf_answerable)
    u = np.asarray(conf_unanswerable)
    ta = np.asarray(thr_answerable) if thr_answerable is not None else threshold
    tu = np.asarray(thr_unanswerable) if thr_unanswerable is not None else threshold
    abst_u = int((u < tu).sum())
    abst_a = int((a < ta).sum())
    total_abst = abst_u + abst_a
    return {"threshold": threshold if isinstance(threshold, str) else round(float(threshold), 3),
            "abstain_recall": round(abst_u / max(len(u), 1), 4),
            "abstain_precision": round(abst_u / total_abst, 4) if total_abst else 1.0,
            "answered_rate": round(1 - abst_a / max(len(a), 1), 4)}


def sweep(conf_a: List[float], conf_u: List[float]) -> List[Dict]:
    return [abstention(conf_a, conf_u, t) for t in np.arange(0.80, 0.951, 0.005)]


def cached(name: str, force: bool, fn: Callable[[], Dict]) -> Dict:
    path = RESULTS / f"rag_{name}.json"
    if path.exists() and not force:
        print(f"[{name}] cached: {path.relative_to(ROOT)}")
        return json.loads(path.read_text())
    print(f"[{name}] running ...", flush=True)
    t0 = time.perf_counter()
    result = fn()
    result["machine"] = machine()
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"[{name}] done in {result['wall_s']} s -> {path.relative_to(ROOT)}", flush=True)
    return result


# ------------------------------------------------------------------ own set
def load_questions(name: str = "questions.yaml") -> List[Dict]:
    """Questions with gold labels: ``questions.yaml`` (test) or ``dev_questions.yaml`` (tuning)."""
    import yaml

    return yaml.safe_load((ROOT / "knowledge" / "eval" / name).read_text(encoding="utf-8"))


def part_tune(args) -> Dict:
    """Choose the per-language thresholds on the dev questions only (never on the test set).

    Abstention: the best-hit cosine below which the answer is "not in the knowledge base":
    the highest threshold that still answers ``MIN_ANSWERED`` of the answerable dev
    questions (the product requirement: answer what the base knows, then abstain as much
    as possible). The threshold maximising (answered + abstained) / 2 is recorded too. Extractive FAQ: the lowest cosine from which
    every dev question whose best hit is an FAQ got the right FAQ (verbatim answers must
    not be wrong answers).
    """
    from knowledge.embedding import get_embedder
    from knowledge.retrieval import Retriever

    cfg = load_config()
    retriever = Retriever(store.read(Path(args.index)), get_embedder(resolve_model(cfg.embed_model)))
    qs = load_questions("dev_questions.yaml")
    qvecs = retriever.embedder.queries([q["q"] for q in qs])
    grid = [round(float(t), 3) for t in np.arange(0.78, 0.951, 0.001)]
    out: Dict = {"questions": len(qs), "languages": {}}
    out["quantile"] = tune_quantile(retriever, qs, qvecs, cfg)
    for lang in ("zh", "en"):
        conf_a, conf_u, faq_top = [], [], []  # faq_top: (cosine, right?) when the best hit is an FAQ
        for q, qv in zip(qs, qvecs):
            if q["lang"] != lang:
                continue
            hits = retriever.search(q["q"], k=5, mode="vector", language=lang, qvec=qv)
            top = hits[0] if hits else None
            (conf_a if q["gold"] else conf_u).append(top.dense if top else 0.0)
            if top and top.chunk.faq_id:
                faq_top.append((top.dense, any(gold_match(top.chunk, g) for g in q["gold"])))
        scored = [(abstention(conf_a, conf_u, t), t) for t in grid]
        balanced = max(scored, key=lambda x: (x[0]["answered_rate"] + x[0]["abstain_recall"], -x[1]))
        answering = [x for x in scored if x[0]["answered_rate"] >= MIN_ANSWERED]
        best = max(answering, key=lambda x: x[1]) if answering else balanced
        wrong = [c for c, ok in faq_top if not ok]
        extractive = round(max(wrong) + 0.001, 3) if wrong else grid[0]
        out["languages"][lang] = {
            "answerable": len(conf_a), "unanswerable": len(conf_u),
            "abstain_below": best[1], "dev_at_threshold": best[0],
            "balanced_alternative": {"abstain_below": balanced[1], "dev": balanced[0]},
            "extractive_faq_above": extractive,
            "extractive_dev_share": round(sum(1 for c, ok in faq_top if ok and c >= extractive) / max(len(conf_a), 1), 3),
            "configured": {"abstain_below": cfg.abstain_below(lang), "extractive_faq_above": cfg.extractive_faq_above(lang)},
        }
    return out


def tune_quantile(retriever, qs: List[Dict], qvecs, cfg) -> Dict:
    """The percentile of the base's held-out FAQ scores used as threshold (knowledge/calibration.py).

    Chosen like the fixed thresholds, on the dev questions only: the highest percentile
    whose thresholds still answer ``MIN_ANSWERED`` of the answerable dev questions in
    **both** languages (one setting for every base and language).
    """
    from knowledge.calibration import held_out_scores

    held = {lang: held_out_scores(retriever, lang) for lang in ("zh", "en")}
    best = {lang: {True: [], False: []} for lang in held}
    for q, qv in zip(qs, qvecs):
        hits = retriever.search(q["q"], k=1, mode="vector", language=q["lang"], qvec=qv)
        best[q["lang"]][bool(q["gold"])].append(hits[0].dense if hits else 0.0)
    rows = []
    for p in range(1, 61):
        thr = {lang: float(np.percentile(held[lang], p)) for lang in held}
        rows.append({"percentile": p, **{lang: abstention(best[lang][True], best[lang][False], thr[lang]) for lang in held}})
    ok = [r for r in rows if all(r[lang]["answered_rate"] >= MIN_ANSWERED for lang in held)]
    chosen = max(ok, key=lambda r: r["percentile"]) if ok else rows[0]
    return {"held_out_questions": {lang: len(v) for lang, v in held.items()}, "chosen": chosen,
            "configured": cfg.abstain_quantile, "sweep": rows}


def gold_match(chunk, gold: str) -> bool:
    """Does a retrieved chunk satisfy one gold label ("faq:<id>" or "doc:<file prefix>#<article>")?"""
    if gold.startswith("faq:"):
        return chunk.faq_id == gold[4:]
    prefix, article = gold[4:].split("#", 1)
    return Path(chunk.source).name.startswith(prefix) and chunk.article.startswith(article)


def first_rank(hits, golds: List[str]) -> Optional[int]:
    for r, h in enumerate(hits, 1):
        if any(gold_match(h.chunk, g) for g in golds):
            return r
    return None


def part_own(args) -> Dict:
    """The own test set per mode and, for R@1 only, the dev set (where the reranker was chosen)."""
    from knowledge.calibration import calibrate
    from knowledge.embedding import get_embedder
    from knowledge.rerank import get_reranker
    from knowledge.retrieval import Retriever

    cfg = load_config()
    stored = store.read(Path(args.index))
    embedder = get_embedder(resolve_model(cfg.embed_model))
    plain = Retriever(stored, embedder)
    # The product's retriever: vector mode, English questions re-ordered by MiniLM (knowledge/rerank.py).
    reranked = Retriever(stored, embedder, "vector", reranker=get_reranker("minilm", cfg.rerank_weight, cfg.rerank_depth))
    # One calibration serves both: its held-out scores are taken in e5's order (search(rerank=False)).
    measured = calibrate(plain, cfg.abstain_quantile, cfg.calibration_min_questions)
    qs = load_questions()
    qvecs = embedder.queries([q["q"] for q in qs])
    out: Dict = {"index": args.index, "n_chunks": len(stored.chunks), "questions": len(qs),
                 "modes": {}, "measured_thresholds": measured.thresholds,
                 "fixed_thresholds": {l: cfg.abstain_below(l) for l in ("zh", "en")}}
    for mode in MODES + (RERANKED,):
        retriever = reranked if mode == RERANKED else plain
        mode = "vector" if mode == RERANKED else mode
        per_lang: Dict[str, Dict] = {}
        conf = {"zh": ([], []), "en": ([], [])}  # language -> (answerable, unanswerable) confidences
        misses = []
        seen: List[tuple] = []  # (language, answerable, confidence, first hit right)
        for lang in ("zh", "en", "all"):
            ranks = []
            for q, qv in zip(qs, qvecs):
                if lang != "all" and q["lang"] != lang:
                    continue
                hits = retriever.search(q["q"], k=10, mode=mode, language=q["lang"], qvec=qv)
                if lang == "all":
                    conf[q["lang"]][0 if q["gold"] else 1].append(hits[0].dense if hits else 0.0)
                    seen.append((q["lang"], bool(q["gold"]), hits[0].dense if hits else 0.0,
                                 bool(hits) and any(gold_match(hits[0].chunk, g) for g in q["gold"] or ())))
                if q["gold"]:
                    r = first_rank(hits, q["gold"])
                    ranks.append(r)
                    if lang == "all" and r != 1:
                        misses.append({"q": q["q"], "gold": q["gold"], "rank": r, "top": hits[0].chunk.chunk_id})
            per_lang[lang] = rank_metrics(ranks)
        thr = {lang: cfg.abstain_below(lang) for lang in conf}
        for lang, (ca, cu) in conf.items():
            per_lang[lang]["abstention_fixed"] = abstention(ca, cu, thr[lang])
            per_lang[lang]["abstention_sweep"] = sweep(ca, cu)
        per_lang["abstention_fixed"] = abstention(
            conf["zh"][0] + conf["en"][0], conf["zh"][1] + conf["en"][1], f"zh {thr['zh']} / en {thr['en']}",
            [thr["zh"]] * len(conf["zh"][0]) + [thr["en"]] * len(conf["en"][0]),
            [thr["zh"]] * len(conf["zh"][1]) + [thr["en"]] * len(conf["en"][1]))
        thr = {lang: measured.threshold(lang, cfg.abstain_below(lang)) for lang in conf}  # what the product uses
        # What a resident gets: a right answer, a wrong one, or "no answer, a human?" (the
        # first hit at the product's threshold); R@1 alone counts re-orderings below the threshold.
        per_lang["outcomes"] = {lang: {"right": sum(1 for l, a, c, ok in seen if l == lang and a and c >= thr[l] and ok),
                                       "wrong": sum(1 for l, a, c, ok in seen if l == lang and a and c >= thr[l] and not ok),
                                       "abstained": sum(1 for l, a, c, ok in seen if l == lang and a and c < thr[l]),
                                       "unanswerable_answered": sum(1 for l, a, c, ok in seen if l == lang and not a and c >= thr[l])}
                                for lang in ("zh", "en")}
        for lang, (ca, cu) in conf.items():
            per_lang[lang]["abstention"] = abstention(ca, cu, thr[lang])
        ca = conf["zh"][0] + conf["en"][0]
        cu = conf["zh"][1] + conf["en"][1]
        per_lang["abstention"] = abstention(
            ca, cu, f"zh {thr['zh']} / en {thr['en']}",
            [thr["zh"]] * len(conf["zh"][0]) + [thr["en"]] * len(conf["en"][0]),
            [thr["zh"]] * len(conf["zh"][1]) + [thr["en"]] * len(conf["en"][1]))
        per_lang["misses"] = misses
        out["modes"][RERANKED if retriever is reranked else mode] = per_lang
    dev_all = load_questions("dev_questions.yaml")
    dev = [q for q in dev_all if q["gold"]]
    out["dev_outcomes"] = {}
    for name, r in (("vector", plain), (RERANKED, reranked)):
        counts = {lang: dict.fromkeys(("right", "wrong", "abstained", "unanswerable_answered", "unanswerable_abstained"), 0)
                  for lang in ("zh", "en")}
        for q in dev_all:
            h = r.search(q["q"], k=1, mode="vector", language=q["lang"])[0]
            answered = h.dense >= measured.threshold(q["lang"], cfg.abstain_below(q["lang"]))
            if not q["gold"]:
                key = "unanswerable_answered" if answered else "unanswerable_abstained"
            elif not answered:
                key = "abstained"
            else:
                key = "right" if any(gold_match(h.chunk, g) for g in q["gold"]) else "wrong"
            counts[q["lang"]][key] += 1
        out["dev_outcomes"][name] = counts
    out["dev_recall@1"] = {name: {lang: round(sum(first_rank(r.search(q["q"], k=1, mode="vector", language=lang), q["gold"]) == 1
                                                  for q in dev if q["lang"] == lang) / max(sum(q["lang"] == lang for q in dev), 1), 4)
                                  for lang in ("zh", "en")} for name, r in (("vector", plain), (RERANKED, reranked))}
    return out


# ------------------------------------------------------------------ DSTC10
def _cached_encode(embedder, texts: List[str]) -> np.ndarray:
    """Embed with a cache in benchmarks/results/ (re-runs only embed new texts)."""
    path = RESULTS / "dstc10_vectors.npz"
    cache: Dict[str, np.ndarray] = {}
    if path.exists():
        data = np.load(path, allow_pickle=False)
        cache = dict(zip(data["texts"].tolist(), data["vecs"]))
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        for t, v in zip(missing, embedder.encode(missing, batch_size=64, progress=True)):
            cache[t] = v
        RESULTS.mkdir(parents=True, exist_ok=True)
        keys = list(cache)
        np.savez(path, texts=np.array(keys), vecs=np.stack([cache[t] for t in keys]))
    return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 384), "float32")


def part_region(args) -> Dict:
    """Regulation questions with and without ``region`` (knowledge/jurisdiction.py).

    For every dev and test question whose gold is a document, and for every answer-quality
    question sourced from a document: R@1 against the gold, and how often the first passage
    is another place's regulation (a rule that does not bind a community in ``DEMO_REGION``).
    """
    import yaml

    from knowledge.embedding import get_embedder
    from knowledge.jurisdiction import applies, place_of
    from knowledge.retrieval import Retriever

    cfg = load_config()
    stored = store.read(Path(args.index))
    embedder = get_embedder(resolve_model(cfg.embed_model))
    sets = {name: [q for q in load_questions(f"{name}_questions.yaml" if name == "dev" else "questions.yaml")
                   if any(g.startswith("doc:") for g in q.get("gold") or [])] for name in ("dev", "test")}
    quality = yaml.safe_load((ROOT / "benchmarks" / "answer_quality.yml").read_text(encoding="utf-8"))
    sets["quality"] = [{"q": q["q"], "lang": q.get("lang", "zh"), "gold": [q["source"]]} for q in quality
                       if str(q.get("source", "")).startswith("doc:")]
    out: Dict = {"region": DEMO_REGION, "sets": {}}
    for region in ("", DEMO_REGION):
        retriever = Retriever(stored, embedder, "vector", region=region)
        if region:
            out["not_cited"] = sorted(retriever.excluded_documents)
        for name, qs in sets.items():
            first = [retriever.search(q["q"], k=1, language=q["lang"])[0] for q in qs]
            foreign = [h.chunk.kind == "doc" and not applies(place_of(h.chunk.title or h.chunk.source), DEMO_REGION)
                       for h in first]
            row = {"questions": len(qs), "first_is_other_place": int(sum(foreign))}
            if any(q["gold"] for q in qs):
                row["r1"] = round(sum(any(gold_match(h.chunk, g) for g in q["gold"]) for h, q in zip(first, qs)) / len(qs), 4)
            out["sets"].setdefault(name, {})["with_region" if region else "no_region"] = row
    return out


def part_dstc10(args) -> Dict:
    """FAQ selection: entity = last entity named in the dialogue; rank that entity's FAQs."""
    from dstc10_entities import EntityTracker
    from knowledge.bm25 import BM25Index, tokenize
    from knowledge.embedding import get_embedder

    cfg = load_config()
    base = Path(args.datasets) / "dstc10_track2"
    if not base.exists():
        raise SystemExit(f"{base} not found; pass --datasets DIR holding dstc10_track2/")
    knowledge = json.loads((base / "knowledge.json").read_text())
    logs = json.loads((base / "val" / "logs.json").read_text())
    labels = json.loads((base / "val" / "labels.json").read_text())
    tracker = EntityTracker(knowledge)

    def entity_of(dialogue: List[Dict]) -> Optional[tuple]:
        return tracker.entity_of([turn["text"] for turn in dialogue])

    embedder = get_embedder(resolve_model(cfg.embed_model))
    needed = {entity_of(d) for d in logs} - {None}
    docs: Dict[tuple, List] = {}
    texts = []
    for domain, eid in sorted(needed):
        for did, doc in knowledge[domain][eid]["docs"].items():
            docs.setdefault((domain, eid), []).append((did, doc))
            texts.append(f"passage: {doc['title']}\n{doc['body']}")  # same form as our FAQ chunks
    print(f"  embedding {len(texts)} FAQs of {len(needed)} entities", flush=True)
    vecs = _cached_encode(embedder, texts)
    vec_of: Dict[tuple, np.ndarray] = {}
    i = 0
    for key in sorted(docs):
        for did, _ in docs[key]:
            vec_of[(key, did)] = vecs[i:i + 1]
            i += 1
    queries = [d[-1]["text"] for d in logs]
    qv = embedder.queries(queries)
    # The product's English reranker (knowledge/rerank.py) on each entity's FAQs as chunks.
    from knowledge.records import Chunk
    from knowledge.rerank import get_reranker

    reranker = get_reranker("minilm", cfg.rerank_weight, cfg.rerank_depth)
    chunk_of = {(key, did): Chunk(f"{key[0]}/{key[1]}/{did}", "dstc10", "faq", doc["body"], "en", doc["title"])
                for key in docs for did, doc in docs[key]}
    mini_q = reranker.encode(queries)

    out: Dict = {"turns": len(logs), "answerable": sum(1 for l in labels if l["target"]),
                 "entities_embedded": len(needed), "docs_embedded": len(texts), "modes": {}}
    entity_ok = 0
    for mode in MODES + (RERANKED,):
        ranks, conf_a, conf_u = [], [], []
        for d, q, v, mq, lab in zip(logs, queries, qv, mini_q, labels):
            ent = entity_of(d)
            cands = docs.get(ent, []) if ent else []
            if cands:
                dense = np.array([float(np.max(vec_of[(ent, did)] @ v)) for did, _ in cands])
                bm = BM25Index([tokenize(f"{doc['title']} {doc['body']}") for _, doc in cands]).scores(tokenize(q))
                order_d = np.argsort(-dense)
                order_b = np.argsort(-bm)
                if mode == "vector":
                    score = dense
                elif mode == RERANKED:  # e5 order, the first `depth` re-ordered by e5 + weight x MiniLM
                    top = order_d[:reranker.depth]
                    score = np.empty(len(cands))
                    score[order_d] = -np.arange(len(cands), dtype=float) - 1e3  # the rest below, in e5 order
                    score[top] = dense[top] + reranker.weight * reranker.chunk_scores(mq, [chunk_of[(ent, cands[j][0])] for j in top])
                elif mode == "bm25":
                    score = bm + 1e-6 * dense  # break BM25 ties (all zero) by similarity
                else:
                    rd = np.empty(len(cands)); rd[order_d] = np.arange(len(cands))
                    rb = np.empty(len(cands)); rb[order_b] = np.arange(len(cands))
                    score = 1 / (60 + rd + 1) + 1 / (60 + rb + 1)
                order = np.argsort(-score)
                ranked = [(ent[0], ent[1], cands[j][0]) for j in order[:10]]
                conf = float(dense[order[0]])
            else:
                ranked, conf = [], 0.0
            if lab["target"]:
                g = lab["knowledge"][0]
                gold = (g["domain"], str(g["entity_id"]), str(g["doc_id"]))
                r = next((k for k, x in enumerate(ranked, 1) if x == gold), None)
                ranks.append(r)
                conf_a.append(conf)
                if mode == "vector" and ent == gold[:2]:
                    entity_ok += 1
            else:
                conf_u.append(conf)
        out["modes"][mode] = {"all": rank_metrics(ranks), "abstention": abstention(conf_a, conf_u, cfg.abstain_below("en")),
                              "abstention_sweep": sweep(conf_a, conf_u)}
    out["entity_accuracy"] = round(entity_ok / max(out["answerable"], 1), 4)
    return out


def part_transfer(args) -> Dict:
    """Abstention on DSTC10's and DSTC11's FAQ bases, never tuned on (benchmarks/abstention_transfer.py)."""
    import abstention_transfer
    from knowledge.embedding import get_embedder

    cfg = load_config()
    embedder = get_embedder(resolve_model(cfg.embed_model))
    encode = lambda texts: _cached_encode(embedder, texts)  # noqa: E731
    out: Dict = {"quantile": cfg.abstain_quantile, "fixed_en": cfg.abstain_below("en"), "bases": {}}
    for name in ("dstc10_track2", "dstc11_track5"):
        base = Path(args.datasets) / name
        if not base.exists():
            raise SystemExit(f"{base} not found; pass --datasets DIR holding {name}/")
        print(f"  {name}", flush=True)
        out["bases"][name] = abstention_transfer.evaluate(base, encode, cfg.abstain_quantile, cfg.abstain_below("en"))
    return out


def part_training(args) -> Dict:
    """Feature reranker, query-side fine-tunes and query adapters (benchmarks/retriever_training.py)."""
    import retriever_training as rt
    from knowledge.embedding import get_embedder

    cfg = load_config()
    model_dir = resolve_model(cfg.embed_model)
    embedder = get_embedder(model_dir)
    encode = lambda texts: _cached_encode(embedder, texts)  # noqa: E731
    train = rt.candidates(Path(args.datasets) / "dstc11_track5", encode, train=True)
    test = rt.candidates(Path(args.datasets) / "dstc10_track2", encode, train=False)
    from knowledge.retrieval import Retriever

    stored = store.read(Path(args.index))
    retriever = Retriever(stored, embedder, "vector")
    paraphrases = rt.paraphrase_rows(rt.faq_similar(ROOT / "knowledge" / "sources"), stored, faq_only=True)
    tests = [q for q in load_questions() if q["gold"]]
    devs = [q for q in load_questions("dev_questions.yaml") if q["gold"]]

    def r1_per_language(qs: List[Dict], encode_queries) -> Dict:
        qv = encode_queries([q["q"] for q in qs])
        ranks: Dict[str, List] = {"zh": [], "en": []}
        for q, v in zip(qs, qv):
            ranks[q["lang"]].append(first_rank(retriever.search(q["q"], k=1, language=q["lang"], qvec=v), q["gold"]))
        return {lang: rank_metrics(r)["recall@1"] for lang, r in ranks.items()}

    def own(encode_queries) -> Dict:
        """Own test set R@1 per language, the dev set's under "dev", with a given query encoder."""
        return {**r1_per_language(tests, encode_queries), "dev": r1_per_language(devs, encode_queries)}

    def adapted(w: np.ndarray) -> Dict:
        """DSTC10 and own-set R@1 with query vectors mapped by ``w``."""
        def mapped(vectors: np.ndarray) -> np.ndarray:
            v = np.asarray(vectors, dtype=np.float32) @ w.T
            return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
        dstc10 = rt.dense_r1(test, mapped(encode([f"query: {r['q']}" for r in test])))
        return {"dstc10": dstc10, "own": own(lambda texts: mapped(embedder.queries(list(texts))))}

    out: Dict = {"train_turns": len(train), "dstc10_turns": len(test), "paraphrases": len(paraphrases),
                 "baseline": adapted(np.eye(embedder.dim, dtype=np.float32)),
                 "reranker": rt.feature_reranker(train, test), "finetune": [], "adapter": []}
    for layers, epochs, lr, tau, rows, extra in ((4, 2, 3e-5, 0.02, train, []), (4, 3, 5e-6, 0.05, train, []),
                                                 (4, 3, 1e-5, 0.05, [], paraphrases)):
        print(f"  query-side fine-tune: top {layers} layers, lr {lr}, tau {tau}, "
              f"{'paraphrases' if extra else 'DSTC11'}", flush=True)
        out["finetune"].append({"data": "paraphrases" if extra else "dstc11",
                                **rt.query_finetune(model_dir, rows, test, own, layers, epochs, lr, tau, extra=extra)})
    for data, lam, tau in (("paraphrases", 1e-3, 0.05), ("paraphrases", 1e-2, 0.05), ("both", 1e-3, 0.02),
                           ("both", 1e-2, 0.05)):
        print(f"  query adapter: {data}, lambda {lam}, tau {tau}", flush=True)
        rows = paraphrases + ([r for r in train if r["gold"] is not None] if data == "both" else [])
        out["adapter"].append({"data": data, **rt.query_adapter(rows, encode, adapted, lam, tau)})
    return out


def part_rerank(args) -> Dict:
    """Cross-encoder reranker trained on DSTC11 + the own paraphrases (benchmarks/cross_encoder.py)."""
    import cross_encoder as ce
    import retriever_training as rt
    from knowledge.embedding import get_embedder
    from knowledge.retrieval import Retriever

    cfg = load_config()
    model_dir = resolve_model(cfg.embed_model)
    embedder = get_embedder(model_dir)
    encode = lambda texts: _cached_encode(embedder, texts)  # noqa: E731
    k = args.rerank_k
    dstc11 = rt.candidates(Path(args.datasets) / "dstc11_track5", encode, train=True)
    dstc10 = rt.candidates(Path(args.datasets) / "dstc10_track2", encode, train=False)
    stored = store.read(Path(args.index))
    retriever = Retriever(stored, embedder, "vector")
    paraphrases = rt.paraphrase_rows(rt.faq_similar(ROOT / "knowledge" / "sources"), stored)
    for r, v in zip(paraphrases, encode([f"query: {r['q']}" for r in paraphrases])):
        r["qv"] = v
    groups = ce.groups(dstc11 + paraphrases, args.rerank_negatives + 1, train=True)
    dstc10_groups = ce.groups(dstc10, k)

    def own_groups(name: str) -> Dict[str, List[Dict]]:
        out: Dict[str, List[Dict]] = {"zh": [], "en": []}
        for q in load_questions(name):
            if not q["gold"]:
                continue
            hits = retriever.search(q["q"], k=k, language=q["lang"])
            gold = first_rank(hits, q["gold"])
            out[q["lang"]].append({"q": q["q"], "texts": [h.chunk.embed_texts()[0][len("passage: "):] for h in hits],
                                   "cosines": np.array([h.dense for h in hits]), "gold": gold - 1 if gold else None})
        return out

    own = {"test": own_groups("questions.yaml"), "dev": own_groups("dev_questions.yaml")}

    def evaluate(model=None) -> Dict:
        return {"dstc10": ce.group_r1(model, dstc10_groups),
                **{f"{split}_{lang}": ce.group_r1(model, g) for split, by in own.items() for lang, g in by.items()}}

    out: Dict = {"k": k, "train_groups": len(groups), "dstc11_groups": len(dstc11), "paraphrases": len(paraphrases),
                 "dstc10_turns": len(dstc10_groups), "baseline": evaluate(), "runs": []}
    print(f"  baseline {out['baseline']}", flush=True)
    model = ce.Reranker(model_dir, layers=args.rerank_layers, trainable=args.rerank_trainable)
    print(f"  reranker: {args.rerank_layers} layers ({args.rerank_trainable} trained), lr {args.rerank_lr}, "
          f"bound {model.bound}, {len(groups)} groups of {args.rerank_negatives + 1}", flush=True)
    history = model.train(groups, args.rerank_epochs, args.rerank_lr, args.rerank_negatives, lambda: evaluate(model))
    out["runs"].append({"layers": args.rerank_layers, "trainable": args.rerank_trainable, "bound": model.bound,
                        "lr": args.rerank_lr, "negatives": args.rerank_negatives, "history": history})
    return out


# ------------------------------------------------------------------ ingestion
def demo_sources(args) -> List[str]:
    srcs = [str(ROOT / "knowledge" / "sources")]
    regs = Path(args.datasets) / "property_regulations_zh"
    return srcs + ([str(regs)] if regs.exists() else [])


def part_ingest(args) -> Dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "knowledge", "ingest", *demo_sources(args), "--index", tmp, "--quiet"]
        t0 = time.perf_counter()
        first = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        t1 = time.perf_counter()
        again = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        t2 = time.perf_counter()
    return {"sources": demo_sources(args), "fresh": {**first, "process_s": round(t1 - t0, 1)},
            "unchanged": {**again, "process_s": round(t2 - t1, 1)}}


# ------------------------------------------------------------------ search at 10k chunks
def part_search10k(args) -> Dict:
    """Grow the demo index to 10k chunks (copies with perturbed vectors) and time full searches."""
    from knowledge.embedding import get_embedder
    from knowledge.index import build_index
    from knowledge.records import Chunk
    from knowledge.retrieval import Retriever

    cfg = load_config()
    base = store.read(Path(args.index), with_faiss=False)
    rng = np.random.default_rng(0)
    chunks, tokens, vecs, rows = [], [], [], []
    copy = 0
    while len(chunks) < 10_000:
        for i, c in enumerate(base.chunks):
            if len(chunks) >= 10_000:
                break
            d = c.to_dict()
            d["chunk_id"] = f"{c.chunk_id}~{copy}"
            chunks.append(Chunk.from_dict(d))
            tokens.append(base.tokens[i])
            v = base.vectors[base.rows == i]
            if copy:
                v = v + rng.normal(0, 0.02, v.shape).astype("float32")
                v /= np.linalg.norm(v, axis=1, keepdims=True)
            vecs.append(v)
            rows += [len(chunks) - 1] * len(v)
        copy += 1
    vectors = np.concatenate(vecs).astype("float32")
    stored = store.StoredIndex(chunks, vectors, np.array(rows, dtype="int32"), tokens, {}, build_index(vectors, "flat"))
    retriever = Retriever(stored, get_embedder(resolve_model(cfg.embed_model)))
    qs = [q["q"] for q in load_questions()]
    out: Dict = {"chunks": len(chunks), "vectors": int(len(vectors)), "queries": len(qs)}
    embed_ms, qvecs = [], []
    for q in qs:  # the query embedding is shared by all modes: timed on its own
        t0 = time.perf_counter()
        qvecs.append(retriever.embedder.query(q))
        embed_ms.append((time.perf_counter() - t0) * 1000)
    out["embed_query"] = {"p50_ms": pct(embed_ms, 50), "p95_ms": pct(embed_ms, 95)}
    for mode in MODES:
        retriever.search(qs[0], k=5, mode=mode, qvec=qvecs[0])  # warm
        times = []
        for q, v in zip(qs, qvecs):
            t0 = time.perf_counter()
            retriever.search(q, k=5, mode=mode, qvec=v)
            times.append((time.perf_counter() - t0) * 1000)
        full = [a + b for a, b in zip(times, embed_ms)]
        out[mode] = {"p50_ms": pct(full, 50), "p95_ms": pct(full, 95), "max_ms": round(max(full), 1),
                     "index_only_p50_ms": pct(times, 50), "index_only_p95_ms": pct(times, 95)}
    # The product's English path: the English questions, re-ordered by the English reranker
    # (its MiniLM query embedding is inside the timed search; the chunks warmed as at start-up).
    from knowledge.rerank import get_reranker

    reranker = get_reranker("minilm", cfg.rerank_weight, cfg.rerank_depth)
    reranker.warm([c for c in chunks if c.language == "en"])
    english = Retriever(stored, retriever.embedder, "vector", reranker=reranker)
    en = [(q, v, e) for q, v, e, lang in zip(qs, qvecs, embed_ms, [q["lang"] for q in load_questions()]) if lang == "en"]
    for name, r in (("vector_en", retriever), (RERANKED + "_en", english)):
        r.search(en[0][0], k=5, language="en", qvec=en[0][1])  # warm
        times = []
        for q, v, _ in en:
            t0 = time.perf_counter()
            r.search(q, k=5, language="en", qvec=v)
            times.append((time.perf_counter() - t0) * 1000)
        full = [a + e for a, (_, _, e) in zip(times, en)]
        out[name] = {"queries": len(en), "p50_ms": pct(full, 50), "p95_ms": pct(full, 95), "max_ms": round(max(full), 1),
                     "index_only_p50_ms": pct(times, 50), "index_only_p95_ms": pct(times, 95)}
    return out


# ------------------------------------------------------------------ ask latency
def part_latency(args) -> Dict:
    from knowledge.answer import Answerer

    cfg = load_config()
    qs = [q for q in load_questions() if q["gold"]]
    zh = [q for q in qs if q["lang"] == "zh"]
    en = [q for q in qs if q["lang"] == "en"]
    out: Dict = {}
    for backend in args.generators.split(","):
        n = args.latency_n if backend != "transformers" else min(args.latency_n, 6)
        sample = zh[:n // 2] + en[:n - n // 2]
        try:
            t0 = time.perf_counter()
            answerer = Answerer(cfg.with_overrides(generator=backend), Path(args.index), backend)
            answerer.warm_up()
            load_s = time.perf_counter() - t0
        except Exception as exc:  # backend not installed / endpoint down: report, go on
            out[backend] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        forced, normal, modes, lengths, examples = [], [], {}, [], []
        for q in sample:
            r = answerer.ask(q["q"], q["lang"], log_unanswered=False, force_generate=True)
            forced.append(r.timings["total_ms"])
            modes[r.mode] = modes.get(r.mode, 0) + 1
            lengths.append(len(r.generated))
            if len(examples) < 6:
                examples.append({"q": q["q"], "generated": r.generated, "mode": r.mode, "unsupported": r.unsupported})
            normal.append(answerer.ask(q["q"], q["lang"], log_unanswered=False).timings["total_ms"])
        out[backend] = {"n": len(sample), "load_and_warmup_s": round(load_s, 1),
                        "forced_generation": {"p50_ms": pct(forced, 50), "p95_ms": pct(forced, 95)},
                        "pipeline": {"p50_ms": pct(normal, 50), "p95_ms": pct(normal, 95)},
                        "modes_when_forced": modes, "mean_generated_chars": round(float(np.mean(lengths)), 1),
                        "examples": examples}
    return out


# ------------------------------------------------------------------ FAISS scaling
def synthetic(n: int, dim: int, rng, centers: np.ndarray) -> np.ndarray:
    """Clustered unit vectors (like sentence embeddings, unlike uniform noise)."""
    out = np.empty((n, dim), dtype="float32")
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        x = centers[rng.integers(0, len(centers), m)] + rng.normal(0, 0.35 / np.sqrt(dim) * 3, (m, dim)).astype("float32")
        out[s:s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def part_faiss(args) -> Dict:
    import faiss

    from knowledge.index import build_index

    faiss.omp_set_num_threads(2)
    dim, nq, k = 384, 200, 10
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 1, (2000, dim)).astype("float32")
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    out: Dict = {"dim": dim, "queries": nq, "k": k, "data": "2000 Gaussian clusters on the unit sphere"}
    for n in [int(x) for x in args.faiss_sizes.split(",")]:
        data = synthetic(n, dim, rng, centers)
        queries = synthetic(nq, dim, rng, centers)
        exact = faiss.IndexFlatIP(dim)
        exact.add(data)
        _, truth = exact.search(queries, k)
        res: Dict = {}
        for kind in args.faiss_types.split(","):
            if kind == "hnsw" and n > args.hnsw_max:
                res[kind] = {"skipped": f"n > --hnsw-max {args.hnsw_max}"}
                continue
            print(f"  n={n} {kind}: building", flush=True)
            t0 = time.perf_counter()
            index = exact if kind == "flat" else build_index(data, kind, use_gpu=False)
            build_s = time.perf_counter() - t0
            settings = {"flat": [None], "hnsw": [32, 64, 128], "ivf": [8, 16, 32, 64]}[kind]
            rows = []
            for s in settings:
                if kind == "hnsw":
                    index.hnsw.efSearch = s
                elif kind == "ivf":
                    index.nprobe = s
                times, found = [], 0
                for i in range(nq):
                    t1 = time.perf_counter()
                    _, ids = index.search(queries[i:i + 1], k)
                    times.append((time.perf_counter() - t1) * 1000)
                    found += len(set(ids[0]) & set(truth[i]))
                rows.append({"param": s, "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
                             "recall@10": round(found / (nq * k), 4)})
            res[kind] = {"build_s": round(build_s, 1), "runs": rows}
            if kind != "flat":
                del index
        out[str(n)] = res
        del data, exact
    return out


# ------------------------------------------------------------------ report
def report() -> str:
    """Markdown tables from the cached results."""
    def load(name):
        p = RESULTS / f"rag_{name}.json"
        return json.loads(p.read_text()) if p.exists() else None

    lines: List[str] = []
    own = load("own")
    if own:
        m = own["machine"]
        lines += [f"Machine: {m['cpu']}, {m['cores']} cores visible, torch {m['torch']}, faiss {m['faiss']}, "
                  f"measured {m['date']}.", ""]
        lines += ["**Own held-out set** (knowledge/eval/questions.yaml; "
                  f"{own['questions']} questions over {own['n_chunks']} chunks)", "",
                  "| mode | zh R@1 | zh R@5 | zh MRR | en R@1 | en R@5 | en MRR | abstain recall | answered | abstain precision |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for mode, r in own["modes"].items():
            a = r["abstention"]
            lines.append(f"| {mode} | {r['zh']['recall@1']:.3f} | {r['zh']['recall@5']:.3f} | {r['zh']['mrr']:.3f} | "
                         f"{r['en']['recall@1']:.3f} | {r['en']['recall@5']:.3f} | {r['en']['mrr']:.3f} | "
                         f"{a['abstain_recall']:.3f} | {a['answered_rate']:.3f} | {a['abstain_precision']:.3f} |")
        h = own["modes"]["vector"]
        lines.append(f"(zh n={h['zh']['n']}, en n={h['en']['n']} answerable, 15 unanswerable per language; "
                     f"abstention at best-hit cosine < {h['abstention']['threshold']}; per language, vector mode: "
                     f"zh abstains on {h['zh']['abstention']['abstain_recall']:.3f} of unanswerable and answers "
                     f"{h['zh']['abstention']['answered_rate']:.3f} of answerable, en "
                     f"{h['en']['abstention']['abstain_recall']:.3f} / {h['en']['abstention']['answered_rate']:.3f})")
        lines.append("")
    reg = load("region")
    if reg:
        lines += [f"**Regulation questions with `region: {reg['region']}`** (other places' documents left out: "
                  f"{', '.join(reg['not_cited'])})", "",
                  "| questions | n | first passage another place's, no region | with region | R@1 no region | with region |",
                  "|---|---|---|---|---|---|"]
        for name, r in reg["sets"].items():
            a, b = r["no_region"], r["with_region"]
            lines.append(f"| {name} | {a['questions']} | {a['first_is_other_place']} | {b['first_is_other_place']} | "
                         f"{a.get('r1', 0):.3f} | {b.get('r1', 0):.3f} |")
        lines.append("")
    t = load("tune")
    if t:
        lines += [f"**Thresholds chosen on the dev questions** (knowledge/eval/dev_questions.yaml, {t['questions']} "
                  "questions written apart from the test set; highest best-hit cosine that still answers "
                  f"{MIN_ANSWERED:.0%} of the answerable dev questions)", "",
                  "| language | dev answerable / unanswerable | abstain below | dev answered | dev abstained "
                  "| balanced alternative (dev answered / abstained) | in knowledge/config.yml |",
                  "|---|---|---|---|---|---|---|"]
        for lang, r in t["languages"].items():
            a, b = r["dev_at_threshold"], r["balanced_alternative"]
            lines.append(f"| {lang} | {r['answerable']} / {r['unanswerable']} | {r['abstain_below']} | "
                         f"{a['answered_rate']:.3f} | {a['abstain_recall']:.3f} | {b['abstain_below']} "
                         f"({b['dev']['answered_rate']:.3f} / {b['dev']['abstain_recall']:.3f}) | "
                         f"{r['configured']['abstain_below']} |")
        lines.append("")
    if t and "quantile" in t:
        c = t["quantile"]["chosen"]
        lines += [f"**Threshold measured on the base** (knowledge/calibration.py): percentile {c['percentile']} of the "
                  f"base's held-out FAQ scores ({t['quantile']['held_out_questions']} questions), the highest that "
                  f"answers {MIN_ANSWERED:.0%} of the answerable dev questions in both languages: dev zh answered "
                  f"{c['zh']['answered_rate']:.3f} / abstained {c['zh']['abstain_recall']:.3f} at {c['zh']['threshold']}, "
                  f"en {c['en']['answered_rate']:.3f} / {c['en']['abstain_recall']:.3f} at {c['en']['threshold']} "
                  f"(configured: abstain_quantile {t['quantile']['configured']:g}).", ""]
    if own and "abstention_fixed" in own["modes"]["vector"]:
        v = own["modes"]["vector"]
        lines += ["**Own test set, abstention: measured against fixed thresholds** (vector mode)", "",
                  "| thresholds | zh answered | zh abstained | en answered | en abstained | all answered | all abstained |",
                  "|---|---|---|---|---|---|---|"]
        for label, key in ((f"measured on the base {own['measured_thresholds']}", "abstention"),
                           (f"fixed {own['fixed_thresholds']}", "abstention_fixed")):
            lines.append(f"| {label} | {v['zh'][key]['answered_rate']:.3f} | {v['zh'][key]['abstain_recall']:.3f} | "
                         f"{v['en'][key]['answered_rate']:.3f} | {v['en'][key]['abstain_recall']:.3f} | "
                         f"{v[key]['answered_rate']:.3f} | {v[key]['abstain_recall']:.3f} |")
        lines.append("")
    tr = load("transfer")
    if tr:
        import abstention_transfer

        lines += ["**Abstention on bases it was not tuned on** (benchmarks/abstention_transfer.py; "
                  f"measured {tr['machine']['date']})", "", abstention_transfer.table(tr), ""]
        for name, r in tr["bases"].items():
            lines.append(f"- {name}: {r['answerable']} answerable turns, {r['no_knowledge']} needing no knowledge, "
                         f"{r['entry_missing']} with the gold entry removed; {r['faqs']} FAQs of {r['entities']} entities; "
                         f"held-out percentiles {r['held_out_percentiles']}")
        lines.append("")
    d = load("dstc10")
    if d:
        lines += [f"**DSTC10 track 2 FAQ selection** (val: {d['turns']} turns, {d['answerable']} answerable; "
                  f"entity found by name matching: {d['entity_accuracy']:.3f} of answerable turns)", "",
                  "| mode | R@1 | R@5 | MRR | abstain recall | answered | abstain precision |", "|---|---|---|---|---|---|---|"]
        for mode, r in d["modes"].items():
            a = r["abstention"]
            lines.append(f"| {mode} | {r['all']['recall@1']:.3f} | {r['all']['recall@5']:.3f} | {r['all']['mrr']:.3f} | "
                         f"{a['abstain_recall']:.3f} | {a['answered_rate']:.3f} | {a['abstain_precision']:.3f} |")
        lines.append("")
    s = load("search10k")
    if s:
        lines += [f"**`search` latency at {s['chunks']} chunks** ({s['vectors']} vectors, flat index, "
                  f"{s['queries']} queries; total = query embedding + retrieval; measured {s['machine']['date']})", "",
                  "| mode | total p50 ms | total p95 ms | retrieval only p50 ms | retrieval only p95 ms |",
                  "|---|---|---|---|---|"]
        lines += [f"| {m} | {s[m]['p50_ms']} | {s[m]['p95_ms']} | {s[m].get('index_only_p50_ms', '–')} | "
                  f"{s[m].get('index_only_p95_ms', '–')} |" for m in MODES]
        lines += [f"| {m.replace('_en', '')}, English questions only (n={s[m]['queries']}) | {s[m]['p50_ms']} | "
                  f"{s[m]['p95_ms']} | {s[m]['index_only_p50_ms']} | {s[m]['index_only_p95_ms']} |"
                  for m in ("vector_en", RERANKED + "_en") if m in s]
        if "embed_query" in s:
            lines.append(f"(query embedding alone: p50 {s['embed_query']['p50_ms']} ms, p95 {s['embed_query']['p95_ms']} ms)")
        lines.append("")
    lat = load("latency")
    if lat:
        lines += ["**`ask` latency** (forced = the generator runs on every question; pipeline = with the "
                  "extractive FAQ shortcut)", "",
                  "| backend | n | forced p50 ms | forced p95 ms | pipeline p50 ms | pipeline p95 ms | load+warm-up s | modes when forced |",
                  "|---|---|---|---|---|---|---|---|"]
        for b, r in lat.items():
            if not isinstance(r, dict) or b in ("machine",):
                continue
            if "error" in r:
                lines.append(f"| {b} | – | {r['error']} |||||")
                continue
            lines.append(f"| {b}{' (2 threads, earlier run)' if 'note' in r else ''} | {r['n']} | {r['forced_generation']['p50_ms']} | {r['forced_generation']['p95_ms']} | "
                         f"{r['pipeline']['p50_ms']} | {r['pipeline']['p95_ms']} | {r['load_and_warmup_s']} | "
                         f"{r['modes_when_forced']} |")
        lines.append("")
    ing = load("ingest")
    if ing:
        lines += [f"**Ingestion** of the demo base ({ing['fresh']['files']} files, {ing['fresh']['chunks']} chunks, "
                  f"{ing['fresh']['vectors']} vectors): fresh {ing['fresh']['process_s']} s, unchanged re-ingest "
                  f"{ing['unchanged']['process_s']} s (process wall time incl. model load).", ""]
    f = load("faiss")
    if f:
        lines += [f"**FAISS** ({f['data']}, dim {f['dim']}, {f['queries']} single-vector queries, 2 threads)", "",
                  "| vectors | index | param | build s | p50 ms | p99 ms | recall@10 |", "|---|---|---|---|---|---|---|"]
        for n, res in f.items():
            if not n.isdigit():
                continue
            for kind, r in res.items():
                if "skipped" in r:
                    lines.append(f"| {int(n):,} | {kind} | – | – | – | – | {r['skipped']} |")
                    continue
                for run in r["runs"]:
                    p = {"hnsw": f"efSearch={run['param']}", "ivf": f"nprobe={run['param']}"}.get(kind, "exact")
                    lines.append(f"| {int(n):,} | {kind} | {p} | {r['build_s']} | {run['p50_ms']} | {run['p99_ms']} | "
                                 f"{run['recall@10']:.3f} |")
        lines.append("")
    q = load("quality")
    if q:
        lines += [bench_answers.table(q), f"(measured {q['machine']['date']}, {q['machine']['cpu']})", ""]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="own,dstc10,search10k,ingest,latency,faiss,quality",
                   help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--force", action="store_true", help="recompute cached parts")
    p.add_argument("--report", action="store_true", help="only print the Markdown tables")
    cfg = load_config()
    p.add_argument("--index", default=str(cfg.path(os.environ.get("KNOWLEDGE_INDEX", cfg.index))))
    p.add_argument("--datasets", "--data-root", dest="datasets", default=str(ROOT.parent / "shared" / "datasets"),
                   help="folder holding dstc10_track2/ and property_regulations_zh/")
    p.add_argument("--generators", default="extractive,llamacpp,transformers")
    p.add_argument("--latency-n", type=int, default=20)
    p.add_argument("--faiss-sizes", default="10000,100000,1000000")
    p.add_argument("--faiss-types", default="flat,hnsw,ivf")
    p.add_argument("--hnsw-max", type=int, default=1_000_000, help="skip HNSW above this size (slow to build)")
    p.add_argument("--rerank-k", type=int, default=5, help="rerank part: candidates reranked per question")
    p.add_argument("--rerank-layers", type=int, default=6, help="rerank part: e5 layers kept in the cross-encoder")
    p.add_argument("--rerank-trainable", type=int, default=2, help="rerank part: top layers trained")
    p.add_argument("--rerank-epochs", type=int, default=2)
    p.add_argument("--rerank-lr", type=float, default=1e-5)
    p.add_argument("--rerank-negatives", type=int, default=3, help="rerank part: hard negatives per training group")
    bench_answers.add_arguments(p)
    args = p.parse_args(argv)
    if not args.report:
        needs_index = {"tune", "own", "region", "search10k", "latency", "quality"}
        parts = [x.strip() for x in args.parts.split(",") if x.strip()]
        unknown = set(parts) - set(PARTS)
        if unknown:
            p.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
        if needs_index & set(parts) and not store.exists(Path(args.index)):
            p.error(f"no index at {args.index}: run `python -m knowledge ingest knowledge/sources "
                    f"../shared/datasets/property_regulations_zh --index {args.index}` first")
        fns = {"tune": part_tune, "own": part_own, "region": part_region, "dstc10": part_dstc10, "transfer": part_transfer, "training": part_training, "rerank": part_rerank, "ingest": part_ingest, "search10k": part_search10k,
               "latency": part_latency, "faiss": part_faiss, "quality": bench_answers.part_quality}
        for part in parts:
            cached(part, args.force, lambda: fns[part](args))
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
