"""The on-disk index folder: chunks, their vectors, the FAISS index and a manifest.

Layout of DIR::

    manifest.json   embed model, dim, index type, per-file sha256 and chunk ids
    chunks.jsonl    one Chunk per line (row order = chunk number)
    vectors.npy     float32 embeddings, several rows per chunk possible
    rows.npy        int32 chunk number of each vector row
    tokens.json     BM25 tokens per chunk (segmentation is the slow part)
    index.faiss     FAISS index over vectors.npy
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .records import Chunk

FORMAT_VERSION = 1


@dataclass
class StoredIndex:
    """Everything in an index folder, loaded into memory."""

    chunks: List[Chunk]
    vectors: np.ndarray
    rows: np.ndarray
    tokens: List[List[str]]
    manifest: Dict = field(default_factory=dict)
    faiss_index: Optional[object] = None


def exists(path: Path) -> bool:
    """True when ``path`` holds a complete index."""
    return (Path(path) / "manifest.json").exists() and (Path(path) / "index.faiss").exists()


def read(path: Path, with_faiss: bool = True) -> StoredIndex:
    """Load an index folder; raises FileNotFoundError with the command that builds it."""
    path = Path(path)
    if not exists(path):
        raise FileNotFoundError(
            f"no knowledge index at {path}; build it with "
            f"`python -m knowledge ingest knowledge/sources --index {path}` (or `make setup`)"
        )
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: index format {manifest.get('format')} != {FORMAT_VERSION}; re-run ingest")
    with (path / "chunks.jsonl").open(encoding="utf-8") as fh:
        chunks = [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]
    tokens = json.loads((path / "tokens.json").read_text(encoding="utf-8"))
    stored = StoredIndex(chunks=chunks, vectors=np.load(path / "vectors.npy"), rows=np.load(path / "rows.npy"),
                         tokens=tokens, manifest=manifest)
    if with_faiss:
        from .index import load_index

        stored.faiss_index = load_index(path / "index.faiss")
    return stored


def write(path: Path, stored: StoredIndex) -> None:
    """Write all files to a temp name first so a crash never leaves a half index."""
    from .index import save_index

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)

    def tmp(name: str) -> Path:
        return path / f".{name}.tmp"

    with tmp("chunks.jsonl").open("w", encoding="utf-8") as fh:
        for c in stored.chunks:
            fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    tmp("tokens.json").write_text(json.dumps(stored.tokens, ensure_ascii=False), encoding="utf-8")
    with tmp("vectors.npy").open("wb") as fh:
        np.save(fh, stored.vectors)
    with tmp("rows.npy").open("wb") as fh:
        np.save(fh, stored.rows)
    save_index(stored.faiss_index, tmp("index.faiss"))
    tmp("manifest.json").write_text(json.dumps(stored.manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for name in ("chunks.jsonl", "tokens.json", "vectors.npy", "rows.npy", "index.faiss", "manifest.json"):
        os.replace(tmp(name), path / name)
