"""The knowledge base's content store: seeding, FAQ entries, documents, first-run setup (SQLite + PostgreSQL)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from knowledge.content import ContentError, ContentStore, Exists, NotFound, UnreadableDocument, UnsupportedDocument
from knowledge.faq_io import FaqEntry, FaqText
from knowledge.setup import customise, demo_facts, make_empty
from knowledge.versions import VersionStore
from tests.knowledge_desk.kb_fixtures import DEMO, REGULATION_MD, REGULATION_NAME, kb_db, synthetic_index  # noqa: F401
from tests.knowledge_desk.kb_fixtures import tiny_index, tiny_sources  # noqa: F401


def _store(kb_db) -> ContentStore:  # type: ignore[no-untyped-def]
    engine, cfg = kb_db
    return ContentStore(engine, cfg)


def test_seeding_copies_the_active_version_once_and_marks_the_demo(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    assert content.ensure_seeded() is True
    entries, total = content.list_faq(limit=500)
    assert total == 49 and all(e.demo and e.zh and e.en for e in entries)
    parking = content.get_faq("parking-visitor")
    assert parking.category == "parking" and "访客" in parking.zh.question and parking.en.question.startswith("Can")
    [document] = content.list_documents()
    assert document.filename == REGULATION_NAME and document.kind == "md" and document.chunks == 2
    assert content.document_content(document.id)[1].decode("utf-8") == REGULATION_MD  # the original file
    active = VersionStore(content.engine).active_id()
    assert content.status(active) == {"dirty": False, "revision": 0, "indexed_revision": 0, "demo": True}

    # Deleting everything stays deleted: seeding never happens again, in this process or another.
    make_empty(content, "editor1")
    again = ContentStore(*kb_db)
    assert again.ensure_seeded() is False
    assert again.list_faq() == ([], 0) and again.list_documents() == [] and again.has_demo() is False
    assert again.status(active)["dirty"] is True and again.state().profile["mode"] == "empty"


def test_a_document_missing_on_this_machine_is_rebuilt_from_its_chunks(kb_db, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                        embed_model_dir: Path) -> None:
    engine, cfg = kb_db
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "小区公约.txt").write_text("第一条 业主应当遵守本公约。\n\n第二条 禁止高空抛物。\n", encoding="utf-8")
    synthetic_index([gone / "小区公约.txt"], tmp_path / "other-index", embed_model_dir)
    versions = VersionStore(engine)
    versions.activate(versions.publish(tmp_path / "other-index").version.id)
    (gone / "小区公约.txt").unlink()

    content = ContentStore(engine, cfg)
    [document] = content.list_documents()
    assert document.filename == "小区公约.md" and document.kind == "md" and "rebuilt from the index" in document.warnings[0]
    _, chunks = content.document_chunks(document.id)
    assert [c.article for c in chunks] == ["第一条", "第二条"] and "高空抛物" in chunks[1].text
    assert content.list_faq() == ([], 0)


def test_faq_entries_are_created_searched_edited_and_deleted(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    created = content.create_faq(FaqEntry("", "parking", zh=FaqText(" 充电桩在哪？ ", "地下车库B区。")), "wang")
    assert created.faq_id == "parking-1" and created.zh.question == "充电桩在哪？" and created.en is None
    assert created.demo is False and created.updated_by == "wang" and content.state().revision == 1
    with pytest.raises(Exists):
        content.create_faq(FaqEntry("parking-1", "parking", en=FaqText("Where?", "There.")), "wang")
    for bad in (FaqEntry("has space", "x", zh=FaqText("q", "a")), FaqEntry("ok", "x"),
                FaqEntry("ok", "x", zh=FaqText("", "a")), FaqEntry("a/b", "x", zh=FaqText("q", "a")),
                FaqEntry("ok", "x" * 65, zh=FaqText("q", "a")), FaqEntry("ok", "x", en=FaqText("q", "a" * 9000))):
        with pytest.raises(ContentError):
            content.create_faq(bad, "wang")
    assert content.state().revision == 1  # refusals change nothing

    # q searches questions and answers of both languages; language=en: entries with an English version
    assert [e.faq_id for e in content.list_faq(q="B区")[0]] == ["parking-ev-charging", "parking-1"]
    assert [e.faq_id for e in content.list_faq(q="LOST PET")[0]] == ["pets-lost"]
    assert content.list_faq(category="parking", language="en")[1] == 5
    assert content.list_faq(category="parking", language="zh")[1] == 6
    assert "parking" in content.categories() and content.list_faq(limit=2, offset=48)[0][1].faq_id == "parking-1"

    edited = content.update_faq("fees-rate", FaqEntry("ignored", "fees", zh=FaqText("物业费多少？", "每月3元每平方米。"),
                                                      en=FaqText("Fee?", "3 yuan.")), "li")
    assert edited.faq_id == "fees-rate" and edited.demo is False and edited.updated_by == "li"
    assert content.get_faq("fees-rate").zh.answer == "每月3元每平方米。" and content.has_demo()
    with pytest.raises(NotFound):
        content.update_faq("nope", FaqEntry("nope", "", zh=FaqText("q", "a")), "li")
    content.delete_faq("parking-1")
    with pytest.raises(NotFound):
        content.get_faq("parking-1")
    with pytest.raises(NotFound):
        content.delete_faq("parking-1")
    assert content.state().revision == 3 and content.status(VersionStore(content.engine).active_id())["dirty"]


def test_an_import_merges_or_replaces_and_a_bad_entry_changes_nothing(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    content.ensure_seeded()
    bad = [FaqEntry("new-1", "x", zh=FaqText("问", "答")), FaqEntry("bad id", "x", zh=FaqText("问", "答"))]
    with pytest.raises(ContentError) as refused:
        content.import_faq(bad, "merge", "wang")
    assert refused.value.errors[0][1].startswith("id 'bad id'")
    assert content.list_faq()[1] == 49 and content.state().revision == 0

    merged = content.import_faq([FaqEntry("fees-rate", "fees", zh=FaqText("物业费？", "3元。")),
                                 FaqEntry("new-1", "garbage", en=FaqText("Bins?", "At the gate."))], "merge", "wang")
    assert merged == {"created": 1, "updated": 1, "deleted": 0, "errors": []}
    assert content.get_faq("fees-rate").en is None and content.list_faq()[1] == 50
    replaced = content.import_faq([FaqEntry("new-1", "garbage", zh=FaqText("垃圾？", "门口。"))], "replace", "wang")
    assert replaced == {"created": 0, "updated": 1, "deleted": 49, "errors": []}
    assert [e.faq_id for e in content.all_faq()] == ["new-1"] and not content.has_demo()
    with pytest.raises(ContentError):
        content.import_faq([], "overwrite", "wang")


def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_documents_are_checked_on_upload_replaced_and_deleted(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    rules = "# 小区公约\n\n## 第一章 总则\n\n第一条 禁止高空抛物。\n\n第二条 宠物须牵绳。\n".encode("utf-8")
    added = content.add_document("C:\\Users\\wang\\小区公约.md", rules, "wang")
    assert (added.filename, added.kind, added.chunks, added.uploaded_by) == ("小区公约.md", "md", 2, "wang")
    info, chunks = content.document_chunks(added.id)
    assert [c.article for c in chunks] == ["第一条", "第二条"] and chunks[0].section == "第一章 总则"
    with pytest.raises(Exists):
        content.add_document("小区公约.MD", rules, "li")
    with pytest.raises(UnsupportedDocument):
        content.add_document("virus.exe", b"MZ", "li")
    with pytest.raises(UnreadableDocument) as scanned:
        content.add_document("scan.pdf", _blank_pdf(), "li")
    assert scanned.value.code == "no_text_layer" and "OCR" in str(scanned.value)
    with pytest.raises(UnreadableDocument) as empty:
        content.add_document("empty.txt", b"  \n\n ", "li")
    assert empty.value.code == "empty_document"
    with pytest.raises(UnreadableDocument):
        content.add_document("broken.docx", b"not a zip", "li")
    for name in ("", ".hidden.md", "a" * 300 + ".md"):
        with pytest.raises(ContentError):
            content.add_document(name, rules, "li")

    replaced = content.replace_document(added.id, "公约2.txt", "第一条 新规定。".encode("utf-8"), "li")
    assert (replaced.id, replaced.filename, replaced.kind, replaced.chunks) == (added.id, "公约2.txt", "txt", 1)
    with pytest.raises(Exists):
        content.replace_document(added.id, REGULATION_NAME, rules, "li")
    content.delete_document(added.id)
    assert [d.filename for d in content.list_documents()] == [REGULATION_NAME]
    with pytest.raises(NotFound):
        content.delete_document(added.id)


def test_upload_size_limit(kb_db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from knowledge.content import TooLarge

    monkeypatch.setenv("LINLI_KB_MAX_UPLOAD_MB", "0.01")  # 10 KiB
    content = _store(kb_db)
    content.add_document("small.txt", "短文本。".encode("utf-8") * 100, "wang")
    with pytest.raises(TooLarge):
        content.add_document("large.txt", b"x" * 20_000, "wang")


# ---------------------------------------------------------------- first-run setup
DEMO_PHONE = re.compile(r"0571-\d{4} \d{4}")
DEMO_EMAIL = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9-]+\.example")


def test_demo_facts_name_every_invented_fact_of_the_demo_faq() -> None:
    facts = demo_facts()
    text = {lang: (DEMO / f"faq_{lang}.yaml").read_text(encoding="utf-8") for lang in ("zh", "en")}
    assert {p["number"] for p in facts["phones"]} == set(DEMO_PHONE.findall(text["zh"] + text["en"]))
    assert all(p["zh"] and p["en"] for p in facts["phones"])
    assert set(DEMO_EMAIL.findall(text["zh"] + text["en"])) == {facts["email"]}
    for lang in ("zh", "en"):
        body = yaml.safe_load(text[lang])["entries"]
        answers = " ".join(e["question"] + " " + e["answer"] for e in body)
        assert facts["community_name"][lang] in answers and facts["office_hours"][lang] in answers


def _profile() -> dict:
    facts = demo_facts()
    return {"community_name_zh": "翠湖苑", "community_name_en": "Green Lake Court",
            "office_hours_zh": "工作日9:00-17:30办公", "office_hours_en": "open 9:00-17:30 on working days",
            "phones": {p["number"]: f"010-6{n:03d} 000{n}" for n, p in enumerate(facts["phones"], 1)},
            "email": "help@greenlake.example"}


def test_customise_replaces_the_demo_facts_everywhere_in_both_languages(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    content.ensure_seeded()
    facts, profile = demo_facts(), _profile()
    result = customise(content, profile, "admin")
    assert result["deleted"] == 0 and result["replaced"] == 14
    everything = " ".join(f"{e.zh.question} {e.zh.answer} {e.en.question} {e.en.answer}" for e in content.all_faq())
    for demo in [p["number"] for p in facts["phones"]] + [facts["email"], "阳光花园", "Sunshine Garden",
                                                          facts["office_hours"]["zh"], facts["office_hours"]["en"]]:
        assert demo not in everything
    contacts = content.get_faq("contacts-office-hours")
    assert "工作日9:00-17:30办公" in contacts.zh.answer and "open 9:00-17:30 on working days" in contacts.en.answer
    assert "010-6001 0001" in contacts.zh.answer and "Green Lake Court" in content.get_faq("fees-rate").en.answer
    assert "help@greenlake.example" in content.get_faq("complaints-how").en.answer
    assert not content.has_demo() and content.state().profile["community_name_en"] == "Green Lake Court"


def test_customise_refuses_incomplete_answers_and_changes_nothing(kb_db) -> None:  # type: ignore[no-untyped-def]
    content = _store(kb_db)
    content.ensure_seeded()
    for change in ({"community_name_zh": ""}, {"office_hours_en": None}, {"community_name_en": "two\nlines"},
                   {"phones": {"0571-8765 4300": "010-1"}}, {"phones": "010-1234"},
                   {"phones": {**_profile()["phones"], "110": "120"}}, {"email": "not an address"}):
        with pytest.raises(ContentError):
            customise(content, {**_profile(), **change}, "admin")
    assert content.has_demo() and content.state().revision == 0 and content.state().profile is None


def test_similar_questions_are_stored_checked_searched_and_staged(kb_db) -> None:  # type: ignore[no-untyped-def]
    from knowledge.content import MAX_SIMILAR, entry_from_json
    from knowledge.faq_io import chunks_from_entries
    from knowledge.staging import faq_yaml

    content = _store(kb_db)
    content.ensure_seeded()
    seeded = content.get_faq("fees-rate")  # the demo FAQ's similar questions survive seeding
    assert len(seeded.zh.similar) >= 3 and len(seeded.en.similar) >= 3
    entry = entry_from_json({"category": "parking",
                             "zh": {"question": "充电桩在哪？", "answer": "地下车库B区。",
                                    "similar": [" 哪里能给电动车充电 ", "充电桩在哪？", "", "哪里能给电动车充电"]}})
    created = content.create_faq(entry, "wang")
    assert created.zh.similar == ("哪里能给电动车充电",)  # trimmed; duplicates, blanks and the question dropped
    assert created.to_dict()["zh"]["similar"] == ["哪里能给电动车充电"]
    assert [e.faq_id for e in content.list_faq(q="电动车充电")[0]] == [created.faq_id]
    revision = content.state().revision
    for bad in ({"question": "q", "answer": "a", "similar": "一个问题"},
                {"question": "q", "answer": "a", "similar": [f"问题{i}" for i in range(MAX_SIMILAR + 1)]},
                {"question": "q", "answer": "a", "similar": [{"q": 1}]}):
        with pytest.raises(ContentError):
            content.update_faq(created.faq_id, entry_from_json({"category": "parking", "zh": bad}), "wang")
    assert content.state().revision == revision and content.get_faq(created.faq_id).zh.similar == ("哪里能给电动车充电",)

    staged = yaml.safe_load(faq_yaml(content.get_faq(created.faq_id)).decode("utf-8"))
    assert staged["entries"][0]["similar"] == ["哪里能给电动车充电"]
    [chunk] = chunks_from_entries([content.get_faq(created.faq_id).entry()], "desk")
    assert chunk.similar == ["哪里能给电动车充电"] and len(chunk.embed_texts()) == 2
