"""Tickets as a spreadsheet: CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX.

One row per ticket with the labels in the desk's language (``zh``/``en``), times in the
community's time zone (``LINLI_TIMEZONE``) and phone numbers **masked**, also inside
descriptions: an export leaves the desk, so it carries no more personal data than a list.
The reporter's platform id (an OpenID…) is left out; the channel stays.

Cells are never formulas: a resident who writes ``=HYPERLINK(…)`` gets that text in the
cell, not a link (CSV cells starting with ``= + - @`` get a leading ``'``; XLSX cells are
stored as text).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from bot.privacy import mask_phone, mask_phones
from bot.tickets.labels import label

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: Most rows one export carries; a larger selection is refused with a request to narrow it.
MAX_ROWS = 10000

Row = List[Any]


def _when(value: Optional[datetime], zone: tzinfo) -> Optional[datetime]:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone).replace(tzinfo=None)  # local wall time (XLSX has no zones)


def _code(kind: str) -> Callable[[Any, str, tzinfo, Dict[str, str]], Any]:
    return lambda t, lang, zone, names: label(kind, getattr(t, kind), lang) if getattr(t, kind) else ""


def _assignee(ticket: Any, names: Dict[str, str]) -> str:
    if not ticket.assignee:
        return ""
    name = names.get(ticket.assignee)
    return f"{name} ({ticket.assignee})" if name and name != ticket.assignee else ticket.assignee


#: (key, zh header, en header, value of a ticket)
COLUMNS: Sequence[Tuple[str, str, str, Callable[[Any, str, tzinfo, Dict[str, str]], Any]]] = (
    ("number", "工单号", "Number", lambda t, lang, zone, names: t.number),
    ("type", "类型", "Type", _code("type")),
    ("status", "状态", "Status", _code("status")),
    ("category", "类别", "Category", _code("category")),
    ("urgency", "紧急程度", "Urgency", _code("urgency")),
    ("location", "地点", "Location", lambda t, lang, zone, names: t.location or t.unit or ""),
    ("building", "楼栋", "Building", lambda t, lang, zone, names: t.building or ""),
    ("description", "描述", "Description", lambda t, lang, zone, names: mask_phones(t.description or "")),
    ("phone", "电话（已隐藏）", "Phone (masked)", lambda t, lang, zone, names: mask_phone(t.phone) or ""),
    ("visit_time", "上门时间", "Visit time", lambda t, lang, zone, names: t.visit_time or ""),
    ("assignee", "负责人", "Assignee", lambda t, lang, zone, names: _assignee(t, names)),
    ("channel", "渠道", "Channel", lambda t, lang, zone, names: t.channel or ""),
    ("created_at", "提交时间", "Created", lambda t, lang, zone, names: _when(t.created_at, zone)),
    ("updated_at", "更新时间", "Updated", lambda t, lang, zone, names: _when(t.updated_at, zone)),
)


def header(language: str) -> List[str]:
    """Column titles in ``language``."""
    return [zh if language == "zh" else en for _, zh, en, _ in COLUMNS]


def rows(tickets: Sequence[Any], language: str, zone: tzinfo, names: Optional[Dict[str, str]] = None) -> List[Row]:
    """One row of values per ticket (strings, and local datetimes for the times)."""
    names = names or {}
    return [[value(t, language, zone, names) for _, _, _, value in COLUMNS] for t in tickets]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    # Spreadsheet formula injection: Excel runs a cell that starts with one of these.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(titles: List[str], data: List[Row]) -> bytes:
    """CSV in UTF-8 with a BOM and CRLF line ends, as Excel expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(titles)
    writer.writerows([_csv_cell(v) for v in row] for row in data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(titles: List[str], data: List[Row], sheet: str) -> bytes:
    """An XLSX workbook: bold frozen header, filters, readable column widths, text cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(titles)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in data:
        ws.append([v if v is not None else "" for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    widths = {"number": 18, "description": 48, "location": 20, "assignee": 18, "created_at": 17, "updated_at": 17}
    for index, (key, *_rest) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = widths.get(key, 12)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, ws.max_row)}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(tickets: Sequence[Any], file_format: str, language: str, zone: tzinfo,
           names: Optional[Dict[str, str]] = None) -> bytes:
    """The export file's bytes in ``file_format`` (``csv`` or ``xlsx``)."""
    if file_format not in FORMATS:
        raise ValueError("format must be csv or xlsx")
    titles, data = header(language), rows(tickets, language, zone, names)
    if file_format == "csv":
        return to_csv(titles, data)
    return to_xlsx(titles, data, "工单" if language == "zh" else "Tickets")


def filename(file_format: str, zone: tzinfo, now: Optional[datetime] = None) -> str:
    """``linli-tickets-20261201-0930.csv`` (local time)."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(zone).strftime("%Y%m%d-%H%M")
    return f"linli-tickets-{stamp}.{file_format}"
