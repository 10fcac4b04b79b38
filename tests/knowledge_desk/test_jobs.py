"""Re-index jobs from the content store (SQLite + PostgreSQL): a real build, one job at a time, crashes."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Tuple

import pytest
from sqlalchemy import update

from knowledge import store
from knowledge.content import ContentStore
from knowledge.content_tables import kb_documents, kb_jobs
from knowledge.faq_io import FaqEntry, FaqText
from knowledge.jobs import JobRunning, Reindexer
from knowledge.versions import VersionStore
from tests.knowledge_desk.kb_fixtures import kb_db  # noqa: F401
from tests.knowledge_desk.kb_fixtures import tiny_index, tiny_sources  # noqa: F401


def _reindexer(kb_db, tmp_path: Path) -> Reindexer:  # type: ignore[no-untyped-def]
    engine, cfg = kb_db
    return Reindexer(ContentStore(engine, cfg), cfg, workdir=tmp_path / "work")


def _embedded(job) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r"(\d+) embedded now", job.message).group(1))


def _served(reindexer: Reindexer) -> store.StoredIndex:
    versions = VersionStore(reindexer.engine)
    return store.read(versions.materialise(versions.active_id(), reindexer.cfg.path(reindexer.cfg.version_cache)),
                      with_faiss=False)


def test_a_reindex_builds_the_content_and_embeds_only_what_changed(kb_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reindexer = _reindexer(kb_db, tmp_path)
    content, versions = reindexer.content, VersionStore(reindexer.engine)
    seeded_version = versions.active_id()
    updates: List[Tuple[str, str, float]] = []
    first = reindexer.run("wang", "first", on_update=lambda j: updates.append((j.status, j.stage, j.progress)))
    assert first.status == "done" and first.version_id == versions.active_id() != seeded_version
    assert _embedded(first) == 0  # a new build folder starts warm from the seeded version
    stages = [stage for _, stage, _ in updates]
    assert stages[0] == "staging" and stages[-1] == "done" and "publishing" in stages
    assert [p for _, _, p in updates] == sorted(p for _, _, p in updates) and updates[-1][2] == 1.0
    served = _served(reindexer)
    assert len(served.chunks) == 98 + 2 and not content.status(versions.active_id())["dirty"]
    assert all(str(reindexer.workdir / "staging") in c.source for c in served.chunks)

    content.update_faq("parking-visitor", FaqEntry("parking-visitor", "parking",
                                                   zh=FaqText("访客车辆可以进小区停车吗？", "访客车辆请停在东门访客车位，前1小时免费。"),
                                                   en=FaqText("Can visitors park?", "Visitors park at the East Gate.")),
                       "wang")
    assert content.status(versions.active_id())["dirty"]
    second = reindexer.run("wang", "edit")
    assert second.status == "done" and _embedded(second) == 2 and second.version_id != first.version_id
    texts = {c.chunk_id: c.text for c in _served(reindexer).chunks}
    assert texts["faq:parking-visitor@zh"] == "访客车辆请停在东门访客车位，前1小时免费。"
    assert not content.status(versions.active_id())["dirty"]

    # A restore serves the older version: the content is now not what is served.
    versions.activate(first.version_id)
    assert content.status(versions.active_id())["dirty"]
    # Re-indexing unchanged content serves the version already built from it.
    third = reindexer.run("wang", "again")
    assert third.version_id == second.version_id and versions.active_id() == second.version_id
    assert [j.id for j in reindexer.jobs.latest(5)] == [third.id, second.id, first.id]


def test_an_empty_knowledge_base_builds_an_empty_version(kb_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from knowledge.answer import Answerer
    from knowledge.setup import make_empty

    reindexer = _reindexer(kb_db, tmp_path)
    make_empty(reindexer.content, "admin")
    job = reindexer.run("admin", "empty")
    assert job.status == "done"
    version = VersionStore(reindexer.engine).get(job.version_id)
    assert version.n_chunks == 0 and version.active
    cfg = reindexer.cfg.with_overrides(generator="extractive")
    answer = Answerer(cfg, VersionStore(reindexer.engine).materialise(job.version_id, cfg.path(cfg.version_cache)))
    assert answer.ask("物业费怎么交？", log_unanswered=False).abstained


def test_one_job_at_a_time_and_a_stale_job_counts_as_failed(kb_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reindexer = _reindexer(kb_db, tmp_path)
    jobs, content = reindexer.jobs, reindexer.content
    held = jobs.claim(content, "wang", "held")
    assert held.status == "queued" and jobs.current(content).id == held.id
    with pytest.raises(JobRunning) as running:
        jobs.claim(content, "li", "second")
    assert running.value.job.id == held.id

    # Two servers asking at once: exactly one gets the slot.
    jobs.finish(held.id, 1, "done")
    won, lost = [], []

    def ask(name: str) -> None:
        try:
            won.append(Reindexer(ContentStore(*kb_db), kb_db[1], workdir=tmp_path / name).jobs.claim(
                ContentStore(*kb_db), name, "race"))
        except JobRunning as exc:
            lost.append(exc.job)

    threads = [threading.Thread(target=ask, args=(f"server{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 3 and {j.id for j in lost} == {won[0].id}

    # Its server crashed: no heartbeat for over two minutes.
    old = datetime.now(timezone.utc) - timedelta(minutes=3)
    with reindexer.engine.begin() as conn:
        conn.execute(update(kb_jobs).where(kb_jobs.c.id == won[0].id).values(status="running", heartbeat_at=old))
    stale = jobs.get(won[0].id)
    assert stale.status == "failed" and "stopped" in stale.message
    fresh = jobs.claim(content, "li", "after the crash")
    assert fresh.status == "queued"
    with reindexer.engine.connect() as conn:
        assert conn.execute(kb_jobs.select().where(kb_jobs.c.id == won[0].id)).mappings().one()["status"] == "failed"


def test_a_failing_build_is_recorded_and_frees_the_slot(kb_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reindexer = _reindexer(kb_db, tmp_path)
    content = reindexer.content
    document = content.add_document("手册.docx", _docx(), "wang")
    with reindexer.engine.begin() as conn:  # damaged in storage after upload
        conn.execute(update(kb_documents).where(kb_documents.c.id == document.id)
                     .values(content=b"not a docx", sha256="0" * 64))
    served = VersionStore(reindexer.engine).active_id()
    job = reindexer.run("wang", "broken")
    assert job.status == "failed" and "手册.docx" in job.message and "re-index" in job.message
    assert VersionStore(reindexer.engine).active_id() == served  # still serving the last good version
    content.delete_document(document.id)
    assert reindexer.run("wang", "fixed").status == "done"


def test_a_background_job_runs_to_done(kb_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import time

    reindexer = _reindexer(kb_db, tmp_path)
    job = reindexer.start("wang", "from the desk")
    assert job.status == "queued"
    deadline = time.monotonic() + 120
    while reindexer.jobs.get(job.id).active and time.monotonic() < deadline:
        time.sleep(0.2)
    done = reindexer.jobs.get(job.id)
    assert done.status == "done" and done.progress == 1.0 and done.version_id == VersionStore(reindexer.engine).active_id()


def _docx() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_heading("住户手册", level=1)
    document.add_paragraph("第一条 垃圾请分类投放。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_ingest_reports_its_stages(tmp_path: Path, embed_model_dir: Path) -> None:
    from knowledge.ingest import ingest

    (tmp_path / "src").mkdir()
    for n in range(3):
        (tmp_path / "src" / f"doc{n}.md").write_text(f"# 文档{n}\n\n第一条 内容{n}。\n", encoding="utf-8")
    seen: List[Tuple[str, float]] = []
    result = ingest([str(tmp_path / "src")], tmp_path / "index", embed_model_dir, progress=False,
                    on_progress=lambda stage, fraction: seen.append((stage, fraction)))
    assert result["embedded_chunks"] == 3
    assert [s for s, _ in seen] == ["reading"] * 3 + ["embedding", "embedding", "indexing", "writing"]
    assert [f for s, f in seen if s == "reading"] == [0.0, 1 / 3, 2 / 3]
