"""Trained retrieval on this machine (issue 15): what was tried, rerunnable.

Ways to beat the frozen e5 ranking, trained on DSTC11 track 5 (its val dialogues whose
gold is an FAQ; the gold entity's FAQs are the candidates) and, for the last two, also on
the own FAQ paraphrases (the demo FAQ's similar questions, knowledge/sources/faq_*.yaml,
written apart from knowledge/eval/), evaluated on DSTC10 track 2 (never trained on; entity
found by name as in ``--parts dstc10``, R@1 over the answerable turns whose entity was
found) and on the own dev and test sets:

- **feature reranker**: a listwise linear model (softmax over an entity's FAQs) on the
  e5 cosine to the FAQ, the cosine to its question alone, BM25 on question+answer and on
  the question, character-trigram overlap with the question and the dense rank;
- **query-side fine-tune**: the top ``--layers`` transformer layers of e5 trained on the
  queries only, the FAQ vectors frozen (so a stored index stays valid), contrastive loss
  over the entity's FAQs (temperature ``--tau``), evaluated after every epoch; once on
  DSTC11 alone, once on the own paraphrases alone (candidates: every FAQ of the language);
- **query adapter**: a linear map on the frozen query vectors, initialised at the identity
  and held near it by an L2 penalty, on the paraphrases alone and on both.

Run: ``python benchmarks/bench_rag.py --parts training`` (about 5 minutes on 2 cores
after the embeddings are cached). Needs ``--datasets`` with dstc10_track2/ and dstc11_track5/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np

FEATURES = ("cosine", "question_cosine", "bm25", "bm25_question", "trigram_overlap", "dense_rank")


def _trigrams(text: str) -> set:
    s = re.sub(r"[\W_]+", " ", text.lower()).strip()
    return {s[i:i + 3] for i in range(max(len(s) - 2, 1))}


def candidates(base: Path, encode: Callable[[List[str]], np.ndarray], train: bool) -> List[Dict]:
    """FAQ turns with their candidate FAQs' vectors and lexical features."""
    from abstention_transfer import entity_faqs, load, turns
    from knowledge.bm25 import BM25Index, tokenize

    knowledge, logs, labels = load(base)
    items = [x for x in turns(knowledge, logs, labels) if x["kind"] == "faq"]
    for x in items:
        x["use"] = x["gold_entity"] if train else x["entity"]
    items = [x for x in items if x["use"] and knowledge[x["use"][0]][x["use"][1]]["docs"]]
    entities = sorted({x["use"] for x in items})
    docs, passages, titles, offset = entity_faqs(knowledge, entities, encode)
    queries = encode([f"query: {x['q']}" for x in items])
    out = []
    for x, qv in zip(items, queries):
        e = x["use"]
        ids = [did for did, _ in docs[e]]
        sl = slice(offset[e], offset[e] + len(ids))
        dense, qcos = passages[sl] @ qv, titles[sl] @ qv
        qt = tokenize(x["q"])
        bm = BM25Index([tokenize(f"{d['title']} {d['body']}") for _, d in docs[e]]).scores(qt)
        bq = BM25Index([tokenize(d["title"]) for _, d in docs[e]]).scores(qt)
        tri = _trigrams(x["q"])
        overlap = np.array([len(tri & _trigrams(d["title"])) / max(len(tri | _trigrams(d["title"])), 1) for _, d in docs[e]])
        rank = np.empty(len(ids))
        rank[np.argsort(-dense)] = np.arange(len(ids))
        feats = np.stack([dense, qcos, bm / bm.max() if bm.max() > 0 else bm, bq / bq.max() if bq.max() > 0 else bq,
                          overlap, 1 / (1 + rank)], 1)
        gold = ids.index(x["gold"]) if x["gold"] in ids and e == x["gold_entity"] else None
        out.append({"q": x["q"], "features": feats, "passages": passages[sl], "gold": gold, "qv": qv,
                    "texts": [f"{d['title']}\n{d['body']}" for _, d in docs[e]]})
    return out


def _fit_listwise(rows: List[Dict], l2: float = 1e-3, iters: int = 2000, lr: float = 0.5):
    X = [r["features"] for r in rows if r["gold"] is not None]
    y = [r["gold"] for r in rows if r["gold"] is not None]
    allx = np.concatenate(X)
    mu, sd = allx.mean(0), allx.std(0) + 1e-6
    Z = [(f - mu) / sd for f in X]
    w = np.zeros(allx.shape[1])
    w[0] = 1.0
    for _ in range(iters):
        grad = l2 * w
        for f, g in zip(Z, y):
            s = f @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += (f.T @ p - f[g]) / len(Z)
        w -= lr * grad
    return w, mu, sd


def _r1(rows: List[Dict], score: Callable[[Dict], np.ndarray]) -> float:
    return round(sum(1 for r in rows if r["gold"] is not None and int(np.argmax(score(r))) == r["gold"]) / max(len(rows), 1), 4)


def dense_r1(rows: List[Dict], query_vectors: np.ndarray) -> float:
    """R@1 with each row's candidates ranked by their cosine to its query vector."""
    return _r1([{**r, "qv": v} for r, v in zip(rows, query_vectors)], lambda r: r["passages"] @ r["qv"])


def feature_reranker(train: List[Dict], test: List[Dict]) -> Dict:
    """Dense baseline against the listwise reranker on every feature subset tried."""
    out = {"dense": {"train": _r1(train, lambda r: r["features"][:, 0]), "dstc10": _r1(test, lambda r: r["features"][:, 0])},
           "rerankers": []}
    for cols in ([0, 1], [0, 2, 3], [0, 4], [0, 1, 2, 3, 4, 5]):
        sub = lambda rows: [{**r, "features": r["features"][:, cols]} for r in rows]  # noqa: E731
        w, mu, sd = _fit_listwise(sub(train))
        fn = lambda r: ((r["features"] - mu) / sd) @ w  # noqa: E731
        out["rerankers"].append({"features": [FEATURES[c] for c in cols], "weights": [round(float(v), 3) for v in w],
                                 "train": _r1(sub(train), fn), "dstc10": _r1(sub(test), fn)})
    return out


def faq_similar(sources: Path) -> List[Dict]:
    """The similar questions of the FAQ files in ``sources`` as {faq, lang, q}: the demo's are
    written paraphrases (5 per entry and language, written apart from knowledge/eval/)."""
    import yaml

    out = []
    for path in sorted(Path(sources).glob("faq_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for e in data["entries"]:
            out += [{"faq": e["id"], "lang": e.get("language") or data["language"], "q": q} for q in e.get("similar") or ()]
    return out


def paraphrase_rows(items: Sequence[Dict], stored, faq_only: bool = False) -> List[Dict]:
    """Training rows from written FAQ paraphrases ({faq, lang, q}, :func:`faq_similar`).

    Each paraphrase is scored against every chunk of its language in the stored index
    (FAQs and regulation passages, their vectors frozen: each chunk's first vector, the
    "question + answer" passage, not the similar questions' own); the gold is its FAQ. The
    candidate matrix is shared between the rows of one language.
    """
    first_row: Dict[int, int] = {}
    for row, i in enumerate(stored.rows):
        first_row.setdefault(int(i), row)
    out = []
    for lang in ("zh", "en"):
        idx = [i for i, c in enumerate(stored.chunks)
               if c.language == lang and i in first_row and (c.kind == "faq" or not faq_only)]
        passages = np.ascontiguousarray(stored.vectors[[first_row[i] for i in idx]])
        position = {stored.chunks[i].chunk_id: k for k, i in enumerate(idx)}
        texts = [stored.chunks[i].embed_texts()[0][len("passage: "):] for i in idx]
        for x in items:
            gold = position.get(f"faq:{x['faq']}@{lang}")
            if x["lang"] == lang and gold is not None:
                out.append({"q": x["q"], "passages": passages, "gold": gold, "source": "paraphrase", "texts": texts})
    return out


def query_finetune(model_dir: Path, train: List[Dict], test: List[Dict], own: Callable, layers: int, epochs: int,
                   lr: float, tau: float, threads: int = 2, extra: Sequence[Dict] = ()) -> Dict:
    """Fine-tune e5's top layers on queries (FAQ vectors frozen); R@1 after each epoch.

    ``extra``: more training rows (:func:`paraphrase_rows`), mixed with ``train``.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tok, model = AutoTokenizer.from_pretrained(str(model_dir)), AutoModel.from_pretrained(str(model_dir))
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer[-layers:]:
        for p in layer.parameters():
            p.requires_grad = True

    def encode(texts: Sequence[str], grad: bool = False):
        batch = tok([f"query: {t}" for t in texts], padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.set_grad_enabled(grad):
            h = model(**batch).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).float()
            return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)

    def r1(rows: List[Dict]) -> float:
        model.eval()
        qv = torch.cat([encode([r["q"] for r in rows[i:i + 64]]) for i in range(0, len(rows), 64)]).numpy()
        return dense_r1(rows, qv)

    rows = [r for r in train if r["gold"] is not None] + list(extra)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    history = [{"epoch": 0, "dstc10": r1(test), "own": own(lambda texts: encode(texts).numpy())}]
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total, order = time.perf_counter(), 0.0, rng.permutation(len(rows))
        for start in range(0, len(rows), 16):
            batch = [rows[j] for j in order[start:start + 16]]
            q = encode([b["q"] for b in batch], grad=True)
            loss = sum(torch.nn.functional.cross_entropy((torch.from_numpy(b["passages"]) @ q[k] / tau)[None],
                                                         torch.tensor([b["gold"]])) for k, b in enumerate(batch)) / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        history.append({"epoch": epoch, "loss": round(total, 3), "s": round(time.perf_counter() - t0, 1),
                        "dstc10": r1(test), "own": own(lambda texts: encode(texts).numpy())})
        print(f"    epoch {epoch}: {history[-1]}", flush=True)
    return {"layers": layers, "epochs": epochs, "lr": lr, "tau": tau, "train_turns": len(rows),
            "paraphrases": len(extra), "history": history}



def query_adapter(train: Sequence[Dict], encode: Callable[[List[str]], np.ndarray], evaluate: Callable,
                  lam: float, tau: float, epochs: int = 5, lr: float = 1e-3) -> Dict:
    """A linear map ``W = I + D`` on the frozen e5 query vectors (``lam``: L2 on ``D``).

    The lowest-capacity trained retriever: 384x384 weights, trained in seconds, the index
    and the encoder untouched. ``evaluate(W)`` returns the figures to record.
    """
    import torch

    torch.manual_seed(0)
    rows = [r for r in train if r["gold"] is not None]
    vectors = encode([f"query: {r['q']}" for r in rows])
    dim = vectors.shape[1]
    delta = torch.zeros(dim, dim, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(len(rows))
        for start in range(0, len(rows), 32):
            loss = torch.zeros(())
            for j in order[start:start + 32]:
                q = torch.from_numpy(vectors[j])
                q = q + delta @ q
                q = q / q.norm()
                logits = torch.from_numpy(rows[j]["passages"]) @ q / tau
                loss = loss + torch.nn.functional.cross_entropy(logits[None], torch.tensor([rows[j]["gold"]]))
            loss = loss / len(order[start:start + 32]) + lam * (delta ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    w = np.eye(dim, dtype=np.float32) + delta.detach().numpy()
    return {"lambda": lam, "tau": tau, "epochs": epochs, "train_rows": len(rows),
            "change_norm": round(float(np.linalg.norm(w - np.eye(dim))), 3), **evaluate(w)}
