"""FAQ tables in and out of the desk: CSV and XLSX files that staff edit in Excel or WPS.

Reading accepts two layouts, with headers in Chinese or English (case, spacing and
punctuation do not matter, so ``Question (ZH)``, ``question_zh`` and ``问题（中文）`` are
the same column):

* bilingual: one row per FAQ id with ``question_zh, answer_zh, question_en, answer_en``
  and optionally ``similar_zh, similar_en`` (the desk's export format);
* one language per row: ``id, question, answer, language`` and optionally ``similar``;
  rows with the same id and different languages are merged into one entry.

A similar-questions cell (相似问法) holds other wordings of the question, one per line
(Alt+Enter in Excel, Ctrl+Enter in WPS); blank lines are dropped. Files without these
columns (older exports) read as entries without similar questions.

Every row problem is collected with its spreadsheet row number (1-based, the header
included) and raised together as :class:`FaqTableError`, so staff fix a file in one pass.
Writing produces the bilingual layout: CSV in UTF-8 with a BOM (Excel then shows Chinese
correctly) or XLSX with a bold header; both read back to the same entries.
"""

from __future__ import annotations

import csv
import io
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .lang import language_or
from .records import CATEGORY_LABELS, Chunk
from .spreadsheet import read_workbook

LANGUAGES = ("zh", "en")
COLUMNS = ("id", "category", "question_zh", "answer_zh", "question_en", "answer_en", "similar_zh", "similar_en")
TABLE_SUFFIXES = (".csv", ".xlsx")
SHEET_NAMES = ("faq", "常见问题", "问答")  # preferred sheet names in a workbook (normalised)
HEADER_SCAN_ROWS = 10  # a title line or two above the header is common in hand-made sheets
# Excel and WPS run a CSV cell starting with one of these as a formula (CSV injection):
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class FaqText:
    """One language version of an FAQ entry.

    ``similar``: other wordings of the question (相似问法), as residents ask it. Each is
    embedded with the answer as one more vector of the entry, so a resident who words the
    question differently still finds it (docs/benchmarks.md, "Similar questions").
    """

    question: str
    answer: str
    similar: Tuple[str, ...] = ()


@dataclass
class FaqEntry:
    """An FAQ entry: one id, a category and its Chinese and/or English version."""

    faq_id: str
    category: str = ""
    zh: Optional[FaqText] = None
    en: Optional[FaqText] = None

    def text(self, language: str) -> Optional[FaqText]:
        """The version in ``language`` ("zh" or "en"), or None."""
        return self.zh if language == "zh" else self.en if language == "en" else None


class FaqTableError(ValueError):
    """An FAQ table has problems; ``rows`` lists ``(row number, message)`` for each of them.

    Row numbers are 1-based and count the header row, as a spreadsheet shows them; a problem
    with the file as a whole (unreadable, no header) is reported on row 1.
    """

    def __init__(self, rows: Sequence[Tuple[int, str]]):
        self.rows: List[Tuple[int, str]] = list(rows)
        super().__init__("; ".join(f"row {n}: {msg}" for n, msg in self.rows))


# ---------------------------------------------------------------- headers
def _norm(text: Any) -> str:
    """Header key: lower case without spaces, punctuation or underscores."""
    return re.sub(r"[\W_]+", "", str(text or "")).lower()


def _header_aliases() -> Dict[str, str]:
    aliases: Dict[str, str] = {}
    plain = {
        "id": ["id", "faqid", "编号", "问题编号", "标识", "key"],
        "category": ["category", "categories", "cat", "topic", "类别", "分类", "类目", "主题", "栏目"],
        "question": ["question", "questions", "q", "问题", "问", "提问", "标准问题"],
        "answer": ["answer", "answers", "a", "答案", "回答", "答", "答复", "回复"],
        "language": ["language", "lang", "locale", "语言", "语种"],
        "similar": ["similar", "similarquestions", "similarquestion", "相似问法", "相似问题", "相似问"],
    }
    for field, names in plain.items():
        aliases.update({_norm(n): field for n in names})
    lang_names = {"zh": ["zh", "cn", "chinese", "中文", "汉语", "简体中文"], "en": ["en", "english", "英文", "英语"]}
    words = {"question": ["question", "问题", "问"], "answer": ["answer", "答案", "回答", "答"],
             "similar": ["similar", "similarquestions", "similarquestion", "相似问法", "相似问题", "相似问"]}
    for lang, lnames in lang_names.items():
        for field, fnames in words.items():
            for ln in lnames:
                for fn in fnames:
                    # question_zh, zh question, 中文问题, 问题(中文), 问题中文, similar questions (zh)
                    aliases[_norm(fn + ln)] = f"{field}_{lang}"
                    aliases[_norm(ln + fn)] = f"{field}_{lang}"
    return aliases


_ALIASES = _header_aliases()
_LANG_VALUES = {
    **{_norm(v): "zh" for v in ("zh", "zh-cn", "zh_CN", "zh-hans", "cn", "chinese", "中文", "汉语", "简体中文", "简体", "普通话")},
    **{_norm(v): "en" for v in ("en", "en-us", "en-gb", "english", "英文", "英语")},
}
_ACCEPTED = ("id/编号, category/类别/分类, and either question_zh/中文问题, answer_zh/中文答案, "
             "question_en/英文问题, answer_en/英文答案 (optional similar_zh/中文相似问法, similar_en/英文相似问法), "
             "or question/问题, answer/答案/回答, language/语言 (optional similar/相似问法)")


def _header_map(cells: Sequence[Any]) -> Dict[str, int]:
    """Column index of each recognised field in a header row (first occurrence wins)."""
    found: Dict[str, int] = {}
    for i, cell in enumerate(cells):
        field = _ALIASES.get(_norm(cell))
        if field and field not in found:
            found[field] = i
    return found


def _usable(fields: Dict[str, int]) -> bool:
    if "question" in fields and "answer" in fields:
        return True
    return any(f"question_{lang}" in fields and f"answer_{lang}" in fields for lang in LANGUAGES)


_Columns = Tuple[Optional[int], Optional[int], Optional[int]]  # question, answer, similar


def _columns_by_language(fields: Dict[str, int]) -> Dict[str, _Columns]:
    """(question, answer, similar) columns per language; the key "" means each row names (or implies) its language."""
    bilingual = {lang: (fields.get(f"question_{lang}"), fields.get(f"answer_{lang}"), fields.get(f"similar_{lang}"))
                 for lang in LANGUAGES}
    has_bilingual = any(q is not None or a is not None for q, a, _ in bilingual.values())
    plain = (fields.get("question"), fields.get("answer"), fields.get("similar"))
    if not has_bilingual:
        return {"": plain}
    # "问题, 答案, question_en, answer_en": the plain columns are the language without its own
    missing = [lang for lang, (q, a, _) in bilingual.items() if q is None and a is None]
    if (plain[0] is not None or plain[1] is not None) and len(missing) == 1:
        bilingual[missing[0]] = (plain[0], plain[1], bilingual[missing[0]][2] if plain[2] is None else plain[2])
    return {lang: cols for lang, cols in bilingual.items() if cols[:2] != (None, None)}


# ---------------------------------------------------------------- reading
def read_faq_table(filename: str, data: bytes, *, id_prefix: Optional[str] = None) -> List[FaqEntry]:
    """Parse an FAQ table (``.csv`` in UTF-8/UTF-8-BOM/GBK/GB18030/UTF-16, or ``.xlsx``).

    Returns the entries in file order. A row without an id gets ``<category>-<n>``, or
    ``<id_prefix>-<n>`` (n = its position among the data rows) when ``id_prefix`` is given,
    which keeps ids of several files apart. Raises :class:`FaqTableError` listing every
    problem (row number, message) when any row is wrong; nothing partial is returned.
    """
    name = (filename or "").lower()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise FaqTableError([(1, f"unsupported file type {filename!r}: upload a .csv or .xlsx table / "
                                 "仅支持 .csv 或 .xlsx 表格")])
    return _parse_rows(rows, id_prefix)


def _decode(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a GBK superset)."""
    encodings = ("utf-8-sig", "gb18030")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        encodings = ("utf-16",)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:  # last resort: a statistical guess (Big5, Shift-JIS, ...)
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except ImportError:  # pragma: no cover - charset-normalizer comes with requests
        pass
    raise FaqTableError([(1, "cannot decode the file: save it as CSV UTF-8 (or GBK) / 无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")])


def _csv_rows(data: bytes) -> List[Tuple[int, List[str]]]:
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    # comma, or tab (Excel "Unicode text") or semicolon (European Excel) when the header uses them
    delimiter = max((",", "\t", ";"), key=lambda d: (first.count(d), d == ","))
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [(n, row) for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise FaqTableError([(1, f"not a valid CSV file ({exc}) / CSV 格式错误")]) from exc


def _xlsx_rows(data: bytes) -> List[Tuple[int, List[Any]]]:
    try:
        sheets = read_workbook(data)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise FaqTableError([(1, f"not a readable .xlsx workbook ({type(exc).__name__}); save it again "
                                 "as Excel Workbook (.xlsx) / 无法读取 .xlsx 文件，请另存为 Excel 工作簿")]) from exc
    if not sheets:
        raise FaqTableError([(1, "the workbook has no sheets / 工作簿中没有工作表")])
    by_name = {_norm(s.title): s for s in sheets}
    return next((by_name[n] for n in SHEET_NAMES if n in by_name), sheets[0]).rows


def _clean(value: Any) -> str:
    text = str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        text = text[1:]  # our CSV export's guard against formula injection
    return text


def clean_similar(values: Iterable[Any], question: str) -> Tuple[str, ...]:
    """Similar questions as stored: stripped, in order, without blanks, repeats or ``question`` itself.

    The one normalisation for every way in (FAQ files, tables, the desk's API).
    """
    out: "OrderedDict[str, None]" = OrderedDict()
    for value in values:
        text = str(value).strip()
        if text and text != question.strip():
            out[text] = None
    return tuple(out)


def _similar(value: str, question: str) -> Tuple[str, ...]:
    """The questions of a similar-questions cell: one per line."""
    return clean_similar(value.split("\n"), question)


def _language(value: str) -> Optional[str]:
    return _LANG_VALUES.get(_norm(value))


def _category(value: str) -> str:
    """Category slug: a known display name ("停车", "Parking") becomes its slug ("parking")."""
    key = _norm(value)
    for slug, labels in CATEGORY_LABELS.items():
        if key == slug or key in (_norm(x) for x in labels):
            return slug
    return value


def _parse_rows(rows: List[Tuple[int, List[Any]]], id_prefix: Optional[str] = None) -> List[FaqEntry]:
    header_at, fields = None, {}
    for i, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = _header_map(cells)
        if _usable(fields):
            header_at = i
            break
    if header_at is None:
        raise FaqTableError([(1, f"no recognisable header row in the first {HEADER_SCAN_ROWS} rows / 未找到可识别的表头; "
                                 f"accepted columns / 可用列名: {_ACCEPTED}")])
    by_language = _columns_by_language(fields)

    def cell(cells: List[Any], col: Optional[int]) -> str:
        return _clean(cells[col]) if col is not None and col < len(cells) else ""

    errors: List[Tuple[int, str]] = []
    parsed: List[Tuple[int, str, str, Dict[str, FaqText]]] = []  # (row, id, category, texts)
    position = 0
    for number, cells in rows[header_at + 1:]:
        if not any(_clean(c) for c in cells):
            continue  # blank rows are layout, not data
        position += 1
        faq_id, category = cell(cells, fields.get("id")), _category(cell(cells, fields.get("category")))
        if not faq_id and id_prefix:
            faq_id = f"{id_prefix}-{position}"
        texts: Dict[str, FaqText] = {}
        row_errors: List[str] = []
        for lang, (q_col, a_col, s_col) in by_language.items():
            question, answer = cell(cells, q_col), cell(cells, a_col)
            similar = _similar(cell(cells, s_col), question)
            label = f" ({lang})" if lang else ""
            if not question and not answer:
                if similar:
                    row_errors.append(f"similar questions without a question and answer{label} / 有相似问法但缺少问题和答案")
                continue
            if not question:
                row_errors.append(f"answer without a question{label} / 有答案但缺少问题")
                continue
            if not answer:
                row_errors.append(f"question without an answer{label} / 缺少答案")
                continue
            row_lang: Optional[str] = lang
            if not lang:  # one-language rows: the language column, else the text tells
                raw = cell(cells, fields.get("language"))
                row_lang = _language(raw) if raw else language_or(question + answer)
                if row_lang is None:
                    row_errors.append(f"unknown language {raw!r}: use zh or en / 语言只能是 zh（中文）或 en（英文）")
                    continue
            texts[row_lang] = FaqText(question, answer, similar)
        if not texts and not row_errors:
            row_errors.append("missing question and answer / 缺少问题和答案")
        errors.extend((number, msg) for msg in row_errors)
        if texts and not row_errors:
            parsed.append((number, faq_id, category, texts))
    entries = _merge(parsed, errors)
    if errors:
        raise FaqTableError(sorted(errors))
    return entries


def _merge(parsed: List[Tuple[int, str, str, Dict[str, FaqText]]], errors: List[Tuple[int, str]]) -> List[FaqEntry]:
    """Group rows by id (generating missing ids); duplicate id + language is an error."""
    taken = {faq_id for _, faq_id, _, _ in parsed if faq_id}
    counters: Dict[str, int] = {}
    entries: "OrderedDict[str, FaqEntry]" = OrderedDict()
    seen: Dict[Tuple[str, str], int] = {}
    for number, faq_id, category, texts in parsed:
        if not faq_id:
            faq_id = _generated_id(category, counters, taken)
        entry = entries.setdefault(faq_id, FaqEntry(faq_id=faq_id, category=category))
        if category and not entry.category:
            entry.category = category
        elif category and category != entry.category:
            errors.append((number, f"id {faq_id!r} has category {category!r} here but {entry.category!r} "
                                   f"on an earlier row / 同一编号的类别不一致"))
        for lang, text in texts.items():
            if (faq_id, lang) in seen:
                errors.append((number, f"duplicate id {faq_id!r} ({lang}), first on row {seen[faq_id, lang]} / 编号重复"))
                continue
            seen[faq_id, lang] = number
            setattr(entry, lang, text)
    return list(entries.values())


def _generated_id(category: str, counters: Dict[str, int], taken: set) -> str:
    """``<category>-<n>`` (``faq-<n>`` without a category): stable for the same file."""
    prefix = re.sub(r"[^\w-]+", "-", category.strip().lower()).strip("-_") or "faq"
    while True:
        counters[prefix] = counters.get(prefix, 0) + 1
        candidate = f"{prefix}-{counters[prefix]}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


# ---------------------------------------------------------------- writing
def _row(entry: FaqEntry) -> List[str]:
    zh, en = entry.zh, entry.en
    values = [entry.faq_id, entry.category, zh.question if zh else "", zh.answer if zh else "",
              en.question if en else "", en.answer if en else "",
              "\n".join(zh.similar) if zh else "", "\n".join(en.similar) if en else ""]
    return [str(v) if v is not None else "" for v in values]


def write_faq_table(entries: Sequence[FaqEntry], fmt: str) -> bytes:
    """The entries as a bilingual table, ``fmt`` "csv" (UTF-8 with BOM) or "xlsx".

    Columns: ``id, category, question_zh, answer_zh, question_en, answer_en, similar_zh,
    similar_en`` (similar questions one per line in their cell). The result reads back with
    :func:`read_faq_table` to the same entries.
    """
    fmt = (fmt or "").lower().lstrip(".")
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")  # CRLF: what Excel writes and expects
        writer.writerow(COLUMNS)
        for entry in entries:
            writer.writerow([_guard(v) for v in _row(entry)])
        return out.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        return _write_xlsx(entries)
    raise ValueError(f"unknown format {fmt!r}: use csv or xlsx")


def _guard(value: str) -> str:
    """Prefix ' to a cell Excel would run as a formula; read_faq_table strips it again."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _write_xlsx(entries: Sequence[FaqEntry]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("FAQ")
    for letter, width in zip("ABCDEFGH", (22, 14, 40, 60, 40, 60, 40, 40)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def cells(values: Iterable[str], header: bool = False) -> Iterator[WriteOnlyCell]:
        for value in values:
            # control characters pasted from Word (\x0b ...) are not allowed in XLSX
            c = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            c.data_type = "s"  # never a formula, even for "=..." text
            if header:
                c.font = bold
            else:
                c.alignment = wrap
            yield c

    sheet.append(list(cells(COLUMNS, header=True)))
    for entry in entries:
        sheet.append(list(cells(_row(entry))))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- index chunks
def entries_from_chunks(chunks: Iterable[Any]) -> List[FaqEntry]:
    """FAQ chunks (``knowledge.records.Chunk`` or their dicts, kind "faq") grouped by ``faq_id``.

    The question is the chunk's ``title`` and the answer its ``text``; entries keep the order
    in which their first chunk appears; document chunks are skipped.
    """
    entries: "OrderedDict[str, FaqEntry]" = OrderedDict()
    for chunk in chunks:
        get = chunk.get if isinstance(chunk, dict) else lambda k, c=chunk: getattr(c, k, "")
        if get("kind") != "faq" or get("language") not in LANGUAGES:
            continue
        faq_id = get("faq_id") or str(get("chunk_id") or "").removeprefix("faq:").rsplit("@", 1)[0]
        entry = entries.setdefault(faq_id, FaqEntry(faq_id=faq_id, category=get("category") or ""))
        entry.category = entry.category or get("category") or ""
        if getattr(entry, get("language")) is None:
            similar = tuple((get("extra") or {}).get("similar") or ())
            setattr(entry, get("language"), FaqText(question=get("title") or "", answer=get("text") or "", similar=similar))
    return list(entries.values())


def chunks_from_entries(entries: Iterable[FaqEntry], source: str) -> List[Chunk]:
    """Index chunks of FAQ entries: one per language version, Chinese first (inverse of the above)."""
    out: List[Chunk] = []
    for entry in entries:
        for lang in LANGUAGES:
            text = entry.text(lang)
            if text is not None:
                out.append(Chunk(chunk_id=f"faq:{entry.faq_id}@{lang}", source=source, kind="faq", text=text.answer,
                                 language=lang, title=text.question, category=entry.category, faq_id=entry.faq_id,
                                 extra={"similar": list(text.similar)} if text.similar else {}))
    return out
