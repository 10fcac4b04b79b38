"""FAQ tables in and out of the desk: CSV (UTF-8, BOM, GBK, UTF-16) and XLSX, both layouts, errors, round trips."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from knowledge.faq_io import (FaqEntry, FaqTableError, FaqText, entries_from_chunks, read_faq_table,
                              write_faq_table)
from knowledge.records import Chunk
from knowledge.sources import load_chunks

DEMO = Path(__file__).resolve().parents[2] / "knowledge" / "sources"


def _xlsx(sheets: dict, merges: dict = None) -> bytes:
    """A workbook with the given {sheet title: rows}; ``merges`` {title: ["A3:A4"]}."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for ref in (merges or {}).get(title, []):
            ws.merge_cells(ref)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_gbk_csv_with_chinese_headers_merges_languages_by_id() -> None:
    # What Excel on a Chinese Windows saves as "CSV (逗号分隔)": GBK, Chinese headers.
    text = ("编号,分类,问题,答案,语言\r\n"
            "gym,健身,健身房几点开门？,会所健身房每天6:00-22:00开放。,中文\r\n"
            "gym,健身,When does the gym open?,The gym is open 6:00-22:00 daily.,英文\r\n"
            ",,,,\r\n"  # an empty line is layout, not an error
            "park-1,停车,月卡多少钱？,\"每月300元，\n可按季度缴纳。\",zh\r\n")
    entries = read_faq_table("常见问题.csv", text.encode("gbk"))
    assert [e.faq_id for e in entries] == ["gym", "park-1"]
    gym = entries[0]
    assert gym.category == "健身" and gym.zh == FaqText("健身房几点开门？", "会所健身房每天6:00-22:00开放。")
    assert gym.en.question == "When does the gym open?"
    park = entries[1]
    assert park.category == "parking"  # a known display name becomes the category slug
    assert park.zh.answer == "每月300元，\n可按季度缴纳。" and park.en is None


def test_bilingual_headers_in_any_spelling_and_language_detection() -> None:
    text = ("\ufeffFAQ ID,Category,Question (ZH),中文答案,question_en,Answer EN\n"
            "pets-dog,Pets,可以养狗吗？,可以，须办理犬证。,Can I keep a dog?,\"Yes, with a dog licence.\"\n"
            "pets-cat,pets,,,Can I keep a cat?,Yes.\n")
    entries = read_faq_table("faq.csv", text.encode("utf-8"))
    assert entries == [
        FaqEntry("pets-dog", "pets", FaqText("可以养狗吗？", "可以，须办理犬证。"), FaqText("Can I keep a dog?", "Yes, with a dog licence.")),
        FaqEntry("pets-cat", "pets", None, FaqText("Can I keep a cat?", "Yes.")),
    ]
    # One-language rows without a language column: the language is detected per row.
    rows = read_faq_table("faq.csv", "问题,回答\n垃圾几点清运？,每天早晚各一次。\nWhen is trash collected?,Twice a day.\n".encode())
    assert [(e.zh is not None, e.en is not None) for e in rows] == [(True, False), (False, True)]


def test_excel_unicode_text_export_is_read() -> None:
    # Excel's "Unicode text" (UTF-16 with BOM, tab separated).
    text = "id\tquestion_zh\tanswer_zh\nwifi\t有无线网吗？\t大堂有免费无线网络，名称为SG-Guest。\n"
    (entry,) = read_faq_table("faq.csv", text.encode("utf-16"))
    assert entry.faq_id == "wifi" and entry.zh.answer.endswith("SG-Guest。")


def test_missing_ids_are_generated_from_the_category_and_stay_stable() -> None:
    text = ("类别,问题,答案\n"
            "parking,车位怎么租？,到服务中心办理。\n"
            "停车,访客车怎么停？,登记后停临时车位。\n"
            ",快递放哪里？,放在驿站。\n").encode()
    assert [e.faq_id for e in read_faq_table("faq.csv", text)] == ["parking-1", "parking-2", "faq-1"]
    assert read_faq_table("faq.csv", text) == read_faq_table("faq.csv", text)
    # an explicit id later in the file is not handed out again
    mixed = "编号,类别,问题,答案\n,parking,车位怎么租？,到服务中心办理。\nparking-1,parking,访客车怎么停？,登记。\n"
    assert [e.faq_id for e in read_faq_table("faq.csv", mixed.encode())] == ["parking-2", "parking-1"]
    # sources.py numbers rows after the file name instead, so two files never share an id
    assert [e.faq_id for e in read_faq_table("faq.csv", text, id_prefix="faq_b")] == ["faq_b-1", "faq_b-2", "faq_b-3"]


def test_all_row_errors_are_reported_together_with_row_numbers() -> None:
    text = ("社区常见问题（内部）\n"          # row 1: a title line above the header
            "编号,问题,答案,语言\n"            # row 2: header
            "a,物业费多少？,每月2.5元每平方米。,zh\n"
            "b,门禁卡丢了怎么办？,,zh\n"       # row 4: question without answer
            "c,,请拨打服务电话。,zh\n"         # row 5: answer without question
            "d,Wann ist das Büro offen?,Montags.,de\n"  # row 6: unknown language
            "a,物业费怎么交？,线上或前台缴纳。,zh\n")   # row 7: duplicate id + language
    with pytest.raises(FaqTableError) as info:
        read_faq_table("faq.csv", text.encode())
    rows = info.value.rows
    assert [n for n, _ in rows] == [4, 5, 6, 7]
    assert "without an answer" in rows[0][1] and "answer without a question" in rows[1][1]
    assert "'de'" in rows[2][1] and "zh or en" in rows[2][1]
    assert "duplicate id 'a' (zh)" in rows[3][1] and "row 3" in rows[3][1]
    assert "row 4:" in str(info.value)


def test_unrecognised_header_says_which_headers_are_accepted() -> None:
    with pytest.raises(FaqTableError) as info:
        read_faq_table("faq.csv", "名称,内容\n停车,每月300元\n".encode())
    (row, message), = info.value.rows
    assert row == 1 and "question_zh" in message and "问题" in message and "answer" in message
    with pytest.raises(FaqTableError, match=r"\.csv or \.xlsx"):
        read_faq_table("faq.txt", b"id,question,answer\n")
    with pytest.raises(FaqTableError, match="xlsx"):
        read_faq_table("faq.xlsx", b"not a zip file")


def test_xlsx_named_sheet_title_row_merged_category_and_numbers() -> None:
    data = _xlsx({
        "说明": [["请在“常见问题”表中填写"]],
        "常见问题": [
            ["阳光花园常见问题"],
            ["序号", "编号", "类别", "中文问题", "中文答案", "英文问题", "英文答案"],
            [1, 101, "停车", "月卡多少钱？", "每月300元。", "How much is a monthly pass?", "300 yuan a month."],
            [2, 102, None, "临时停车怎么收费？", "首小时免费，之后每小时5元。", None, None],
            [3, 103.0, "宠物", "可以养狗吗？", "可以。", None, None],
        ],
    }, merges={"常见问题": ["C3:C4"]})
    entries = read_faq_table("FAQ.xlsx", data)
    assert [(e.faq_id, e.category) for e in entries] == [("101", "parking"), ("102", "parking"), ("103", "pets")]
    assert entries[0].en == FaqText("How much is a monthly pass?", "300 yuan a month.")
    assert entries[1].en is None and entries[1].zh.answer.startswith("首小时免费")
    with pytest.raises(FaqTableError) as info:  # the same sheet with an error: spreadsheet row numbers
        read_faq_table("FAQ.xlsx", _xlsx({"FAQ": [["id", "question", "answer"], ["x", "问题", None]]}))
    assert info.value.rows[0][0] == 2


TRICKY = [
    FaqEntry("fees-rate", "fees", FaqText("物业费怎么收？", "每月每平方米2.5元，\n按建筑面积计算。"),
             FaqText("How are fees charged?", 'CNY 2.5 per m², "gross" area; see notice, p. 2.')),
    FaqEntry("formula", "", FaqText("=1+1 是什么？", "+86 0532-1234567"), None),
    FaqEntry("en-only", "contacts", None, FaqText("-Office hours?", "@front desk: 8:30-17:30")),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_written_table_reads_back_to_the_same_entries(fmt: str) -> None:
    data = write_faq_table(TRICKY, fmt)
    assert read_faq_table(f"faq.{fmt}", data) == TRICKY
    assert write_faq_table([], fmt) and read_faq_table(f"faq.{fmt}", write_faq_table([], fmt)) == []


SIMILAR = [
    FaqEntry("fees-rate", "fees",
             FaqText("物业费怎么收？", "每月每平方米2.5元。", ("物业费多少钱一平？", "=物业费标准是多少？")),
             FaqText("How are fees charged?", "CNY 2.5 per m².", ("What is the service charge?",))),
    FaqEntry("zh-only", "", FaqText("快递放哪里？", "放在驿站。", ("快递柜在哪",)), None),
    FaqEntry("plain", "pets", FaqText("可以养狗吗？", "可以。"), FaqText("Can I keep a dog?", "Yes.")),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_similar_questions_round_trip_one_per_line(fmt: str) -> None:
    data = write_faq_table(SIMILAR, fmt)
    assert read_faq_table(f"faq.{fmt}", data) == SIMILAR
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert '"\'=物业费标准是多少？' not in text  # only a cell's first line could start a formula
        assert '"物业费多少钱一平？\n=物业费标准是多少？"' in text
    else:
        ws = load_workbook(io.BytesIO(data)).active
        assert ws["G2"].value == "物业费多少钱一平？\n=物业费标准是多少？" and ws["H2"].value == "What is the service charge?"
        assert ws["G4"].value in (None, "")


def test_tables_without_similar_columns_still_read() -> None:
    # an export from before similar questions existed
    old = ("\ufeffid,category,question_zh,answer_zh,question_en,answer_en\r\n"
           "gym,facilities,健身房几点开门？,每天6:00-22:00。,When does the gym open?,6:00-22:00 daily.\r\n")
    (entry,) = read_faq_table("faq.csv", old.encode())
    assert entry.zh == FaqText("健身房几点开门？", "每天6:00-22:00。") and entry.zh.similar == () and entry.en.similar == ()
    # headers in other spellings; blank lines and spaces around each question are dropped
    data = _xlsx({"FAQ": [
        ["编号", "中文问题", "中文答案", "相似问法（中文）", "英文问题", "英文答案", "Similar questions (EN)"],
        ["gym", "健身房几点开门？", "每天6:00-22:00。", " 健身房开放时间\n\n 几点能去健身 ", "When does the gym open?",
         "6:00-22:00 daily.", None],
    ]})
    (entry,) = read_faq_table("faq.xlsx", data)
    assert entry.zh.similar == ("健身房开放时间", "几点能去健身") and entry.en.similar == ()


def test_one_language_rows_take_a_plain_similar_column() -> None:
    text = ("编号,问题,答案,相似问法,语言\n"
            'gym,健身房几点开门？,每天6:00-22:00。,"健身房开放时间\n几点能去健身",zh\n'
            "gym,When does the gym open?,6:00-22:00 daily.,Gym opening hours,en\n"
            "pool,泳池开放吗？,夏季开放。,,zh\n")
    gym, pool = read_faq_table("faq.csv", text.encode("gbk"))
    assert gym.zh.similar == ("健身房开放时间", "几点能去健身") and gym.en.similar == ("Gym opening hours",)
    assert pool.zh == FaqText("泳池开放吗？", "夏季开放。")
    # similar questions need the question and answer of their language
    with pytest.raises(FaqTableError) as info:
        read_faq_table("faq.csv", "id,question,answer,similar\nx,,,另一种问法\n".encode())
    (row, message), = info.value.rows
    assert row == 2 and "similar questions without a question" in message


def test_csv_export_opens_in_excel() -> None:
    data = write_faq_table(TRICKY, "csv")
    assert data.startswith(b"\xef\xbb\xbfid,category,question_zh,answer_zh,question_en,answer_en,similar_zh,similar_en\r\n")
    text = data.decode("utf-8-sig")
    assert "'=1+1" in text and "'+86" in text and "'@front" in text  # Excel would run these as formulas


def test_xlsx_export_has_a_bold_header_and_no_formulas() -> None:
    ws = load_workbook(io.BytesIO(write_faq_table(TRICKY, "xlsx"))).active
    header = [c for c in ws[1]]
    assert [c.value for c in header] == ["id", "category", "question_zh", "answer_zh", "question_en", "answer_en",
                                         "similar_zh", "similar_en"]
    assert all(c.font.b for c in header)
    assert ws["C3"].value == "=1+1 是什么？" and ws["C3"].data_type == "s"
    # a control character pasted from Word would make openpyxl refuse the whole export
    pasted = [FaqEntry("x", "", FaqText("停车\x0b怎么办？", "见公告"), None)]
    assert read_faq_table("faq.xlsx", write_faq_table(pasted, "xlsx"))[0].zh.question == "停车怎么办？"


def test_entries_from_chunks_groups_the_demo_faq_by_id() -> None:
    chunks = load_chunks(DEMO / "faq_zh.yaml") + load_chunks(DEMO / "faq_en.yaml")
    doc = Chunk(chunk_id="doc:x#0", source="x.md", kind="doc", text="正文", language="zh")
    entries = entries_from_chunks([doc] + chunks)
    assert len(entries) == 49 and all(e.zh and e.en for e in entries)
    first = entries[0]
    assert first.faq_id == chunks[0].faq_id and first.category == chunks[0].category
    assert first.zh == FaqText(chunks[0].title, chunks[0].text, tuple(chunks[0].extra.get("similar", ())))
    # the desk's export of the demo reads back unchanged
    assert read_faq_table("faq.xlsx", write_faq_table(entries, "xlsx")) == entries
    assert entries_from_chunks([c.to_dict() for c in chunks]) == entries
