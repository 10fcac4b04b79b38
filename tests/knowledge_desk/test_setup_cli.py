"""The command line once the desk manages the knowledge base: ``ingest`` (what ``make index`` runs)
keeps staff edits, ``setup`` replaces the demo facts and builds, ``import`` adds files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import List

from knowledge import store
from knowledge.content import ContentStore
from knowledge.faq_io import FaqEntry, FaqText, write_faq_table
from knowledge.setup import demo_facts
from knowledge.versions import VersionStore
from tests.knowledge_desk.kb_fixtures import ROOT, kb_sqlite, tiny_index, tiny_sources  # noqa: F401


def knowledge_cli(env: dict, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knowledge", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_make_index_after_a_desk_edit_keeps_the_edit(kb_sqlite, tiny_sources: Path) -> None:  # type: ignore[no-untyped-def]
    engine, cfg, env = kb_sqlite
    content = ContentStore(engine, cfg)
    content.update_faq("fees-rate", FaqEntry("fees-rate", "fees", zh=FaqText("物业费多少？", "每月3.1元每平方米。")), "wang")
    versions = VersionStore(engine)
    before = (versions.active_id(), versions.count())

    # The Makefile's `index` target, as `make run` runs it every time.
    done = knowledge_cli(env, "ingest", "knowledge/sources", str(tiny_sources), "--index", env["KNOWLEDGE_INDEX"])
    assert done.returncode == 0, done.stderr
    assert "managed in the desk" in done.stdout and "python -m knowledge import" in done.stdout
    assert (versions.active_id(), versions.count()) == before
    assert not store.exists(Path(env["KNOWLEDGE_INDEX"]))
    assert ContentStore(engine, cfg).get_faq("fees-rate").zh.answer == "每月3.1元每平方米。"


def test_setup_replaces_the_demo_facts_and_builds_with_progress(kb_sqlite) -> None:  # type: ignore[no-untyped-def]
    engine, cfg, env = kb_sqlite
    facts = demo_facts()
    phones: List[str] = []
    for n, phone in enumerate(facts["phones"], 1):
        phones += ["--phone", f"{phone['number']}=021-5555 000{n}"]
    refused = knowledge_cli(env, "setup", "--community-zh", "翠湖苑", *phones)
    assert refused.returncode == 2 and "community_name_en is required" in refused.stderr
    assert knowledge_cli(env, "setup", "--empty").returncode == 2  # needs --yes

    done = knowledge_cli(env, "setup", "--community-zh", "翠湖苑", "--community-en", "Green Lake Court",
                         "--hours-zh", "工作日9:00-17:30办公", "--hours-en", "open 9:00-17:30 on working days",
                         "--email", "help@greenlake.example", *phones)
    assert done.returncode == 0, done.stderr
    result, job = (json.loads(line) for line in done.stdout.strip().splitlines())
    assert result["replaced"] == 14 and job["status"] == "done"
    assert "embedding" in done.stderr and "100.0%] done" in done.stderr
    versions = VersionStore(engine)
    assert versions.active_id() == job["version_id"]
    served = store.read(versions.materialise(job["version_id"], cfg.path(cfg.version_cache)), with_faiss=False)
    texts = {c.chunk_id: c.text for c in served.chunks}
    assert "021-5555 0001" in texts["faq:contacts-phone@zh"] and "021-5555 0003" in texts["faq:contacts-phone@en"]
    assert not any(p["number"] in t for p in facts["phones"] for t in texts.values())
    assert ContentStore(engine, cfg).has_demo() is False


def test_import_adds_faq_tables_and_documents(kb_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, cfg, env = kb_sqlite
    table = tmp_path / "faq.csv"
    table.write_bytes(write_faq_table([FaqEntry("gym-hours", "facilities", zh=FaqText("健身房几点开？", "每天6点到22点。"),
                                                en=FaqText("When is the gym open?", "6:00 to 22:00 daily."))], "csv"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "游泳池规定.md").write_text("# 游泳池规定\n\n第一条 开放时间为夏季。\n", encoding="utf-8")
    (tmp_path / "docs" / "README.md").write_text("# not a source\n", encoding="utf-8")
    done = knowledge_cli(env, "import", str(table), str(tmp_path / "docs"), "--no-reindex")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report == {"faq": {"created": 1, "updated": 0, "deleted": 0},
                      "documents": {"added": ["游泳池规定.md"], "replaced": []}}
    content = ContentStore(engine, cfg)
    assert content.get_faq("gym-hours").en.answer == "6:00 to 22:00 daily."
    assert "游泳池规定.md" in [d.filename for d in content.list_documents()]

    bad = tmp_path / "bad.csv"
    bad.write_text("id,question_zh,answer_zh\nx-1,只有问题,\n", encoding="utf-8")
    refused = knowledge_cli(env, "import", str(bad), "--no-reindex")
    assert refused.returncode == 2 and "row 2" in refused.stderr and content.list_faq()[1] == 50
