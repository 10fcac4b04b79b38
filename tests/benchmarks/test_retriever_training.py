"""Training data and the trained retrievers of benchmarks/retriever_training.py."""
from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import List

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import retriever_training as rt  # noqa: E402

SOURCES = ROOT / "knowledge" / "sources"


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _evaluated_wordings() -> List[str]:
    out = [q["q"] for name in ("questions.yaml", "dev_questions.yaml")
           for q in yaml.safe_load((ROOT / "knowledge" / "eval" / name).read_text(encoding="utf-8"))]
    for thread in yaml.safe_load((ROOT / "knowledge" / "eval" / "followup_questions.yaml").read_text(encoding="utf-8")):
        then = thread["then"] if isinstance(thread["then"], list) else [thread["then"]]
        out += [thread["first"], *then]
    return [_norm(q) for q in out]


def test_paraphrases_name_real_faq_entries_in_both_languages() -> None:
    items = rt.faq_similar(SOURCES)
    ids = {lang: {e["id"] for e in yaml.safe_load((ROOT / "knowledge" / "sources" / f"faq_{lang}.yaml")
                                                   .read_text(encoding="utf-8"))["entries"]} for lang in ("zh", "en")}
    assert items and all(x["lang"] in ("zh", "en") and x["faq"] in ids[x["lang"]] for x in items)
    covered = {(x["faq"], x["lang"]) for x in items}
    assert {lang for _, lang in covered} == {"zh", "en"} and len(covered) >= 0.9 * (len(ids["zh"]) + len(ids["en"]))


def test_no_evaluated_wording_is_trained_on() -> None:
    evaluated = _evaluated_wordings()
    close = [x["q"] for x in rt.faq_similar(SOURCES)
             if any(difflib.SequenceMatcher(None, _norm(x["q"]), e).ratio() >= 0.8 for e in evaluated)]
    assert close == []


def _chunk(chunk_id: str, lang: str, kind: str = "faq") -> SimpleNamespace:
    return SimpleNamespace(chunk_id=chunk_id, language=lang, kind=kind, embed_texts=lambda: [f"passage: {chunk_id}"])


def test_paraphrase_rows_point_at_their_faq_among_the_language_s_chunks() -> None:
    chunks = [_chunk("faq:a@zh", "zh"), _chunk("doc:x#1", "zh", "doc"), _chunk("faq:b@zh", "zh"), _chunk("faq:a@en", "en")]
    vectors = np.eye(4, dtype="float32")
    stored = SimpleNamespace(chunks=chunks, vectors=vectors, rows=np.arange(4))
    path = [{"faq": "b", "lang": "zh", "q": "乙"}, {"faq": "a", "lang": "en", "q": "a?"}, {"faq": "gone", "lang": "zh", "q": "丙"}]
    rows = rt.paraphrase_rows(path, stored)
    assert [(r["q"], r["gold"], len(r["passages"])) for r in rows] == [("乙", 2, 3), ("a?", 0, 1)]
    assert np.array_equal(rows[0]["passages"][2], vectors[2]) and rows[0]["texts"][2] == "faq:b@zh"
    faq_only = rt.paraphrase_rows(path, stored, faq_only=True)
    assert [(r["gold"], len(r["passages"])) for r in faq_only] == [(1, 2), (0, 1)]


def test_the_query_adapter_learns_a_consistent_distortion() -> None:
    # Queries are their FAQ's vector pushed through a fixed rotation plus noise: the identity
    # ranks them badly, a learnt map recovers most of them.
    rng = np.random.default_rng(0)
    faqs = rng.normal(size=(12, 16)).astype("float32")
    faqs /= np.linalg.norm(faqs, axis=1, keepdims=True)
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    golds = np.repeat(np.arange(12), 8)
    queries = faqs[golds] @ rotation.T.astype("float32") + 0.05 * rng.normal(size=(len(golds), 16)).astype("float32")
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows = [{"q": str(i), "passages": faqs, "gold": int(g)} for i, g in enumerate(golds)]
    encode = lambda texts: queries[[int(t.split(": ", 1)[1]) for t in texts]]  # noqa: E731

    def r1(w: np.ndarray) -> dict:
        return {"r1": float(np.mean(np.argmax((queries @ w.T) @ faqs.T, axis=1) == golds))}

    identity = r1(np.eye(16, dtype="float32"))["r1"]
    learnt = rt.query_adapter(rows, encode, r1, lam=1e-4, tau=0.1, epochs=30, lr=1e-2)
    assert learnt["r1"] >= 0.9 > identity + 0.3 and learnt["train_rows"] == len(rows) and learnt["change_norm"] > 0
