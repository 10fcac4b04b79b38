"""The content store as files, where a re-index builds from (one folder per database).

``<workdir>/staging/faq/<hash of id>.yaml``
    one file per FAQ id (both languages), so editing one entry changes one file and
    ingest re-embeds only that entry (it reuses embeddings by file digest);
``<workdir>/staging/docs/<file name>``
    the stored documents, written only when their digest changed;
``<workdir>/index``
    the build folder (:func:`knowledge.build.build_version`).

The work folder belongs to one database (:func:`workdir`): next to a SQLite file
(``var/linli.db`` → ``var/linli.db.kb/``), else ``var/knowledge_desk/<host_db-hash>/``.
The test stacks and ``make index`` share ``var/``, so a stack on another database
never writes ``var/knowledge_index``.

A new build folder starts warm (:func:`warm_start`): the active version's vectors are
reused for every staged file whose chunks are the ones it serves, although their paths
differ (the first desk re-index after seeding embeds nothing that did not change).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Dict, List

import numpy as np
import yaml
from sqlalchemy.engine import Engine

from . import store
from .bm25 import tokenize
from .config import REPO_ROOT, KnowledgeConfig
from .content import ContentStore, FaqRecord
from .index import build_index
from .records import Chunk
from .sources import file_digest, load_chunks
from .versions import VersionStore

FAQ_DIR, DOC_DIR = "faq", "docs"


def workdir(engine: Engine) -> Path:
    """The database's own folder for staging and building (created on demand)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        path = path if path.is_absolute() else REPO_ROOT / path
        return path.with_name(path.name + ".kb")
    digest = hashlib.sha256(url.render_as_string(hide_password=False).encode()).hexdigest()[:10]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{url.host or 'local'}_{url.port or ''}_{url.database or ''}").strip("_")
    if url.get_backend_name() == "sqlite":  # in memory: one process only
        label = f"memory-{os.getpid()}"
    return REPO_ROOT / "var" / "knowledge_desk" / f"{label}-{digest}"


def faq_filename(faq_id: str) -> str:
    """A file name for an FAQ id that is safe on every file system (ids may hold any letters)."""
    return hashlib.sha1(faq_id.encode("utf-8")).hexdigest()[:20] + ".yaml"


def faq_yaml(record: FaqRecord) -> bytes:
    """The FAQ source file of one entry (the format :mod:`knowledge.sources` reads)."""
    entries = []
    for lang in ("zh", "en"):
        text = getattr(record, lang)
        if text is not None:
            entry = {"id": record.faq_id, "language": lang, "question": text.question, "answer": text.answer}
            if text.similar:
                entry["similar"] = list(text.similar)
            entries.append(entry)
    data = {"category": record.category, "entries": entries}
    head = f"# FAQ {record.faq_id} (written from the desk's content store; edits here are overwritten)\n"
    return (head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)).encode("utf-8")


def materialise(content: ContentStore, folder: Path) -> List[Path]:
    """Write the content into ``folder`` (unchanged files untouched, others removed); the files to ingest."""
    faq_dir, doc_dir = Path(folder) / FAQ_DIR, Path(folder) / DOC_DIR
    faq_dir.mkdir(parents=True, exist_ok=True)
    doc_dir.mkdir(parents=True, exist_ok=True)
    wanted: List[Path] = []
    for record in content.all_faq():
        path = faq_dir / faq_filename(record.faq_id)
        _write_if_changed(path, faq_yaml(record))
        wanted.append(path)
    for info in content.list_documents():
        path = doc_dir / info.filename
        if not (path.is_file() and file_digest(path) == info.sha256):
            _, data = content.document_content(info.id)
            _write_if_changed(path, data)
        wanted.append(path)
    keep = {p.resolve() for p in wanted}
    for sub in (faq_dir, doc_dir):
        for path in sub.iterdir():
            if path.resolve() not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    return wanted


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def warm_start(build_dir: Path, files: List[Path], versions: VersionStore, cfg: KnowledgeConfig) -> int:
    """Start an absent build folder from the active version, re-keyed to ``files``; returns files reused.

    A staged file is carried over when every chunk it yields has the id and the embedded
    text of a chunk the active version serves: its vectors (and BM25 tokens) are reused.
    Other files are left to ingest. Nothing is written when the folder exists already
    or no version is active.
    """
    build_dir = Path(build_dir)
    if store.exists(build_dir):
        return 0
    active = versions.active_id()
    if active is None:
        return 0
    try:
        previous = store.read(versions.materialise(active, cfg.path(cfg.version_cache)), with_faiss=False)
    except (OSError, ValueError, LookupError):
        return 0
    old_index = {c.chunk_id: i for i, c in enumerate(previous.chunks)}
    old_rows: Dict[int, List[int]] = {}
    for row, i in enumerate(previous.rows):
        old_rows.setdefault(int(i), []).append(row)
    chunks: List[Chunk] = []
    tokens: List[List[str]] = []
    vector_rows: List[int] = []
    rows: List[int] = []
    manifest_files: Dict[str, Dict] = {}
    for path in files:
        try:
            own = load_chunks(path)
        except Exception:  # ingest reports it properly
            continue
        matches = []
        for chunk in own:
            i = old_index.get(chunk.chunk_id)
            old = previous.chunks[i] if i is not None else None
            if old is None or old.embed_texts() != chunk.embed_texts() or \
                    len(old_rows.get(i, ())) != len(chunk.embed_texts()):
                matches = []
                break
            matches.append((chunk, i))
        if not matches:
            continue
        for chunk, i in matches:
            number = len(chunks)
            chunks.append(chunk)
            old = previous.chunks[i]
            tokens.append(previous.tokens[i] if old.bm25_text() == chunk.bm25_text() else tokenize(chunk.bm25_text()))
            for row in old_rows[i]:
                vector_rows.append(row)
                rows.append(number)
        manifest_files[os.path.abspath(path)] = {"sha256": file_digest(path), "chunks": [c.chunk_id for c, _ in matches]}
    if not chunks:
        return 0
    vectors = np.ascontiguousarray(previous.vectors[np.asarray(vector_rows)], dtype="float32")
    manifest = {**previous.manifest, "files": manifest_files, "n_chunks": len(chunks), "n_vectors": int(len(vectors)),
                "index_type": "flat"}
    store.write(build_dir, store.StoredIndex(chunks, vectors, np.asarray(rows, dtype="int32"), tokens, manifest,
                                             build_index(vectors, "flat", use_gpu=False)))
    return len(manifest_files)
