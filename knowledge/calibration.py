"""Abstention thresholds derived from the knowledge base's own questions.

A fixed cosine threshold tuned on one knowledge base does not carry over to another:
e5 cosines of in-domain questions sit in a narrow band whose height depends on how
alike the base's entries are. A property company that loads its own FAQ would get
confident wrong answers (or needless "I don't know"s) from thresholds tuned on the demo
base. So the threshold is measured on each base as it is loaded:

- **Held-out scores.** Every FAQ question of a language is asked of the base with its
  own entry left out (its zh/en twin too). The best hit's cosine is what an in-domain
  question that this base cannot answer scores here, whatever the base is about.
- **Threshold.** The ``abstain_quantile``-th percentile of those scores, per language.
  The quantile is the one setting tuned by hand, on the demo base's dev questions
  (``python benchmarks/bench_rag.py --parts tune``: the highest quantile that still
  answers 90 % of the answerable dev questions in both languages); it is then the same
  for every base, so the calibration follows a replaced knowledge base without tuning.
- **Fallback.** A language with fewer than ``calibration_min_questions`` FAQ questions
  (a base of regulations only, a tiny FAQ) keeps the fixed ``abstain_below_<lang>``.

Results are cached in the index folder (``calibration.json``), keyed by the chunks and the
settings, so a reload costs nothing; a fresh base costs one batch of query embeddings of
its FAQ questions (the demo base's first load took 9.1 s here, model load included; 0.1 s
from the cache).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional

import numpy as np

if TYPE_CHECKING:  # imported for types only: retrieval pulls in FAISS and jieba
    from .config import KnowledgeConfig
    from .retrieval import Retriever

log = logging.getLogger(__name__)

FILE = "calibration.json"
LANGUAGES = ("zh", "en")
MAX_QUESTIONS = 400  # per language: enough for a stable percentile, bounded load time on big bases


@dataclass
class Calibration:
    """Per-language abstention thresholds measured on one knowledge base."""

    quantile: float
    thresholds: Dict[str, float] = field(default_factory=dict)  # language -> abstain below (measured)
    questions: Dict[str, int] = field(default_factory=dict)     # language -> FAQ questions used
    key: str = ""

    def threshold(self, language: str, fallback: float) -> float:
        """The measured threshold for ``language``, else ``fallback`` (too few FAQ questions)."""
        return self.thresholds.get("en" if language == "en" else "zh", fallback)

    def to_dict(self) -> Dict:
        """JSON form (the cache file, the hit test)."""
        return asdict(self)


def held_out_scores(retriever: "Retriever", language: str, limit: int = MAX_QUESTIONS) -> List[float]:
    """Best-hit cosine of each FAQ question of ``language`` against the base without its entry.

    The entry's other-language twin shares its ``faq_id`` and is left out too. Bases with
    more than ``limit`` questions are sampled evenly (deterministic).
    """
    chunks = retriever.stored.chunks
    faq = [c for c in chunks if c.kind == "faq" and c.language == language and c.title.strip()]
    if len(faq) > limit:
        faq = [faq[int(i)] for i in np.linspace(0, len(faq) - 1, limit)]
    if not faq:
        return []
    qvecs = retriever.embedder.queries([c.title for c in faq])
    scores = []
    for c, qv in zip(faq, qvecs):
        # e5's order: the English reranker may put a hit with a lower cosine first; the
        # threshold stays the best cosine an unanswerable in-domain question reaches, so the
        # re-ordered first hit must clear the same bar (it abstains at least as often).
        hits = retriever.search(c.title, k=6, mode="vector", language=language, qvec=qv, rerank=False)
        other = next((h.dense for h in hits if h.chunk.language == language and
                      (h.chunk.faq_id or h.chunk.chunk_id) != (c.faq_id or c.chunk_id)), None)
        if other is not None:
            scores.append(other)
    return scores


def calibrate(retriever: "Retriever", quantile: float, min_questions: int) -> Calibration:
    """Measure the thresholds on ``retriever``'s base (see the module docstring)."""
    cal = Calibration(quantile=quantile)
    for lang in LANGUAGES:
        scores = held_out_scores(retriever, lang)
        cal.questions[lang] = len(scores)
        if len(scores) >= min_questions:
            cal.thresholds[lang] = round(float(np.percentile(scores, quantile)), 4)
    return cal


def cache_key(retriever: "Retriever", cfg: "KnowledgeConfig") -> str:
    """Changes when the base's chunks, the embedding model or the calibration settings change."""
    h = hashlib.sha256()
    for c in retriever.stored.chunks:
        h.update(f"{c.chunk_id}\x1f{c.language}\x1f{c.title}\x1f{c.text}\x1e".encode("utf-8"))
    h.update(f"{cfg.embed_model}|{cfg.abstain_quantile}|{cfg.calibration_min_questions}|{MAX_QUESTIONS}".encode())
    return h.hexdigest()[:20]


def for_index(index_dir: Optional[Path], retriever: "Retriever", cfg: "KnowledgeConfig") -> Optional[Calibration]:
    """The base's calibration (cached in ``index_dir``), or None when ``abstention`` is ``fixed``."""
    if cfg.abstention == "fixed":
        return None
    if cfg.abstention != "base":
        raise ValueError(f"abstention '{cfg.abstention}' unknown; use 'base' or 'fixed'")
    key = cache_key(retriever, cfg)
    path = Path(index_dir) / FILE if index_dir else None
    if path is not None and path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return Calibration(**data)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable %s (%s); measuring again", path, exc)
    cal = calibrate(retriever, cfg.abstain_quantile, cfg.calibration_min_questions)
    cal.key = key
    log.info("abstention thresholds measured on this base: %s (FAQ questions %s, percentile %s)",
             cal.thresholds or "none (fixed thresholds)", cal.questions, cal.quantile)
    if path is not None:
        try:  # a read-only index folder just means measuring again next time
            tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cal.to_dict(), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.info("calibration not cached in %s: %s", path.parent, exc)
    return cal
