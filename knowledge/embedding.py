"""Sentence embeddings with multilingual-e5-small through sentence-transformers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

_CACHE: Dict[str, "Embedder"] = {}
_LOCK = threading.Lock()


class Embedder:
    """Wraps a SentenceTransformer; texts must already carry their E5 prefix."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            # One thread: on a shared 2-core machine two torch threads spin against other
            # processes and a query took 580 ms instead of 23 ms (docs/benchmarks.md).
            torch.set_num_threads(threads)
        self.model_dir = Path(model_dir)
        self.model = SentenceTransformer(str(self.model_dir), device="cpu")
        self.model.max_seq_length = 256  # chunks are <= 400 chars; longer costs time, not recall
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        vecs = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                 show_progress_bar=progress, convert_to_numpy=True)
        return np.ascontiguousarray(vecs, dtype="float32")

    def query(self, text: str) -> np.ndarray:
        """Embedding of a user question (adds the ``query: `` prefix)."""
        return self.encode([f"query: {text}"])[0]

    def queries(self, texts: List[str]) -> np.ndarray:
        """Embeddings of several user questions."""
        return self.encode([f"query: {t}" for t in texts])


def get_embedder(model_dir: Path, threads: Optional[int] = None) -> Embedder:
    """Process-wide embedder for ``model_dir`` (loaded once, thread-safe).

    ``threads`` defaults to the configured ``embed_threads`` (KNOWLEDGE_EMBED_THREADS).
    """
    key = str(Path(model_dir).resolve())
    with _LOCK:
        if key not in _CACHE:
            if threads is None:
                from .config import load_config

                threads = load_config().embed_threads
            _CACHE[key] = Embedder(Path(model_dir), threads)
        return _CACHE[key]
