"""Read source files (FAQ CSV/YAML/JSON; Markdown, text, PDF, DOCX, XLSX documents) into chunks.

Tables are read as rows of "header: value" pairs (a DOCX table in its place among the
paragraphs, each XLSX sheet as its own section), so a price-list row is understandable
alone in a chunk. A PDF without a text layer (a scan) is refused with :class:`NoTextLayer`
rather than indexed as nothing; :func:`document_warnings` tells staff what else was
skipped (pages without text, empty sheets, images). Formats: ``knowledge/sources/README.md``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from itertools import zip_longest
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import yaml

from .chunking import MAX_CHARS, Passage, chunk_markdown, chunk_plain, chunk_sections, join_lines, split_long
from .faq_io import FaqTableError, chunks_from_entries, clean_similar, read_faq_table
from .lang import language_or
from .records import Chunk

FAQ_SUFFIXES = {".csv", ".yaml", ".yml", ".json"}
DOC_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx", ".xlsx"}
SUPPORTED_SUFFIXES = FAQ_SUFFIXES | DOC_SUFFIXES

# Files in a sources folder that are not knowledge: its README and the first-run setup's
# list of the demo community's invented facts (knowledge/setup.py).
IGNORED_NAMES = {"readme.md", "demo_facts.yaml"}
# (title, passages, warnings) of a document
DocContent = Tuple[str, List[Passage], List[str]]


class SourceError(ValueError):
    """A source file cannot be read; the message says which file and what to fix."""


class NoTextLayer(SourceError):
    """A PDF whose pages carry no text (a scan or photos): it must be OCR'd before upload."""


def discover(paths: Iterable[str]) -> List[Path]:
    """Expand files and folders into the sorted list of supported source files."""
    found: List[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            # ".x" hidden files and "~$x.docx" Office lock files are not sources
            found.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                         and not f.name.startswith((".", "~$")) and f.name.lower() not in IGNORED_NAMES
                         and not _in_index(f, p))
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
    """Read one source file into chunks.

    Raises :class:`SourceError` naming the file and the fix (:class:`NoTextLayer` for a
    PDF without text).
    """
    return read_document(path, max_chars)[0]


def read_document(path: Path, max_chars: int = MAX_CHARS) -> Tuple[List[Chunk], List[str]]:
    """Chunks of one source file and the warnings for staff (see :func:`document_warnings`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(f"{path}: unsupported type; use one of {sorted(SUPPORTED_SUFFIXES)}")
    try:
        if suffix == ".csv":
            return _csv_chunks(path), []
        if suffix in FAQ_SUFFIXES:
            return _faq_chunks(path, _FAQ_READERS[suffix](path)), []
        title, passages, warnings = _DOC_READERS[suffix](path, max_chars)
        if not passages:
            warnings.append("no text found: the file gives nothing to answer from / 未读到任何文字内容")
        return _doc_chunks(path, title, passages), warnings
    except SourceError:
        raise
    except Exception as exc:  # give the file name with any parser error
        raise SourceError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc


def document_warnings(path: Path) -> List[str]:
    """What staff should know about a readable document, e.g. "pages 3, 7 have no text layer".

    Empty when there is nothing to say. A PDF with no text at all gives its
    :class:`NoTextLayer` message here (:func:`load_chunks` raises it).
    """
    try:
        return read_document(Path(path))[1]
    except NoTextLayer as exc:
        return [str(exc)]


# ---------------------------------------------------------------- FAQ files
def _csv_chunks(path: Path) -> List[Chunk]:
    """An FAQ table (any layout :mod:`knowledge.faq_io` reads: UTF-8 or GBK, zh/en headers)."""
    try:
        entries = read_faq_table(path.name, path.read_bytes(), id_prefix=path.stem)
    except FaqTableError as exc:
        raise SourceError(f"{path}: {exc}") from exc
    return chunks_from_entries(entries, str(path))


def _read_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


_FAQ_READERS: Dict[str, Callable[[Path], object]] = {".yaml": _read_yaml, ".yml": _read_yaml, ".json": _read_json}


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
        similar = row.get("similar") or []
        if not isinstance(similar, list) or not all(isinstance(q, (str, int, float)) for q in similar):
            raise SourceError(f"{path}: entry {i + 1} ('{faq_id}'): 'similar' must be a list of questions")
        similar = list(clean_similar(similar, question))
        chunks.append(Chunk(
            chunk_id=f"faq:{faq_id}@{lang}", source=str(path), kind="faq", text=answer, language=lang,
            title=question, category=str(row.get("category") or defaults.get("category") or ""), faq_id=faq_id,
            extra={"similar": similar} if similar else {},
        ))
    ids = [c.chunk_id for c in chunks]
    dup = {x for x in ids if ids.count(x) > 1}
    if dup:
        raise SourceError(f"{path}: duplicate FAQ ids {sorted(dup)}; give each entry a unique id per language")
    return chunks


# ---------------------------------------------------------------- documents
def _read_text_file(path: Path, warnings: List[str]) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:  # Notepad on a Chinese Windows saves GBK
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{path}: not UTF-8 or GBK text; save it as UTF-8 / 请另存为 UTF-8 编码") from exc
        warnings.append("read as GBK/GB18030, not UTF-8 / 按 GBK 编码读取")
        return text


def _read_markdown(path: Path, max_chars: int) -> DocContent:
    warnings: List[str] = []
    return (*chunk_markdown(_read_text_file(path, warnings), _stem_title(path), max_chars), warnings)


def _read_text(path: Path, max_chars: int) -> DocContent:
    warnings: List[str] = []
    return (*chunk_plain(_read_text_file(path, warnings), _stem_title(path), max_chars), warnings)


def _read_pdf(path: Path, max_chars: int) -> DocContent:
    from pypdf import PdfReader  # imported lazily: only needed for PDF sources

    reader = PdfReader(str(path))
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or _stem_title(path)
    passages: List[Passage] = []
    blank: List[int] = []
    for n, page in enumerate(reader.pages, start=1):
        text = page.extract_text() or ""
        if not text.strip():
            blank.append(n)
            continue
        _, page_passages = chunk_plain(text, title, max_chars)
        for p in page_passages:
            p.section = p.section or f"p. {n}"
        passages.extend(page_passages)
    if not passages:
        raise NoTextLayer(
            f"{path.name}: none of its {len(reader.pages)} page(s) has a text layer (a scanned PDF?): OCR it first "
            "(e.g. ocrmypdf, or a scanner's \"searchable PDF\" option) or upload the text as .docx/.txt / "
            "该 PDF 没有文字层（可能是扫描件），请先进行 OCR 文字识别，或上传文字版文档")
    warnings = [_pages_warning(blank)] if blank else []
    return title, passages, warnings


def _pages_warning(pages: List[int]) -> str:
    listed = ", ".join(str(n) for n in pages[:20]) + (f" (+{len(pages) - 20} more)" if len(pages) > 20 else "")
    zh = "、".join(str(n) for n in pages[:20]) + ("等" if len(pages) > 20 else "")
    if len(pages) == 1:
        return f"page {listed} has no text layer (scanned or blank), its content is not indexed / 第 {zh} 页没有文字层，未被收录"
    return f"pages {listed} have no text layer (scanned or blank), their content is not indexed / 第 {zh} 页没有文字层，未被收录"


def _read_docx(path: Path, max_chars: int) -> DocContent:
    import docx  # python-docx, imported lazily
    from docx.table import Table

    document = docx.Document(str(path))
    lines: List[str] = []
    for block in document.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, Table):
            for line in _docx_table_lines(block, max_chars):
                lines += [line, ""]
            continue
        para = block
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
    title, passages = chunk_markdown("\n".join(lines), title, max_chars)
    warnings: List[str] = []
    images = len(document.element.body.xpath(".//w:drawing | .//w:pict"))
    if images:
        warnings.append(f"{images} image(s): text inside images is not read / 文档中有 {images} 张图片，图片里的文字不会被收录")
    return title, passages, warnings


def _docx_table_lines(table, max_chars: int) -> List[str]:
    """Rows of a DOCX table as text lines; a cell merged across columns counts once."""
    grid: List[List[str]] = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            same = previous is not None and cell._tc is previous._tc
            cells.append("" if same else join_lines([p.text for p in cell.paragraphs]))
            previous = cell
        grid.append(cells)
    return _table_lines(grid, max_chars, marked_header=bool(table.rows) and _marked_header(table.rows[0]))


def _marked_header(row) -> bool:
    """True when Word marks the first row as a header: "repeat as header row", or all of it bold."""
    tr_pr = row._tr.trPr
    if tr_pr is not None and tr_pr.xpath("./w:tblHeader"):
        return True
    runs = [r for cell in row.cells for p in cell.paragraphs for r in p.runs if r.text.strip()]
    return bool(runs) and all(r.bold for r in runs)


def _table_lines(grid: List[List[str]], max_chars: int, marked_header: bool = True) -> List[str]:
    """Text lines of a table: with a header row and several columns each row is "header: value; ...".

    A one-column table (often a layout box around paragraphs) gives its cells as paragraphs;
    a two-column table without a marked header row is read as "key: value" rows (contact
    lists, fee items), since taking its first row as a header would pair unrelated cells.
    """
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    columns = sum(1 for j in range(max(map(len, grid))) if any(j < len(row) and row[j] for row in grid))
    if columns < 2:
        return [_safe_line(c) for row in grid for c in row if c]
    if len(grid) == 1:
        return [_safe_line("; ".join(c for c in grid[0] if c))]
    if columns == 2 and not marked_header:
        out = []
        for row in grid:
            values = [c for c in row if c]
            out.extend(_row_lines(values[:1], values[1:], max_chars) if len(values) == 2 else [_safe_line(values[0])])
        return out
    header, out = grid[0], []
    for row in grid[1:]:
        if row == header:  # a header repeated inside the table
            continue
        out.extend(_row_lines(header, row, max_chars))
    return out


def _row_lines(header: Sequence[str], row: Sequence[str], max_chars: int) -> List[str]:
    """One table row as "header: value; ..." lines of at most ``max_chars``.

    A long row is cut between pairs; every continuation starts with the row's first pair
    (its label), so each piece still says which row it belongs to.
    """
    pairs = [f"{h}: {v}" if h and h != v else v for h, v in zip_longest(header, row, fillvalue="") if v]
    if not pairs:
        return []
    label = pairs[0] if len(pairs[0]) <= max_chars // 4 else ""
    room = max_chars - (len(label) + 2 if label else 0)  # a piece of a long value must fit after the label
    pieces = [piece for pair in pairs for piece in (split_long(pair, room) if len(pair) > room else [pair])]
    lines, current = [], pieces[0]
    for piece in pieces[1:]:
        if len(current) + 2 + len(piece) <= max_chars:
            current = f"{current}; {piece}"
            continue
        lines.append(current)
        current = f"{label}; {piece}" if label and len(label) + 2 + len(piece) <= max_chars else piece
    lines.append(current)
    return [_safe_line(line) for line in lines]


def _safe_line(line: str) -> str:
    # A table cell starting with "#" must not become a Markdown heading.
    return "＃" + line[1:] if line.startswith("#") else line


def _read_xlsx(path: Path, max_chars: int) -> DocContent:
    from .spreadsheet import read_workbook

    sections: List[Tuple[str, List[str]]] = []
    warnings: List[str] = []
    for sheet in read_workbook(str(path)):
        if not sheet.rows:
            warnings.append(f"sheet {sheet.title!r} is empty / 工作表“{sheet.title}”为空")
            continue
        if sheet.hidden:
            warnings.append(f"sheet {sheet.title!r} is hidden; its rows are indexed too / 隐藏工作表“{sheet.title}”也已收录")
        if sheet.formulas_without_value:
            warnings.append(
                f"sheet {sheet.title!r}: {sheet.formulas_without_value} formula cell(s) have no saved value and read "
                f"as empty; open and save the file in Excel or WPS / 工作表“{sheet.title}”有公式未计算，请用 Excel 或 WPS 打开后保存")
        sections.extend(_sheet_sections(sheet.title, [cells for _, cells in sheet.rows], max_chars))
    return _stem_title(path), chunk_sections(sections, max_chars), warnings


def _sheet_sections(title: str, rows: List[List[str]], max_chars: int) -> List[Tuple[str, List[str]]]:
    """(section, paragraphs) of one sheet: title lines above the header and one-cell group rows
    ("二、停车费") become part of the section, every other row is "header: value; ..."."""
    filled = [sum(1 for c in row if c) for row in rows]
    start = next((i for i, n in enumerate(filled) if n >= 2), None)
    if start is None:  # a list, not a table: each cell is a paragraph
        return [(title, [c for row in rows for c in row if c])]
    path = [title] + [c for row in rows[:start] for c in row if c]
    header, group = rows[start], ""
    sections: List[Tuple[str, List[str]]] = []
    pending: List[str] = []

    def flush() -> None:
        if pending:
            sections.append((" > ".join(path + ([group] if group else [])), list(pending)))
            pending.clear()
        elif group:  # a group row with nothing under it (a closing note): keep its text
            sections.append((" > ".join(path), [group]))

    for row, n in zip(rows[start + 1:], filled[start + 1:]):
        if row == header:
            continue
        if n == 1:
            flush()
            group = next(c for c in row if c)
            continue
        pending.extend(_row_lines(header, row, max_chars))
    flush()
    return sections


_DOC_READERS: Dict[str, Callable[[Path, int], DocContent]] = {
    ".md": _read_markdown, ".markdown": _read_markdown, ".txt": _read_text,
    ".pdf": _read_pdf, ".docx": _read_docx, ".xlsx": _read_xlsx,
}


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
