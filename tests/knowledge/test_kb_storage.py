"""Index versions and unanswered questions in the database (SQLite and PostgreSQL).

The index folders here are small synthetic ones (random vectors): these tests are about
storage, versioning and the command line, not retrieval, so they need no embedding model.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Dict, Iterator, List

import numpy as np
import pytest
from sqlalchemy import select, update

from knowledge import store, versions
from knowledge.cli import main
from knowledge.index import build_index
from knowledge.records import Chunk
from knowledge.tables import get_engine, kb_version_files
from knowledge.unanswered import UnansweredStore, record
from knowledge.versions import VersionError, VersionStore
from tests.knowledge.kb_databases import BACKENDS, database


def make_index(folder: Path, n: int = 4, seed: int = 0, built_at: str = "2026-12-01T00:00:00Z") -> Path:
    """A complete index folder of ``n`` FAQ chunks with random unit vectors."""
    rng = np.random.default_rng(seed)
    chunks = [Chunk(chunk_id=f"faq-{seed}-{i}", source="faq.yaml", kind="faq", text=f"答案{seed}-{i}",
                    language="zh", title=f"问题{seed}-{i}", faq_id=f"faq-{seed}-{i}") for i in range(n)]
    vectors = rng.normal(size=(n, 384)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = {"format": store.FORMAT_VERSION, "embed_model": "/models/multilingual-e5-small", "dim": 384,
                "index_type": "flat", "n_chunks": n, "n_vectors": n, "built_at": built_at,
                "files": {"/src/faq.yaml": {"sha256": f"{seed}", "chunks": [c.chunk_id for c in chunks]}}}
    faiss_index = build_index(vectors, "flat", use_gpu=False)
    store.write(folder, store.StoredIndex(chunks, vectors, np.arange(n, dtype="int32"), [[c.title] for c in chunks],
                                          manifest, faiss_index))
    return folder


def file_digests(folder: Path) -> Dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in versions.INDEX_FILES}


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """The process-wide engine (bot.db) on a new, empty database of each backend."""
    with database(request.param, tmp_path) as url:
        yield get_engine(url)


def test_publish_stores_each_content_once_and_activation_is_one_pointer(engine, tmp_path: Path) -> None:
    store_ = VersionStore(engine)
    assert store_.active_id() is None and store_.list() == []
    first = store_.publish(make_index(tmp_path / "a"), note="first")
    assert first.created and first.activated and store_.active_id() == first.version.id
    assert first.version.n_chunks == 4 and first.version.sources == [{"source": "/src/faq.yaml", "chunks": 4}]

    # The same sources rebuilt later (another build time): no second version, no activation change.
    again = store_.publish(make_index(tmp_path / "a2", built_at="2026-12-02T08:00:00Z"))
    assert not again.created and not again.activated and again.version.id == first.version.id

    second = store_.publish(make_index(tmp_path / "b", n=6, seed=1), activate=False)
    assert second.created and not second.activated and store_.active_id() == first.version.id
    assert [(v.id, v.active) for v in store_.list()] == [(second.version.id, False), (first.version.id, True)]

    store_.activate(second.version.id)
    assert store_.active_id() == second.version.id and store_.get(second.version.id).active
    # Re-publishing the old content is not a restore (that is `activate`): v2 stays active.
    assert not store_.publish(tmp_path / "a").activated and store_.active_id() == second.version.id
    with pytest.raises(VersionError, match="no knowledge-base version 999"):
        store_.activate(999)
    with pytest.raises(VersionError, match="is active"):
        store_.delete(second.version.id)
    store_.activate(first.version.id)
    store_.delete(second.version.id)
    assert [v.id for v in store_.list()] == [first.version.id]
    with engine.connect() as conn:
        assert conn.execute(select(kb_version_files.c.part).where(
            kb_version_files.c.version_id == second.version.id)).all() == []


def test_materialise_restores_the_folder_byte_for_byte_from_a_multi_part_archive(
        engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "PART_BYTES", 16 * 1024)  # several parts even for a small index
    source = make_index(tmp_path / "src", n=60, seed=3)
    published = VersionStore(engine).publish(source).version
    assert published.parts > 1 and published.archive_bytes > 16 * 1024

    replica_a, replica_b = VersionStore(engine), VersionStore(engine)
    path_a = replica_a.materialise(published.id, tmp_path / "cache_a")
    path_b = replica_b.materialise(published.id, tmp_path / "cache_b")
    assert file_digests(path_a) == file_digests(source) == file_digests(path_b)
    assert path_a.name == f"v{published.id}-{published.checksum[:16]}"
    assert [c.chunk_id for c in store.read(path_a).chunks] == [c.chunk_id for c in store.read(source).chunks]
    assert replica_a.materialise(published.id, tmp_path / "cache_a") == path_a  # cached: no second download
    assert sorted(p.name for p in (tmp_path / "cache_a").iterdir()) == [path_a.name]  # no temp folders left

    with engine.begin() as conn:  # a damaged part must never be served
        conn.execute(update(kb_version_files).where(kb_version_files.c.version_id == published.id,
                                                    kb_version_files.c.part == 1).values(data=b"\0" * 100))
    with pytest.raises(ValueError, match="damaged"):
        replica_a.materialise(published.id, tmp_path / "cache_c")
    assert list((tmp_path / "cache_c").iterdir()) == []


def test_two_replicas_publishing_the_same_index_at_once_make_one_version(engine, tmp_path: Path) -> None:
    folder = make_index(tmp_path / "same")
    results: List = []
    threads = [threading.Thread(target=lambda: results.append(VersionStore(engine).publish(folder))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in results) == [False, True]
    assert VersionStore(engine).count() == 1 and VersionStore(engine).active_id() == results[0].version.id


def test_a_legacy_index_folder_is_imported_only_into_an_empty_store(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'linli.db'}")
    versions_ = VersionStore(engine)
    assert versions_.import_folder(tmp_path / "missing") is None
    imported = versions_.import_folder(make_index(tmp_path / "legacy"))
    assert imported is not None and imported.note.startswith("imported from") and versions_.active_id() == imported.id
    assert versions_.import_folder(make_index(tmp_path / "other", seed=9)) is None and versions_.count() == 1


def test_unanswered_questions_are_rows_with_a_review_status(engine) -> None:
    unanswered = UnansweredStore(engine)
    unanswered.record("游泳池几点开？", "zh", 0.81234, "rest:alice", best="faq-1")
    unanswered.record("Can I keep a snake?", "en", 0.7, "wechat:o-bob")
    latest = unanswered.latest(10)
    assert [e["question"] for e in latest] == ["Can I keep a snake?", "游泳池几点开？"]
    assert latest[1]["sender_id"] == "rest:alice" and latest[1]["best"] == "faq-1"
    assert latest[1]["confidence"] == pytest.approx(0.8123) and latest[1]["status"] == "new"
    assert latest[1]["ts"].endswith("Z")
    assert unanswered.set_status(latest[0]["id"], "ignored", by="staff:wang")
    assert [e["question"] for e in unanswered.latest(10, status="new")] == ["游泳池几点开？"]
    assert not unanswered.set_status(10_000, "answered")
    with pytest.raises(ValueError, match="unknown"):
        unanswered.set_status(latest[0]["id"], "done")


def test_a_jsonl_log_is_moved_into_the_database_once(engine, tmp_path: Path) -> None:
    log = tmp_path / "unanswered.jsonl"
    record(log, "能养蛇吗？", "zh", 0.5, "rest:carol", best=None)  # the writer of older releases
    record(log, "Is there a gym?", "en", 0.6, None, best="faq-gym")
    unanswered = UnansweredStore(engine)
    assert unanswered.import_jsonl(log) == 2
    assert not log.exists() and len(list(tmp_path.glob("unanswered.jsonl.imported-*"))) == 1
    assert unanswered.import_jsonl(log) == 0
    rows = {e["question"]: e for e in unanswered.latest(10)}
    assert rows["能养蛇吗？"]["sender_id"] == "rest:carol" and rows["Is there a gym?"]["best"] == "faq-gym"


def test_command_line_lists_versions_activates_and_lists_unanswered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'linli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    log = tmp_path / "local.jsonl"
    monkeypatch.setenv("KNOWLEDGE_UNANSWERED_LOG", str(log))
    engine = get_engine(url)
    v1 = VersionStore(engine).publish(make_index(tmp_path / "a"), note="demo FAQ").version
    v2 = VersionStore(engine).publish(make_index(tmp_path / "b", seed=2), note="with pool").version

    assert main(["versions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"* {v2.id:>4}") and "with pool" in lines[0] and lines[1].startswith(f"  {v1.id:>4}")
    assert main(["activate", str(v1.id)]) == 0
    assert json.loads(capsys.readouterr().out)["active"] == v1.id
    assert VersionStore(engine).active_id() == v1.id
    assert main(["activate", "999"]) == 2 and "no knowledge-base version 999" in capsys.readouterr().err
    assert main(["versions", "--json"]) == 0
    assert [json.loads(x)["active"] for x in capsys.readouterr().out.splitlines()] == [False, True]

    UnansweredStore(engine).record("快递放哪里？", "zh", 0.8, "rest:dave")
    record(log, "电梯坏了找谁？", "zh", 0.7, "rest:erin")  # a local log joins the shared list
    assert main(["unanswered", "--limit", "5"]) == 0
    listed = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {e["question"] for e in listed} == {"快递放哪里？", "电梯坏了找谁？"} and not log.exists()
    assert main(["unanswered", "--status", "bogus"]) == 2


def test_the_migration_adopts_tables_that_ingest_created_before_it(engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bot import schema
    from knowledge.tables import metadata

    metadata.create_all(engine)  # `knowledge ingest` on a database that has no migrations yet
    VersionStore(engine)  # not empty any more: only the missing tables are created
    assert schema.state(engine).current is None
    assert schema.upgrade(engine) == schema.head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=schema.context_options())
        assert compare_metadata(context, schema.all_metadata()) == []


def test_an_empty_database_gets_the_whole_schema_at_head_so_servers_start(tmp_path: Path) -> None:
    from bot import schema

    engine = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    VersionStore(engine)  # `make index` on a new install, before any server started
    schema.check_current(engine)  # what the servers require at start-up
