"""Vector, BM25 and hybrid (reciprocal-rank fusion) retrieval over a stored index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

import numpy as np

from .bm25 import BM25Index, tokenize
from .embedding import Embedder
from .index import search as faiss_search
from .jurisdiction import applies, place_of
from .records import Chunk, citation
from .store import StoredIndex

if TYPE_CHECKING:  # the reranker loads torch: imported only where one is configured
    from .rerank import EnglishReranker

MODES = ("vector", "bm25", "hybrid")
RRF_K = 60          # standard reciprocal-rank-fusion constant (Cormack et al. 2009)
CANDIDATES = 50     # per retriever, before fusion


@dataclass
class Hit:
    """One retrieved chunk with its scores."""

    chunk: Chunk
    score: float        # ranking score of the chosen mode
    dense: float        # cosine similarity of the question to the chunk (best of its vectors)
    bm25: float = 0.0

    def to_dict(self, language: Optional[str] = None) -> Dict:
        """JSON form used by ``search --json``."""
        c = self.chunk
        return {"score": round(self.score, 4), "dense": round(self.dense, 4), "bm25": round(self.bm25, 3),
                "chunk_id": c.chunk_id, "faq_id": c.faq_id or None, "kind": c.kind, "source": c.source,
                "title": c.title, "section": c.section, "article": c.article, "language": c.language,
                "citation": citation(c, language), "text": c.text}


class Retriever:
    """Search an index with vectors, BM25 or both."""

    def __init__(self, stored: StoredIndex, embedder: Embedder, mode: str = "hybrid", bm25_weight: float = 1.0,
                 region: str = "", reranker: Optional["EnglishReranker"] = None) -> None:
        """``region`` ("浙江省杭州市"): leave out passages of other places' regulations
        (:mod:`knowledge.jurisdiction`); empty: every passage is searched. ``reranker``
        re-orders the first English candidates of an English question (:mod:`knowledge.rerank`)."""
        if mode not in MODES:
            raise ValueError(f"retrieval mode '{mode}' unknown; use one of {MODES}")
        self.stored = stored
        self.region = region
        #: Chunk indices never returned: documents of places outside ``region``.
        self.excluded: set = set()
        #: The documents those passages come from (title -> place), for logs and the desk.
        self.excluded_documents: Dict[str, Optional[str]] = {}
        for i, c in enumerate(stored.chunks if region else ()):
            name = c.title or c.source
            place = place_of(name) if c.kind != "faq" else None
            if not applies(place, region):
                self.excluded.add(i)
                self.excluded_documents[name] = place
        self.embedder = embedder
        self.reranker = reranker
        self.mode = mode
        self.bm25_weight = bm25_weight
        self.bm25 = BM25Index(stored.tokens)
        self.n_chunks = len(stored.chunks)
        # Chunk index -> its rows in the vector matrix (a chunk may have several vectors).
        rows_of: Dict[int, List[int]] = {}
        for row, i in enumerate(stored.rows):
            rows_of.setdefault(int(i), []).append(row)
        self._rows = {i: np.asarray(rows) for i, rows in rows_of.items()}
        #: Each chunk's first vector: an FAQ's "question + answer", not its similar questions'.
        self._primary = {int(rows[0]) for rows in rows_of.values()}
        self._index_of = {c.chunk_id: i for i, c in enumerate(stored.chunks)}

    def cosine(self, chunk_id: str, qvec: np.ndarray) -> Optional[float]:
        """Cosine of ``qvec`` to a chunk (best of its vectors); ``None`` for an unknown chunk."""
        i = self._index_of.get(chunk_id)
        rows = self._rows.get(i) if i is not None else None
        return float(np.max(self.stored.vectors[rows] @ qvec)) if rows is not None and len(rows) else None

    def search(self, question: str, k: int = 5, mode: Optional[str] = None, language: Optional[str] = None,
               qvec: Optional[np.ndarray] = None, primary_only: bool = False, rerank: bool = True) -> List[Hit]:
        """Top-k chunks for ``question``; same-language chunks first when ``language`` is given.

        ``primary_only``: score each chunk by its first vector alone, not by an FAQ's similar
        questions (for a composite query such as a follow-up joined to the previous
        question, which a short similar question matches on one word: "物业几点下班？周末呢？"
        found the renovation entry's "周末能装修吗"). Such a query is not re-ordered by the
        English reranker either: it is not one question a resident asked. ``rerank`` False:
        e5's order for an English question too (the calibration's held-out scores).
        """
        mode = mode or self.mode
        if qvec is None:
            qvec = self.embedder.query(question)
        dense = self._dense_scores(qvec, primary_only)  # chunk -> cosine, for the vector candidates
        ranked: Dict[int, float] = {}
        bm25_scores: Dict[int, float] = {}
        if mode in ("vector", "hybrid"):
            order = sorted(dense, key=dense.get, reverse=True)
            for r, i in enumerate(order):
                ranked[i] = dense[i] if mode == "vector" else 1.0 / (RRF_K + r + 1)
        if mode in ("bm25", "hybrid"):
            for r, (i, s) in enumerate(self.bm25.search(tokenize(question), CANDIDATES)):
                bm25_scores[i] = s
                ranked[i] = s if mode == "bm25" else ranked.get(i, 0.0) + self.bm25_weight / (RRF_K + r + 1)
        order = [i for i in sorted(ranked, key=ranked.get, reverse=True) if i not in self.excluded]
        if language:
            order = [i for i in order if self.stored.chunks[i].language == language] + \
                    [i for i in order if self.stored.chunks[i].language != language]
        rerank = rerank and self.reranker is not None and language == "en" and not primary_only
        hits = []
        for i in order[:max(k, self.reranker.depth) if rerank else k]:
            cos = dense.get(i)
            if cos is None:  # BM25-only candidate: compute its cosine for confidence
                cos = self.cosine(self.stored.chunks[i].chunk_id, qvec) or 0.0
            hits.append(Hit(self.stored.chunks[i], float(ranked[i]), cos, bm25_scores.get(i, 0.0)))
        if rerank:
            hits = self.reranker.rerank(question, hits)[:k]
        return hits

    def _dense_scores(self, qvec: np.ndarray, primary_only: bool = False) -> Dict[int, float]:
        n_rows = len(self.stored.rows)
        if not n_rows:
            return {}
        # Left-out passages may fill the first candidates: look deeper when there are any.
        wanted = CANDIDATES * (4 if self.excluded else 2)
        scores, ids = faiss_search(self.stored.faiss_index, qvec, min(n_rows, wanted))
        best: Dict[int, float] = {}
        for s, row in zip(scores[0], ids[0]):
            if row < 0 or (primary_only and int(row) not in self._primary):
                continue
            i = int(self.stored.rows[row])
            if s > best.get(i, -2.0):
                best[i] = float(s)
        return best

    def search_many(self, questions: Sequence[str], k: int = 5, mode: Optional[str] = None,
                    languages: Optional[Sequence[Optional[str]]] = None) -> List[List[Hit]]:
        """Batch version of :meth:`search` (embeds all questions at once)."""
        qvecs = self.embedder.queries(list(questions)) if questions else []
        langs = languages or [None] * len(questions)
        return [self.search(q, k, mode, lang, qv) for q, qv, lang in zip(questions, qvecs, langs)]
