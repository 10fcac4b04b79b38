"""Build or update an index folder from source files; unchanged files are not re-embedded."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from . import store
from .bm25 import tokenize
from .embedding import get_embedder
from .index import build_index, choose_index_type
from .records import Chunk
from .sources import discover, file_digest, load_chunks


#: Called with (stage, fraction done of that stage): "reading", "embedding", "indexing", "writing".
ProgressCallback = Callable[[str, float], None]
#: Texts embedded per step when progress is reported (a step is a few seconds on 2 cores).
EMBED_BATCH = 64


def ingest(sources: Sequence[str], index_dir: Path, embed_model_dir: Path, *, index_type: str = "auto",
           progress: bool = True, force: bool = False, on_progress: Optional[ProgressCallback] = None,
           allow_empty: bool = False) -> Dict:
    """Ingest ``sources`` (files or folders) into ``index_dir``; returns counts and seconds.

    The index then holds exactly the given sources: files that were indexed
    before but are not among them any more are dropped. ``on_progress`` is told the
    stage and how far it is (0..1); with it, embedding runs in batches of
    :data:`EMBED_BATCH` texts so that the fraction moves. ``allow_empty``: no source
    files give an empty index (a knowledge base emptied in the desk) instead of an error.
    """
    report = on_progress or (lambda stage, fraction: None)
    t0 = time.perf_counter()
    files = discover(sources)
    if not files and not allow_empty:
        raise ValueError(f"no supported source files in {list(sources)}")
    previous = _previous(index_dir, embed_model_dir, force)
    old_files = previous.manifest.get("files", {}) if previous else {}
    old_by_id = {c.chunk_id: i for i, c in enumerate(previous.chunks)} if previous else {}

    chunks: List[Chunk] = []
    tokens: List[List[str]] = []
    vec_parts: List[np.ndarray] = []   # vectors per chunk, in order; None-marked ones are embedded below
    pending: List[int] = []            # chunk numbers that still need embeddings
    manifest_files: Dict[str, Dict] = {}
    reused_files = 0
    old_rows = _rows_by_chunk(previous.rows) if previous else {}
    for number, path in enumerate(tqdm(files, desc="reading sources", unit="file", disable=not progress)):
        report("reading", number / len(files))
        key = os.path.abspath(path)
        digest = file_digest(path)
        old = old_files.get(key)
        file_ids: List[str] = []
        if old and old["sha256"] == digest and old["chunks"] and all(
                cid in old_by_id and _same_embedding(previous, old_rows, old_by_id[cid]) for cid in old["chunks"]):
            reused_files += 1
            for cid in old["chunks"]:
                i = old_by_id[cid]
                chunks.append(previous.chunks[i])
                tokens.append(previous.tokens[i])
                vec_parts.append(previous.vectors[old_rows[i]])
                file_ids.append(cid)
        else:
            for c in load_chunks(path):
                chunks.append(c)
                tokens.append(tokenize(c.bm25_text()))
                vec_parts.append(None)  # type: ignore[arg-type]
                pending.append(len(chunks) - 1)
                file_ids.append(c.chunk_id)
        manifest_files[key] = {"sha256": digest, "chunks": file_ids}

    ids = [c.chunk_id for c in chunks]
    if len(set(ids)) != len(ids):
        dup = sorted({x for x in ids if ids.count(x) > 1})[:5]
        raise ValueError(f"duplicate chunk ids across sources {dup}: give FAQ entries unique ids")

    embedder = None
    if pending:
        embedder = get_embedder(embed_model_dir)
        texts, counts = [], []
        for i in pending:
            own = chunks[i].embed_texts()
            texts.extend(own)
            counts.append(len(own))
        if progress:
            print(f"embedding {len(texts)} texts from {len(pending)} new or changed chunks")
        if on_progress is None:
            vecs = embedder.encode(texts, progress=progress)
        else:
            parts = []
            for start in range(0, len(texts), EMBED_BATCH):
                report("embedding", start / len(texts))
                parts.append(embedder.encode(texts[start:start + EMBED_BATCH]))
            vecs = np.concatenate(parts, axis=0)
            report("embedding", 1.0)
        start = 0
        for i, n in zip(pending, counts):  # each chunk's texts are contiguous
            vec_parts[i] = vecs[start:start + n]
            start += n
    dim = next((v.shape[1] for v in vec_parts if v is not None and len(v)), None)
    if dim is None:  # no vectors at all: as wide as the previous index's, else ask the model
        dim = int(previous.manifest.get("dim") or 0) if previous else 0
        dim = dim or (get_embedder(embed_model_dir).dim if not chunks else 384)
    vectors = np.concatenate([v for v in vec_parts], axis=0).astype("float32") if vec_parts else np.zeros((0, dim), "float32")
    rows = (np.concatenate([np.full(len(v), i, dtype="int32") for i, v in enumerate(vec_parts)]) if vec_parts
            else np.zeros(0, dtype="int32"))
    report("indexing", 0.0)
    kind = choose_index_type(len(vectors)) if index_type == "auto" else index_type
    faiss_index = build_index(vectors, kind)
    manifest = {
        "format": store.FORMAT_VERSION, "embed_model": str(Path(embed_model_dir).resolve()),
        "dim": int(vectors.shape[1]), "index_type": kind, "n_chunks": len(chunks), "n_vectors": int(len(vectors)),
        "files": manifest_files, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    report("writing", 0.0)
    store.write(index_dir, store.StoredIndex(chunks, vectors, rows, tokens, manifest, faiss_index))
    return {"files": len(files), "reused_files": reused_files, "embedded_chunks": len(pending),
            "chunks": len(chunks), "vectors": int(len(vectors)), "index_type": kind,
            "seconds": round(time.perf_counter() - t0, 2)}


def _same_embedding(previous: store.StoredIndex, old_rows: Dict[int, np.ndarray], i: int) -> bool:
    """Was chunk ``i`` embedded the way the current code embeds it (same number of texts)?"""
    return len(old_rows.get(i, ())) == len(previous.chunks[i].embed_texts())


def _rows_by_chunk(rows: np.ndarray) -> Dict[int, np.ndarray]:
    """Vector row numbers of each chunk number."""
    order = np.argsort(rows, kind="stable")
    bounds = np.flatnonzero(np.diff(rows[order])) + 1
    return {int(rows[g[0]]): g for g in np.split(order, bounds) if len(g)}


def _previous(index_dir: Path, embed_model_dir: Path, force: bool) -> Optional[store.StoredIndex]:
    if force or not store.exists(index_dir):
        return None
    try:
        prev = store.read(index_dir, with_faiss=False)
    except (ValueError, OSError, KeyError):
        return None  # unreadable or old format: rebuild from scratch
    if prev.manifest.get("embed_model") != str(Path(embed_model_dir).resolve()):
        return None  # another embedding model: every vector must be recomputed
    return prev
