"""Replicas follow the active knowledge-base version in the database, without a restart.

Real embedding model, a three-question knowledge base, real databases (SQLite, and
PostgreSQL where the archive travels as bytea). Two :class:`LiveKnowledge` holders with
separate cache folders stand for two replicas on two machines: nothing but the database
connects them. The tests of one backend share its database and run in file order
(version 1, then 2, then the restore), so that the embedding work is done once.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from knowledge import live
from knowledge.cli import main
from knowledge.config import load_config
from knowledge.tables import get_engine
from knowledge.unanswered import UnansweredStore, record
from knowledge.versions import VersionStore
from tests.knowledge.kb_databases import BACKENDS, database

FAQ_V1 = """language: zh
entries:
  - id: fees-rate
    category: fees
    question: 物业费是怎么收费的？
    answer: 住宅物业费按建筑面积每月每平方米2.5元收取。
  - id: pets-dogs
    category: pets
    question: 小区里可以养狗吗？
    answer: 可以养狗，但须办理犬证，遛狗时必须拴绳。
"""
FAQ_POOL = """language: zh
entries:
  - id: pool-hours
    category: facilities
    question: 小区游泳池几点开放？
    answer: 会所游泳池每天上午9点至晚上9点开放，每周一清洁闭馆。
"""
DOGS, POOL = "小区里可以养狗吗？", "小区游泳池几点开放？"
RELOAD_S = 0.2


@dataclass
class KB:
    """A database, the service's build folder and the FAQ files of one test module."""

    url: str
    root: Path
    v1_sources: Path
    pool_sources: Path

    def holder(self, name: str) -> live.LiveKnowledge:
        """A replica: its own cache folder, the shared database."""
        return live.LiveKnowledge(load_config(), get_engine(self.url), cache_dir=self.root / f"cache_{name}",
                                  interval=RELOAD_S)


@pytest.fixture(scope="module", params=BACKENDS)
def kb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embed_model_dir: Path) -> Iterator[KB]:
    root = tmp_path_factory.mktemp(f"kb_live_{request.param}")
    (root / "v1").mkdir()
    (root / "v1" / "faq.yaml").write_text(FAQ_V1, encoding="utf-8")
    (root / "pool.yaml").write_text(FAQ_POOL, encoding="utf-8")
    with database(request.param, root) as url, pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("KNOWLEDGE_INDEX", str(root / "build"))  # the service's folder: ingest publishes it
        env.setenv("KNOWLEDGE_VERSION_CACHE", str(root / "cache_cli"))
        env.setenv("KNOWLEDGE_UNANSWERED_LOG", str(root / "unanswered.jsonl"))
        env.setenv("KNOWLEDGE_GENERATOR", "extractive")
        env.setenv("LINLI_KB_RELOAD_SECONDS", str(RELOAD_S))  # the process-wide holder's interval
        assert main(["ingest", str(root / "v1"), "--quiet", "--note", "v1"]) == 0
        yield KB(url, root, root / "v1", root / "pool.yaml")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (the reload runs in the holders' own threads)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.05)


def test_a_replica_answers_from_the_active_version_and_records_what_it_cannot(
        kb: KB, capsys: pytest.CaptureFixture) -> None:
    replica = kb.holder("a")
    try:
        answerer = replica.current()
        assert replica.version == VersionStore(get_engine(kb.url)).active_id() == 1
        assert "犬证" in answerer.ask(DOGS).answer
        result = answerer.ask(POOL, sender_id="rest:resident-7")
        assert result.abstained
    finally:
        replica.stop()
    rows = UnansweredStore(get_engine(kb.url)).latest(5)
    assert rows[0]["question"] == POOL and rows[0]["sender_id"] == "rest:resident-7" and rows[0]["status"] == "new"
    assert not (kb.root / "unanswered.jsonl").exists()  # the service writes the database, not a file
    capsys.readouterr()
    assert main(["unanswered"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["question"] == POOL


def test_reingest_and_restore_switch_every_replica_without_restart(kb: KB, capsys: pytest.CaptureFixture) -> None:
    a, b = kb.holder("a"), kb.holder("b")
    try:
        in_progress = a.current()  # a turn that started before the re-ingest
        b.current()
        assert a.version == b.version == 1 and in_progress.ask(POOL, log_unanswered=False).abstained

        assert main(["ingest", str(kb.v1_sources), str(kb.pool_sources), "--quiet", "--note", "pool"]) == 0
        published = json.loads(capsys.readouterr().out)
        assert published["version"] == {"id": 2, "created": True, "active": True} and published["reused_files"] == 1
        wait_until(lambda: a.version == 2 and b.version == 2, "both replicas serve version 2")
        for replica in (a, b):
            answer = replica.current().ask(POOL, log_unanswered=False)
            assert not answer.abstained and "上午9点至晚上9点" in answer.answer and answer.mode == "extractive"
        # The turn in progress finished on the version it started with.
        assert in_progress.kb_version == 1 and in_progress.ask(POOL, log_unanswered=False).abstained

        assert main(["activate", "1"]) == 0 and json.loads(capsys.readouterr().out)["active"] == 1
        wait_until(lambda: a.version == 1 and b.version == 1, "both replicas are back on version 1")
        assert a.current().ask(POOL, log_unanswered=False).abstained
        assert "犬证" in b.current().ask(DOGS).answer

        # An unchanged re-ingest (make index at every start) does not undo the restore.
        assert main(["ingest", str(kb.v1_sources), str(kb.pool_sources), "--quiet"]) == 0
        assert json.loads(capsys.readouterr().out)["version"] == {"id": 2, "created": False, "active": False}
        assert VersionStore(get_engine(kb.url)).active_id() == 1
        assert sorted(p.name.split("-")[0] for p in (kb.root / "cache_b").iterdir()) == ["v1", "v2"]
    finally:
        a.stop()
        b.stop()


def test_the_rasa_action_answers_from_the_process_wide_live_answerer(kb: KB) -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.answer_question import ActionAnswerQuestion

    def ask(text: str) -> str:
        tracker = Tracker(sender_id="kb-live", slots={"language": "zh", "handoff_offered": None},
                          latest_message={"text": text, "intent": {"name": "ask_question", "confidence": 0.9}},
                          events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None)
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionAnswerQuestion().run(dispatcher, tracker, {}))
        return dispatcher.messages[0]["text"]

    live.reset()  # the process-wide holder reads DATABASE_URL and the settings of this module
    try:
        VersionStore(get_engine(kb.url)).activate(2)
        assert "上午9点至晚上9点" in ask(POOL) and live.holder().version == 2
        VersionStore(get_engine(kb.url)).activate(1)
        wait_until(lambda: live.holder().version == 1, "the action server's holder is back on version 1")
        assert "人工" in ask(POOL)
    finally:
        live.reset()


def test_an_install_from_before_the_database_store_is_imported_on_first_use(
        kb: KB, tmp_path: Path, embed_model_dir: Path) -> None:
    from knowledge.ingest import ingest

    legacy_index, legacy_log = tmp_path / "knowledge_index", tmp_path / "unanswered.jsonl"
    ingest([str(kb.v1_sources)], legacy_index, embed_model_dir, progress=False)
    record(legacy_log, "垃圾几点收？", "zh", 0.61, "rest:frank")  # written by the old action server
    url = f"sqlite:///{tmp_path / 'old.db'}"
    replica = live.LiveKnowledge(load_config(), get_engine(url), cache_dir=tmp_path / "cache",
                                 legacy_index=legacy_index, legacy_unanswered=legacy_log, interval=RELOAD_S)
    try:
        assert "犬证" in replica.current().ask(DOGS).answer
    finally:
        replica.stop()
    (version,) = VersionStore(get_engine(url)).list()
    assert version.id == 1 and version.active and version.note == f"imported from {legacy_index}"
    assert [e["question"] for e in UnansweredStore(get_engine(url)).latest(5)] == ["垃圾几点收？"]
    assert not legacy_log.exists() and list(tmp_path.glob("unanswered.jsonl.imported-*"))


def test_a_stored_version_can_be_tried_before_it_is_activated(kb: KB, capsys: pytest.CaptureFixture) -> None:
    assert VersionStore(get_engine(kb.url)).active_id() == 1
    capsys.readouterr()
    assert main(["ask", "--version", "2", "--json", "--no-log", POOL]) == 0
    assert "上午9点至晚上9点" in json.loads(capsys.readouterr().out)["answer"]
    assert main(["ask", "--version", "active", "--json", "--no-log", POOL]) == 0
    assert json.loads(capsys.readouterr().out)["abstained"]


def test_a_build_on_a_machine_without_a_build_folder_starts_from_the_active_version(kb: KB, tmp_path: Path) -> None:
    from knowledge.build import build_version

    out = build_version([str(kb.v1_sources)], index_dir=tmp_path / "fresh_machine", engine=get_engine(kb.url))
    assert out["embedded_chunks"] == 0 and out["reused_files"] == 1  # nothing re-embedded
    assert out["version"] == {"id": 1, "created": False, "active": True}
