"""Reading each source format into chunks, and (re-)ingesting into an index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import store
from knowledge.chunking import split_long, split_sentences
from knowledge.records import citation
from knowledge.sources import SourceError, discover, load_chunks


def _minimal_pdf(lines: list) -> bytes:
    """A valid one-page PDF with Helvetica text (no PDF writer library needed)."""
    text = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({x}) Tj T*" for x in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """One file of every supported format."""
    tmp_path = tmp_path / "sources"
    tmp_path.mkdir()
    (tmp_path / "faq.csv").write_text(
        "id,question,answer,category,language\n"
        "gym,健身房几点开门？,会所健身房每天6:00-22:00开放。,facilities,zh\n"
        "gym,When does the gym open?,The clubhouse gym is open 6:00-22:00 daily.,facilities,en\n", encoding="utf-8")
    (tmp_path / "faq.yaml").write_text(
        "language: zh\nentries:\n  - id: wifi\n    question: 公共区域有无线网络吗？\n    answer: 会所大堂提供免费无线网络，名称为SG-Guest。\n",
        encoding="utf-8")
    (tmp_path / "faq.json").write_text(json.dumps([
        {"id": "bbq", "question": "Can we have a barbecue on the lawn?", "answer": "Barbecues are allowed only in the BBQ area next to Building 8."}
    ]), encoding="utf-8")
    (tmp_path / "rules.md").write_text(
        "# 会所管理规定\n\n## 第一章 总则\n\n第一条 为规范会所使用，制定本规定。\n\n"
        "第二条 会所仅向本小区业主开放。\n\n（一）业主凭门禁卡进入；\n\n（二）访客须由业主陪同。\n\n"
        "## 第二章 游泳池\n\n游泳池夏季开放。儿童须由成人陪同！\n", encoding="utf-8")
    (tmp_path / "notice.txt").write_text("Water tanks are cleaned every spring.\n\nThe cleaning takes one day.\n",
                                        encoding="utf-8")
    (tmp_path / "handbook.pdf").write_bytes(_minimal_pdf(["Residents Handbook", "Quiet hours start at 10 pm."]))
    import docx

    d = docx.Document()
    d.add_heading("Tenant Guide", level=1)
    d.add_paragraph("Tenants must register with the Service Centre within seven days of moving in.")
    d.save(str(tmp_path / "guide.docx"))
    (tmp_path / "ignored.bin").write_bytes(b"\x00")
    return tmp_path


def test_each_format_is_read(sources: Path) -> None:
    files = {f.name: f for f in discover([str(sources)])}
    assert set(files) == {"faq.csv", "faq.yaml", "faq.json", "rules.md", "notice.txt", "handbook.pdf", "guide.docx"}

    csv_chunks = load_chunks(files["faq.csv"])
    assert [(c.faq_id, c.language, c.kind) for c in csv_chunks] == [("gym", "zh", "faq"), ("gym", "en", "faq")]
    assert load_chunks(files["faq.yaml"])[0].text.startswith("会所大堂")
    json_chunk = load_chunks(files["faq.json"])[0]
    assert json_chunk.language == "en" and json_chunk.faq_id == "bbq"  # language detected when absent

    md = load_chunks(files["rules.md"])
    articles = [c for c in md if c.article]
    assert [c.article for c in articles] == ["第一条", "第二条"]
    assert "（二）访客须由业主陪同" in articles[1].text  # items stay with their article
    assert articles[1].section == "第一章 总则" and articles[1].title == "会所管理规定"
    assert citation(articles[1]) == "《会所管理规定》第二条"
    assert any("游泳池夏季开放" in c.text and c.section == "第二章 游泳池" for c in md)

    assert "Water tanks" in load_chunks(files["notice.txt"])[0].text
    pdf = load_chunks(files["handbook.pdf"])
    assert any("Quiet hours start at 10 pm" in c.text for c in pdf)
    docx_chunks = load_chunks(files["guide.docx"])
    assert any("seven days" in c.text and c.section == "Tenant Guide" for c in docx_chunks)


def test_bad_faq_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- question: 没有答案的问题\n", encoding="utf-8")
    with pytest.raises(SourceError, match="bad.yaml.*'answer'"):
        load_chunks(bad)


def test_chinese_sentences_and_long_paragraphs_are_split() -> None:
    assert split_sentences("第一句。第二句！Third one. Fourth?") == ["第一句。", "第二句！", "Third one.", "Fourth?"]
    pieces = split_long("这是一个句子。" * 100, max_chars=50)
    assert all(len(p) <= 50 for p in pieces) and "".join(pieces) == "这是一个句子。" * 100


def test_ingest_writes_index_and_reembeds_only_changed_files(sources: Path, tmp_path: Path,
                                                             embed_model_dir: Path) -> None:
    from knowledge.ingest import ingest

    index_dir = tmp_path / "index"
    first = ingest([str(sources)], index_dir, embed_model_dir, progress=False)
    assert first["files"] == 7 and first["embedded_chunks"] == first["chunks"] and first["index_type"] == "flat"
    stored = store.read(index_dir)
    assert stored.faiss_index.ntotal == len(stored.vectors) == first["vectors"]
    assert {c.language for c in stored.chunks} == {"zh", "en"}

    again = ingest([str(sources)], index_dir, embed_model_dir, progress=False)
    assert again["embedded_chunks"] == 0 and again["reused_files"] == 7

    (sources / "notice.txt").write_text("Water tanks are cleaned every autumn.\n", encoding="utf-8")
    changed = ingest([str(sources)], index_dir, embed_model_dir, progress=False)
    assert changed["embedded_chunks"] == 1 and changed["reused_files"] == 6
    texts = [c.text for c in store.read(index_dir).chunks]
    assert "Water tanks are cleaned every autumn." in texts and not any("spring" in t for t in texts)


def test_similar_questions_are_more_vectors_of_their_faq_entry(tmp_path: Path, embed_model_dir: Path) -> None:
    """A resident who words the question like a similar question finds the entry; a bad
    ``similar`` field is refused with the entry named."""
    from knowledge.embedding import get_embedder
    from knowledge.ingest import ingest
    from knowledge.retrieval import Retriever

    (tmp_path / "src").mkdir()
    entries = [{"id": "hours", "question": "What are the opening hours of the Service Centre?",
                "answer": "The Service Centre is open 8:30-18:00 every day.",
                "similar": ["When does the management office shut?", "When does the management office shut?", "  "]},
               {"id": "moving", "question": "Do I need to tell the office before moving?",
                "answer": "Register your move one day ahead; moving hours are 8:00-18:00."}]
    (tmp_path / "src" / "faq.json").write_text(json.dumps({"language": "en", "entries": entries}), encoding="utf-8")
    chunks = load_chunks(tmp_path / "src" / "faq.json")
    assert chunks[0].similar == ["When does the management office shut?"] and chunks[1].similar == []
    assert chunks[0].embed_texts() == ["passage: What are the opening hours of the Service Centre?\n"
                                       "The Service Centre is open 8:30-18:00 every day.",
                                       "passage: When does the management office shut?\n"
                                       "The Service Centre is open 8:30-18:00 every day."]
    out = ingest([str(tmp_path / "src")], tmp_path / "index", embed_model_dir, progress=False)
    assert out["chunks"] == 2 and out["vectors"] == 3
    stored = store.read(tmp_path / "index")
    embedder = get_embedder(embed_model_dir)
    qvec = embedder.query("When does the management office shut?")
    hit = Retriever(stored, embedder, "vector").search("", k=1, qvec=qvec)[0]
    first_vector = stored.vectors[list(stored.rows).index(0)]
    assert hit.chunk.faq_id == "hours" and hit.dense > float(first_vector @ qvec) + 0.02  # scored by its own vector
    own_passage = Retriever(stored, embedder, "vector").search("", k=2, qvec=qvec, primary_only=True)
    assert {h.chunk.faq_id: round(h.dense, 4) for h in own_passage}["hours"] == round(float(first_vector @ qvec), 4)

    (tmp_path / "bad.json").write_text(json.dumps([{"id": "x", "question": "q?", "answer": "a.", "similar": "q"}]),
                                       encoding="utf-8")
    with pytest.raises(SourceError, match="'x'.*similar"):
        load_chunks(tmp_path / "bad.json")
