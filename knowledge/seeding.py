"""What a database's content store starts with: the active index version's FAQ and documents.

:func:`seed_material` reads the version every replica serves (importing an index folder
from before the database store, as :mod:`knowledge.live` does), and returns

- its FAQ entries (:func:`knowledge.faq_io.entries_from_chunks`), each marked ``demo``
  when every chunk of it came from a file under ``knowledge/sources/`` (the invented
  demo community);
- its documents: the source files named in the version's manifest when they are readable
  on this machine and unchanged (same sha256), else a Markdown document rebuilt from the
  version's chunks (headings from their sections), so nothing served is lost.

With no version at all (a new install before ``make index``), the demo FAQ files themselves.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional

from sqlalchemy.engine import Engine

from . import store
from .config import PACKAGE_DIR, REPO_ROOT, KnowledgeConfig
from .content import DOCUMENT_KINDS, NewDocument, SeedMaterial, document_warnings
from .faq_io import entries_from_chunks
from .records import Chunk
from .versions import VersionStore

log = logging.getLogger(__name__)

#: The demo community's files: entries from here are demo content.
DEMO_DIR = PACKAGE_DIR / "sources"


def seed_material(engine: Engine, cfg: KnowledgeConfig) -> SeedMaterial:
    """The content to seed a database with (see the module docstring)."""
    versions = VersionStore(engine)
    try:
        versions.import_folder(cfg.path(cfg.index))
    except (OSError, ValueError) as exc:  # an unreadable legacy folder: seed from what the database has
        log.warning("could not import the index folder %s: %s", cfg.path(cfg.index), exc)
    active = versions.active_id()
    if active is None:
        return _from_demo_files()
    path = versions.materialise(active, cfg.path(cfg.version_cache))
    stored = store.read(path, with_faiss=False)
    material = SeedMaterial(source=f"knowledge-base version {active}", version_id=active)
    material.faqs = _faqs(stored.chunks)
    material.documents = _documents(stored.chunks, stored.manifest.get("files", {}) or {})
    log.info("knowledge-base content seeded from version %s: %d FAQ entries, %d documents", active,
             len(material.faqs), len(material.documents))
    return material


def _from_demo_files() -> SeedMaterial:
    from .sources import FAQ_SUFFIXES, load_chunks

    chunks: List[Chunk] = []
    for path in sorted(DEMO_DIR.iterdir()) if DEMO_DIR.is_dir() else []:
        if path.suffix.lower() in FAQ_SUFFIXES and path.name != "demo_facts.yaml":
            chunks.extend(load_chunks(path))
    return SeedMaterial(faqs=_faqs(chunks), source="demo files in knowledge/sources")


def is_demo_source(source: str) -> bool:
    """Is ``source`` (a chunk's file) one of the demo community's files?"""
    path = Path(source)
    path = path if path.is_absolute() else REPO_ROOT / path  # `make index` passes knowledge/sources
    try:
        return path.resolve().is_relative_to(DEMO_DIR.resolve())
    except (OSError, ValueError):
        return False


def _faqs(chunks: List[Chunk]) -> list:
    demo: Dict[str, bool] = {}
    for chunk in chunks:
        if chunk.kind == "faq":
            demo[chunk.faq_id] = demo.get(chunk.faq_id, True) and is_demo_source(chunk.source)
    return [(entry, demo.get(entry.faq_id, False)) for entry in entries_from_chunks(chunks)]


def _documents(chunks: List[Chunk], files: Dict[str, Dict]) -> List[NewDocument]:
    by_id = {c.chunk_id: c for c in chunks}
    out: List[NewDocument] = []
    for key, info in sorted(files.items()):
        own = [by_id[cid] for cid in info.get("chunks", []) if cid in by_id and by_id[cid].kind == "doc"]
        if not own:
            continue  # an FAQ file: its entries are seeded as FAQ
        doc = _original(Path(key), info, len(own)) or _rebuilt(Path(key), own)
        out.append(doc)
    return out


def _original(path: Path, info: Dict, n_chunks: int) -> Optional[NewDocument]:
    """The source file itself, when it is here, unchanged and of a kind the desk handles."""
    kind = DOCUMENT_KINDS.get(path.suffix.lower())
    if kind is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    import hashlib

    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        return None  # changed since it was indexed: what is served is the chunks
    return NewDocument(path.name, kind, data, n_chunks, document_warnings(path))


def _rebuilt(path: Path, chunks: List[Chunk]) -> NewDocument:
    """A Markdown document holding the served chunks of a file that is not here any more."""
    title = chunks[0].title or path.stem
    lines = [f"# {title}", ""]
    current: List[str] = []
    for chunk in chunks:
        section = [s for s in (chunk.section or "").split(" > ") if s]
        depth = 0
        while depth < min(len(section), len(current)) and section[depth] == current[depth]:
            depth += 1
        for level in range(depth, len(section)):
            lines += [f"{'#' * min(level + 2, 6)} {section[level]}", ""]
        current = section
        lines += [chunk.text, ""]
    data = "\n".join(lines).encode("utf-8")
    return NewDocument(f"{path.stem}.md", "md", data, len(chunks),
                       [f"rebuilt from the index: the original file {path.name} was not found on this server / "
                        f"原文件不在本机，已按索引内容重建"])
