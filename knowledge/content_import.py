"""``python -m knowledge import FILES...``: FAQ files and documents into the content store.

FAQ tables (``.csv``, ``.xlsx`` with an FAQ header) go through :func:`knowledge.faq_io.read_faq_table`,
FAQ source files (``.yaml``/``.yml``/``.json``, the demo's format) through
:func:`knowledge.sources.load_chunks`; all FAQ entries of one call are imported together
(merge, or replace every entry). Documents (md, txt, pdf, docx, and an ``.xlsx`` that is
not an FAQ table) are added, or replace the stored document of the same file name.
Folders are searched for those files (hidden files, README.md and demo_facts.yaml skipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from .content import DOCUMENT_KINDS, ContentError, ContentStore, Exists
from .faq_io import FaqEntry, FaqTableError, entries_from_chunks, read_faq_table

FAQ_TABLES = (".csv", ".xlsx")
FAQ_FILES = (".yaml", ".yml", ".json")
SKIPPED = ("readme.md", "demo_facts.yaml")


def files_of(paths: Sequence[str]) -> List[Path]:
    """The importable files among ``paths`` (folders searched), sorted, without duplicates."""
    found: List[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(f for f in sorted(path.rglob("*")) if f.is_file() and _importable(f)
                         and not any(part.startswith(".") for part in f.relative_to(path).parts))
        elif path.is_file():
            if not _importable(path, strict=False):
                raise ContentError(f"{path}: unsupported type; import FAQ tables (csv, xlsx), FAQ files (yaml, json) "
                                   f"or documents ({', '.join(sorted(set(DOCUMENT_KINDS.values())))})")
            found.append(path)
        else:
            raise ContentError(f"{path}: no such file or folder")
    unique: Dict[str, Path] = {}
    for f in found:
        unique.setdefault(str(f.resolve()), f)
    return list(unique.values())


def _importable(path: Path, strict: bool = True) -> bool:
    suffix = path.suffix.lower()
    if strict and (path.name.lower() in SKIPPED or path.name.startswith(".")):
        return False
    return suffix in FAQ_TABLES or suffix in FAQ_FILES or suffix in DOCUMENT_KINDS


def import_paths(content: ContentStore, paths: Sequence[str], mode: str = "merge", user: str = "cli") -> Dict[str, Any]:
    """Import the files; returns ``{"faq": {created, updated, deleted}, "documents": {added, replaced}}``.

    FAQ problems raise :class:`~knowledge.content.ContentError` with ``errors``
    (``[(row, "file: message")]``) before anything is stored.
    """
    entries: List[FaqEntry] = []
    documents: List[Tuple[Path, bytes]] = []
    problems: List[Tuple[int, str]] = []
    for path in files_of(paths):
        suffix = path.suffix.lower()
        if suffix in FAQ_TABLES:
            try:
                entries.extend(read_faq_table(path.name, path.read_bytes()))
                continue
            except FaqTableError as exc:
                if suffix == ".xlsx" and all(row == 1 for row, _ in exc.rows):
                    documents.append((path, path.read_bytes()))  # a workbook without an FAQ header: a document
                    continue
                problems.extend((row, f"{path.name}: {message}") for row, message in exc.rows)
        elif suffix in FAQ_FILES:
            from .sources import SourceError, load_chunks

            try:
                entries.extend(entries_from_chunks(load_chunks(path)))
            except SourceError as exc:
                problems.append((0, str(exc)))
        else:
            documents.append((path, path.read_bytes()))
    if problems:
        error = ContentError(f"{len(problems)} problem(s) in the FAQ files; nothing was imported")
        error.errors = problems  # type: ignore[attr-defined]
        raise error
    merged = _merge(entries)
    faq = content.import_faq(merged, mode, user) if merged or mode == "replace" else \
        {"created": 0, "updated": 0, "deleted": 0}
    added, replaced = [], []
    for path, data in documents:
        try:
            added.append(content.add_document(path.name, data, user).filename)
        except Exists:
            existing = next(d for d in content.list_documents() if d.filename.lower() == path.name.lower())
            replaced.append(content.replace_document(existing.id, path.name, data, user).filename)
    faq.pop("errors", None)
    return {"faq": faq, "documents": {"added": added, "replaced": replaced}}


def _merge(entries: List[FaqEntry]) -> List[FaqEntry]:
    """One entry per id (a zh file and an en file of the same ids become bilingual entries)."""
    merged: Dict[str, FaqEntry] = {}
    for entry in entries:
        found = merged.get(entry.faq_id)
        if found is None:
            merged[entry.faq_id] = FaqEntry(entry.faq_id, entry.category, entry.zh, entry.en)
            continue
        found.category = found.category or entry.category
        found.zh = found.zh or entry.zh
        found.en = found.en or entry.en
    return list(merged.values())
