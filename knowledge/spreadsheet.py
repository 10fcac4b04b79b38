"""Read the cell text of an ``.xlsx`` workbook, sheet by sheet (FAQ tables and xlsx documents).

openpyxl runs in read-only mode, so a large upload streams instead of building a cell
object per cell (normal mode takes about 50 times the file size in memory). Read-only
mode does not report merged cells, so their ranges are read from the sheet XML here:
the value of a vertically merged cell is repeated on every row of the range, so each row
reads alone (a category or a building number merged down a column belongs to every row);
horizontally merged cells are not repeated, so a row never says the same thing twice.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union
from xml.etree.ElementTree import iterparse

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


@dataclass
class Sheet:
    """One worksheet: its title and its non-empty rows as ``(row number, cell texts)``."""

    title: str
    rows: List[Tuple[int, List[str]]] = field(default_factory=list)
    hidden: bool = False
    formulas_without_value: int = 0  # formulas never calculated (file written by a program, not Excel)


def cell_text(value: Any) -> str:
    """A cell value as text: 12.0 -> "12", dates in ISO form, None -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def read_workbook(source: Union[bytes, str]) -> List[Sheet]:
    """Every sheet of a workbook (file path or bytes), with merged cells filled down.

    Raises whatever openpyxl / zipfile raise for a file that is not an xlsx workbook;
    callers turn that into their own error with the file name.
    """
    from openpyxl import load_workbook  # imported lazily: only needed for xlsx files

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheets: List[Sheet] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for ws in workbook.worksheets:
                # The stored dimension can be wrong (too small: rows cut; huge: millions of
                # padding cells); reading without it returns each row as long as it is.
                ws.reset_dimensions()
                rows = {n: [cell_text(v) for v in row]
                        for n, row in enumerate(ws.iter_rows(values_only=True), start=1) if row}
                merges, formulas = _sheet_extras(archive, getattr(ws, "_worksheet_path", ""))
                _fill_down(rows, merges)
                sheets.append(Sheet(
                    title=ws.title, hidden=getattr(ws, "sheet_state", "visible") != "visible",
                    rows=[(n, cells) for n, cells in sorted(rows.items()) if any(cells)],
                    formulas_without_value=formulas,
                ))
    finally:
        workbook.close()
    return sheets


def _sheet_extras(archive: zipfile.ZipFile, path: str) -> Tuple[List[Tuple[int, int, int, int]], int]:
    """Merged ranges ``(min_col, min_row, max_col, max_row)`` and uncalculated formulas of a sheet."""
    merges: List[Tuple[int, int, int, int]] = []
    formulas = 0
    name = path.lstrip("/")
    if not name or name not in archive.namelist():
        return merges, formulas
    with archive.open(name) as fh:
        for _, element in iterparse(fh):
            tag = element.tag
            if tag == f"{_NS}c":
                f, v = element.find(f"{_NS}f"), element.find(f"{_NS}v")
                if f is not None and (v is None or not (v.text or "").strip()):
                    formulas += 1
                element.clear()  # keep memory flat on large sheets
            elif tag == f"{_NS}row":
                element.clear()
            elif tag == f"{_NS}mergeCell":
                bounds = _range(element.get("ref", ""))
                if bounds:
                    merges.append(bounds)
    return merges, formulas


def _range(ref: str) -> Union[Tuple[int, int, int, int], None]:
    parts = ref.upper().split(":")
    if len(parts) != 2:
        return None
    a, b = _REF.match(parts[0]), _REF.match(parts[1])
    if not a or not b:
        return None
    return _column(a.group(1)), int(a.group(2)), _column(b.group(1)), int(b.group(2))


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _fill_down(rows: Dict[int, List[str]], merges: List[Tuple[int, int, int, int]]) -> None:
    """Copy a merged range's value to the first column of each of its rows that exists."""
    for min_col, min_row, _max_col, max_row in merges:
        top = rows.get(min_row)
        if not top or len(top) < min_col or not top[min_col - 1]:
            continue
        value = top[min_col - 1]
        last = min(max_row, max(rows))  # a range may claim a million rows: stop at the last one read
        for n in range(min_row + 1, last + 1):
            cells = rows.get(n)
            if cells is None:
                continue
            if len(cells) < min_col:
                cells.extend([""] * (min_col - len(cells)))
            if not cells[min_col - 1]:
                cells[min_col - 1] = value
