"""A cross-encoder reranker trained on this machine (issue 15), rerunnable.

The e5 encoder reads the question and one candidate together ("query: …" then the
candidate's passage text) and a linear head on the mean-pooled output gives a correction
to the dense cosine: ``score = cosine / tau + head(pair)``. The head starts at zero, so
before training the reranker ranks exactly as the product does, and training only has to
learn where the cosine is wrong. Only the lowest ``layers`` transformer layers are kept
(fewer layers: cheaper pairs on two cores).

Training groups (listwise: softmax over the gold and its hardest dense negatives):
- DSTC11 track 5 val turns whose gold is an FAQ, candidates the gold entity's FAQs;
- the written own-FAQ paraphrases (the demo FAQ's similar questions), candidates
  every chunk of their language (FAQs and regulation passages).
Evaluated on DSTC10 (never trained on; the found entity's FAQs) and on the own dev and
test sets (the product's top ``k`` hits reranked).

Run: ``python benchmarks/bench_rag.py --parts rerank``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np


class Reranker:
    """e5's first ``layers`` layers plus a zero-initialised linear head over (question, passage)."""

    def __init__(self, model_dir: Path, layers: int = 6, trainable: int = 2, max_length: int = 192,
                 tau: float = 0.05, bound: float = 2.0, threads: int = 2, seed: int = 0) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModel.from_pretrained(str(model_dir))
        self.model.encoder.layer = self.model.encoder.layer[:layers]
        self.head = torch.nn.Linear(self.model.config.hidden_size, 1)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
        self.max_length, self.tau, self.layers, self.bound = max_length, tau, layers, bound
        # Only the top ``trainable`` layers and the head learn: with all six trained at 3e-5 one
        # epoch took DSTC10 R@1 from 0.686 to 0.373 (memorised wording, docs/benchmarks.md).
        for p in self.model.parameters():
            p.requires_grad = False
        for layer in self.model.encoder.layer[layers - trainable:]:
            for p in layer.parameters():
                p.requires_grad = True

    def _logits(self, question: str, passages: Sequence[str], grad: bool):
        torch = self.torch
        batch = self.tok([f"query: {question}"] * len(passages), list(passages), padding=True, truncation="only_second",
                         max_length=self.max_length, return_tensors="pt")
        with torch.set_grad_enabled(grad):
            h = self.model(**batch).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).float()
            # The correction is bounded (±bound logits, a cosine gap of bound·tau): the reranker
            # can reorder near ties of the cosine, not overrule a clear winner.
            return self.bound * torch.tanh(self.head((h * m).sum(1) / m.sum(1)).squeeze(-1))

    def scores(self, question: str, passages: Sequence[str], cosines: Sequence[float]) -> np.ndarray:
        """Reranking scores of ``passages`` for ``question`` (higher first)."""
        self.model.eval()
        extra = self._logits(question, passages, grad=False).numpy()
        return np.asarray(cosines, dtype=np.float32) / self.tau + extra

    def train(self, groups: Sequence[Dict], epochs: int, lr: float, negatives: int,
              evaluate: Optional[Callable[[], Dict]] = None) -> List[Dict]:
        """Listwise training on ``groups`` ({q, texts, cosines, gold}); figures after each epoch."""
        torch = self.torch
        # The 250k-row word embeddings stay frozen (with the lower layers, see __init__): an Adam
        # step over them cost more than the forward and backward passes together.
        params = [p for p in self.model.parameters() if p.requires_grad] + list(self.head.parameters())
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
        rng = np.random.default_rng(0)
        history = [{"epoch": 0, **(evaluate() if evaluate else {})}]
        print(f"    epoch 0: {history[-1]}", flush=True)
        for epoch in range(1, epochs + 1):
            self.model.train()
            t0, total = time.perf_counter(), 0.0
            order = rng.permutation(len(groups))
            for n, j in enumerate(order, 1):
                g = groups[j]
                cos = np.asarray(g["cosines"], dtype=np.float32)
                others = [i for i in np.argsort(-cos) if i != g["gold"]][:negatives]
                pick = [g["gold"]] + others
                logits = torch.from_numpy(cos[pick] / self.tau) + self._logits(g["q"], [g["texts"][i] for i in pick], True)
                loss = torch.nn.functional.cross_entropy(logits[None], torch.tensor([0]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
                if n % 200 == 0:
                    print(f"      {n}/{len(groups)} loss {total / n:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
            history.append({"epoch": epoch, "loss": round(total / len(groups), 4), "s": round(time.perf_counter() - t0, 1),
                            **(evaluate() if evaluate else {})})
            print(f"    epoch {epoch}: {history[-1]}", flush=True)
        return history


def groups(rows: Sequence[Dict], k: int, train: bool = False) -> List[Dict]:
    """Each row's ``k`` best candidates by cosine as {q, texts, cosines, gold}, ``gold`` an index
    into the group or None (missed). ``train``: rows without a gold are left out and the gold
    always joins the group, in place of the k-th candidate."""
    out = []
    for r in rows:
        if train and r["gold"] is None:
            continue
        cos = r["passages"] @ r["qv"]
        if train:
            top = [i for i in np.argsort(-cos) if i != r["gold"]][:k - 1] + [r["gold"]]
        else:
            top = list(np.argsort(-cos)[:k])
        out.append({"q": r["q"], "texts": [r["texts"][i] for i in top], "cosines": cos[top],
                    "gold": top.index(r["gold"]) if r["gold"] in top else None})
    return out


def group_r1(reranker: Optional[Reranker], groups: Sequence[Dict]) -> float:
    """R@1 over ``groups`` (a group whose gold is not among its candidates counts as a miss)."""
    right = 0
    for g in groups:
        s = reranker.scores(g["q"], g["texts"], g["cosines"]) if reranker else np.asarray(g["cosines"])
        right += g["gold"] is not None and int(np.argmax(s)) == g["gold"]
    return round(right / max(len(groups), 1), 4)
