"""Documents staff upload: DOCX tables, XLSX sheets, scanned and partly scanned PDFs, GBK text, FAQ CSVs."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter

from knowledge.records import citation
from knowledge.sources import NoTextLayer, SourceError, discover, document_warnings, load_chunks, read_document

from .test_sources import _minimal_pdf


def _guide_docx(path: Path) -> Path:
    """A notice with a heading, a paragraph, a fee table (merged cells) and a closing paragraph."""
    d = docx.Document()
    d.add_heading("装修管理规定", level=1)
    d.add_paragraph("装修前须到物业服务中心办理登记手续。")
    d.add_heading("装修押金与收费", level=2)
    t = d.add_table(rows=4, cols=3)
    for r, row in enumerate([["项目", "标准", "说明"],
                             ["装修押金", "3000元", "验收合格后退还"],
                             ["垃圾清运费", "500元", "按户收取"],
                             ["出入证", "10元/张", "工期结束后交回"]]):
        for c, value in enumerate(row):
            t.cell(r, c).text = value
    t.cell(2, 2).merge(t.cell(3, 2))  # "按户收取" merged down two rows
    t.cell(3, 2).text = ""
    t.cell(2, 2).text = "按户收取"
    d.add_paragraph("装修时间为每天8:00-12:00、14:00-18:00。")
    d.save(str(path))
    return path


def test_docx_tables_are_read_in_place_with_their_heading(tmp_path: Path) -> None:
    chunks = load_chunks(_guide_docx(tmp_path / "装修管理规定.docx"))
    text = "\n".join(c.text for c in chunks)
    # document order: paragraph, table rows, paragraph
    assert text.index("办理登记") < text.index("装修押金") < text.index("出入证") < text.index("装修时间")
    deposit = next(c for c in chunks if "装修押金" in c.text)
    assert "项目: 装修押金; 标准: 3000元; 说明: 验收合格后退还" in deposit.text
    assert deposit.section == "装修管理规定 > 装修押金与收费" and citation(deposit) == "《装修管理规定》装修押金与收费"
    # a vertically merged cell belongs to both rows, but is not repeated within a row
    assert "项目: 出入证; 标准: 10元/张; 说明: 按户收取" in text
    assert text.count("按户收取") == 2 and "项目: 项目" not in text
    assert document_warnings(tmp_path / "装修管理规定.docx") == []


def test_docx_merged_columns_and_layout_tables(tmp_path: Path) -> None:
    d = docx.Document()
    box = d.add_table(rows=1, cols=1)  # a one-cell "box" around a notice: its paragraphs
    box.cell(0, 0).text = "停水通知"
    box.cell(0, 0).add_paragraph("6月3日9:00-15:00停水。")
    box.add_row().cells[0].text = "# 请提前储水"  # a cell is never a Markdown heading
    t = d.add_table(rows=2, cols=3)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(0, 2).text = "楼栋", "时间", "备注"
    merged = t.cell(1, 1).merge(t.cell(1, 2))
    t.cell(1, 0).text, merged.text = "#3楼", "全天"
    contacts = d.add_table(rows=2, cols=2)  # two columns, no header: key and value
    for r, (k, v) in enumerate([("服务中心", "0532-80001234"), ("保安室", "0532-80005678")]):
        contacts.cell(r, 0).text, contacts.cell(r, 1).text = k, v
    fees = d.add_table(rows=2, cols=2)  # two columns with a bold header row
    for r, (k, v) in enumerate([("项目", "标准"), ("物业费", "2.5元/平方米·月")]):
        for c, value in enumerate((k, v)):
            fees.cell(r, c).paragraphs[0].add_run(value).bold = r == 0
    d.save(str(tmp_path / "n.docx"))
    texts = [c.text for c in load_chunks(tmp_path / "n.docx")]
    joined = "\n".join(texts)
    assert "服务中心: 0532-80001234\n保安室: 0532-80005678" in joined
    assert "项目: 物业费; 标准: 2.5元/平方米·月" in joined
    assert "停水通知" in joined and "6月3日9:00-15:00停水。" in joined
    assert "＃ 请提前储水" in joined
    assert "楼栋: #3楼; 时间: 全天" in joined and joined.count("全天") == 1


def _price_list(path: Path, rows: int = 40) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "收费标准"
    ws.append(["阳光花园2024年收费标准"])
    ws.append(["项目", "单价", "计费方式", "说明"])
    ws.append(["一、停车"])
    ws.append(["地下车位月卡", "300元", "每月", "含车位管理费"])
    ws.append(["地面临时停车", "5元", "每小时", "首小时免费"])
    ws.append(["二、其他服务"])
    for i in range(rows):
        ws.append([f"服务项目{i}", f"{10 + i}元", "每次", "需提前一天预约，服务时间为工作日9:00-17:00"])
    ws.append(["注：以上价格均含税。"])
    wb.create_sheet("空白")
    calc = wb.create_sheet("Totals")
    calc.append(["Item", "Amount"])
    calc.append(["Sum", "=SUM(1,2)"])  # written by a program: never calculated
    wb.save(str(path))
    return path


def test_xlsx_rows_carry_their_headers_and_sheet(tmp_path: Path) -> None:
    path = _price_list(tmp_path / "收费标准.xlsx")
    chunks, warnings = read_document(path)
    prices = [c for c in chunks if c.section.startswith("收费标准")]
    assert len(prices) > 3 and all(len(c.text) <= 400 for c in chunks)
    parking = next(c for c in prices if "地下车位月卡" in c.text)
    assert "项目: 地下车位月卡; 单价: 300元; 计费方式: 每月; 说明: 含车位管理费" in parking.text
    assert parking.section == "收费标准 > 阳光花园2024年收费标准 > 一、停车"
    assert parking.kind == "doc" and parking.title == "收费标准" and parking.language == "zh"
    # every chunk of the long list is understandable alone: each row names its columns
    other = [c for c in prices if c.section.endswith("二、其他服务")]
    assert len(other) >= 2
    for c in other:
        assert all(line.startswith("项目: 服务项目") and "单价:" in line for line in c.text.split("\n"))
    assert any("以上价格均含税" in c.text for c in prices)
    assert not any("项目: 项目" in c.text for c in chunks)
    assert any(w.startswith("sheet '空白' is empty") for w in warnings)
    assert any("'Totals'" in w and "1 formula" in w for w in warnings)
    assert document_warnings(path) == warnings


def test_xlsx_merged_cells_fill_down_and_long_rows_repeat_the_label(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["楼栋", "单元", "管家电话"])
    ws.append(["1号楼", "1单元", "0532-80000001"])
    ws.append([None, "2单元", "0532-80000002"])
    ws.merge_cells("A2:A3")
    ws.append(["2号楼", "1单元", "详见公告。" * 60])  # one row longer than a chunk
    wb.save(str(tmp_path / "contacts.xlsx"))
    chunks = load_chunks(tmp_path / "contacts.xlsx", max_chars=200)
    lines = [line for c in chunks for line in c.text.split("\n")]
    assert "楼栋: 1号楼; 单元: 2单元; 管家电话: 0532-80000002" in lines
    long_row = [line for line in lines if "详见公告" in line]
    assert len(long_row) >= 2 and all(line.startswith("楼栋: 2号楼") for line in long_row)
    assert all(len(c.text) <= 200 for c in chunks)


def _blank_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_scanned_pdf_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(_blank_pdf())
    with pytest.raises(NoTextLayer) as info:
        load_chunks(path)
    assert isinstance(info.value, SourceError)
    assert "OCR" in str(info.value) and "2 page" in str(info.value) and "扫描件" in str(info.value)
    assert document_warnings(path) == [str(info.value)]


def test_partly_scanned_pdf_lists_the_pages_without_text(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(_minimal_pdf(["Parking rules", "Visitors park in zone B."]))).pages[0])
    writer.add_blank_page(width=612, height=792)
    writer.add_page(PdfReader(io.BytesIO(_minimal_pdf(["Bicycles go to the shed."]))).pages[0])
    writer.add_blank_page(width=612, height=792)
    path = tmp_path / "rules.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    chunks, warnings = read_document(path)
    assert [c.section for c in chunks if "zone B" in c.text] == ["p. 1"]
    assert any("shed" in c.text and c.section == "p. 3" for c in chunks)
    assert len(warnings) == 1 and warnings[0].startswith("pages 2, 4 have no text layer")
    assert document_warnings(tmp_path / "rules.pdf") == warnings


def test_gbk_text_and_faq_csv_sources(tmp_path: Path) -> None:
    (tmp_path / "通知.txt").write_bytes("电梯年检安排在周五上午。\n\n届时请走楼梯。\n".encode("gbk"))
    chunks, warnings = read_document(tmp_path / "通知.txt")
    assert "电梯年检" in chunks[0].text and warnings and "GBK" in warnings[0]
    # the desk's CSV export (bilingual, BOM) and a GBK one-language file are both FAQ sources
    (tmp_path / "export.csv").write_bytes(
        "\ufeffid,category,question_zh,answer_zh,question_en,answer_en\r\n"
        "gym,facilities,健身房几点开门？,每天6:00-22:00。,When does the gym open?,6:00-22:00 daily.\r\n".encode())
    (tmp_path / "gbk.csv").write_bytes("问题,答案\n会所能办生日会吗？,可以，需提前三天预约。\n".encode("gbk"))
    export = load_chunks(tmp_path / "export.csv")
    assert [(c.chunk_id, c.kind, c.language, c.category) for c in export] == [
        ("faq:gym@zh", "faq", "zh", "facilities"), ("faq:gym@en", "faq", "en", "facilities")]
    (gbk,) = load_chunks(tmp_path / "gbk.csv")
    assert gbk.faq_id == "gbk-1" and gbk.title == "会所能办生日会吗？"  # ids after the file, as before
    (tmp_path / "bad.csv").write_text("id,question,answer\nx,没有答案,\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"bad\.csv: row 2: question without an answer"):
        load_chunks(tmp_path / "bad.csv")


def test_discover_takes_xlsx_and_skips_office_lock_files(tmp_path: Path) -> None:
    _price_list(tmp_path / "fees.xlsx", rows=1)
    (tmp_path / "~$fees.xlsx").write_bytes(b"lock")
    _guide_docx(tmp_path / "guide.docx")
    (tmp_path / "~$guide.docx").write_bytes(b"lock")
    assert [f.name for f in discover([str(tmp_path)])] == ["fees.xlsx", "guide.docx"]
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(SourceError, match="broken.xlsx: cannot read"):
        load_chunks(tmp_path / "broken.xlsx")
