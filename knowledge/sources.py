"""Read source files (FAQ CSV/YAML/JSON, Markdown, text, PDF, DOCX) into chunks."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Callable, Dict, Iterable, List

import yaml

from .chunking import MAX_CHARS, Passage, chunk_markdown, chunk_plain
from .lang import language_or
from .records import Chunk

FAQ_SUFFIXES = {".csv", ".yaml", ".yml", ".json"}
DOC_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx"}
SUPPORTED_SUFFIXES = FAQ_SUFFIXES | DOC_SUFFIXES


class SourceError(ValueError):
    """A source file cannot be read; the message says which file and what to fix."""


def discover(paths: Iterable[str]) -> List[Path]:
    """Expand files and folders into the sorted list of supported source files."""
    found: List[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                         and not f.name.startswith(".") and f.name.lower() != "readme.md" and not _in_index(f, p))
        elif p.is_file():
            if p.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise SourceError(f"{p}: unsupported type; use one of {sorted(SUPPORTED_SUFFIXES)}")
            found.append(p)
        else:
            raise SourceError(f"{p}: no such file or folder")
    # de-duplicate while keeping order
    seen, out = set(), []
    for f in found:
        key = str(f.resolve())
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _in_index(path: Path, root: Path) -> bool:
    """True for files inside a knowledge index folder (its manifest.json is not an FAQ)."""
    for parent in path.parents:
        if (parent / "index.faiss").exists() and (parent / "manifest.json").exists():
            return True
        if parent == root:
            return False
    return False


def file_digest(path: Path) -> str:
    """SHA-256 of the file content (re-ingest re-embeds only files whose digest changed)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_chunks(path: Path, max_chars: int = MAX_CHARS) -> List[Chunk]:
    """Read one source file into chunks."""
    suffix = path.suffix.lower()
    try:
        if suffix in FAQ_SUFFIXES:
            return _faq_chunks(path, _FAQ_READERS[suffix](path))
        return _doc_chunks(path, *_DOC_READERS[suffix](path, max_chars))
    except SourceError:
        raise
    except Exception as exc:  # give the file name with any parser error
        raise SourceError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc


# ---------------------------------------------------------------- FAQ files
def _read_csv(path: Path) -> List[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _read_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


_FAQ_READERS: Dict[str, Callable[[Path], object]] = {
    ".csv": _read_csv, ".yaml": _read_yaml, ".yml": _read_yaml, ".json": _read_json,
}


def _faq_chunks(path: Path, data: object) -> List[Chunk]:
    defaults: dict = {}
    if isinstance(data, dict):  # {language: zh, category: x, entries: [...]}
        defaults = {k: v for k, v in data.items() if k in ("language", "category")}
        data = data.get("entries") or data.get("faq") or data.get("faqs")
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a list of FAQ entries (or a mapping with 'entries')")
    chunks: List[Chunk] = []
    for i, row in enumerate(data):
        if not isinstance(row, dict) or not row.get("question") or not row.get("answer"):
            raise SourceError(f"{path}: entry {i + 1} needs non-empty 'question' and 'answer' fields")
        question, answer = str(row["question"]).strip(), str(row["answer"]).strip()
        lang = str(row.get("language") or defaults.get("language") or language_or(question + answer))
        faq_id = str(row.get("id") or f"{path.stem}-{i + 1}")
        chunks.append(Chunk(
            chunk_id=f"faq:{faq_id}@{lang}", source=str(path), kind="faq", text=answer, language=lang,
            title=question, category=str(row.get("category") or defaults.get("category") or ""), faq_id=faq_id,
        ))
    ids = [c.chunk_id for c in chunks]
    dup = {x for x in ids if ids.count(x) > 1}
    if dup:
        raise SourceError(f"{path}: duplicate FAQ ids {sorted(dup)}; give each entry a unique id per language")
    return chunks


# ---------------------------------------------------------------- documents
def _read_markdown(path: Path, max_chars: int):
    return chunk_markdown(path.read_text(encoding="utf-8"), _stem_title(path), max_chars)


def _read_text(path: Path, max_chars: int):
    return chunk_plain(path.read_text(encoding="utf-8"), _stem_title(path), max_chars)


def _read_pdf(path: Path, max_chars: int):
    from pypdf import PdfReader  # imported lazily: only needed for PDF sources

    reader = PdfReader(str(path))
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or _stem_title(path)
    passages: List[Passage] = []
    for n, page in enumerate(reader.pages, start=1):
        _, page_passages = chunk_plain(page.extract_text() or "", title, max_chars)
        for p in page_passages:
            p.section = p.section or f"p. {n}"
        passages.extend(page_passages)
    return title, passages


def _read_docx(path: Path, max_chars: int):
    import docx  # python-docx, imported lazily

    document = docx.Document(str(path))
    lines: List[str] = []
    for para in document.paragraphs:
        style = (para.style.name or "").lower() if para.style is not None else ""
        text = para.text.strip()
        if not text:
            continue
        if style == "title":
            lines += [f"# {text}", ""]
        elif style.startswith("heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            lines += [f"{'#' * min(level + 1, 6)} {text}", ""]
        else:
            lines += [text, ""]
    title = document.core_properties.title or _stem_title(path)
    return chunk_markdown("\n".join(lines), title, max_chars)


_DOC_READERS = {".md": _read_markdown, ".markdown": _read_markdown, ".txt": _read_text,
                ".pdf": _read_pdf, ".docx": _read_docx}


def _stem_title(path: Path) -> str:
    # "物业管理条例(2018-03-19)" -> "物业管理条例": the date suffix is not part of the title
    stem = path.stem
    if stem.endswith(")") and "(" in stem:
        stem = stem[: stem.rindex("(")]
    return stem


def _doc_chunks(path: Path, title: str, passages: List[Passage]) -> List[Chunk]:
    chunks = []
    for i, p in enumerate(passages):
        chunks.append(Chunk(
            chunk_id=f"doc:{path.name}#{i}", source=str(path), kind="doc", text=p.text,
            language=language_or(p.text), title=title, section=p.section, article=p.article,
        ))
    return chunks
