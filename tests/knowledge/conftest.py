"""Fixtures for knowledge-base tests: real models, small indexes in temp folders.

Models load once per session (the embedder is a process-wide singleton).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

# The action module warms the knowledge base up in a thread at import; tests load it on demand.
os.environ.setdefault("KNOWLEDGE_WARM_UP", "0")

# (embed_model_dir is in tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
DEMO_SOURCES = ROOT / "knowledge" / "sources"

REGULATION_MD = """# 物业管理条例

## 第二章 业主及业主大会

第十四条 召开业主大会会议，应当于会议召开15日以前通知全体业主。

住宅小区的业主大会会议，应当同时告知相关的居民委员会。

第十六条 业主委员会应当自选举产生之日起30日内，向物业所在地的区、县人民政府房地产行政主管部门和街道办事处、乡镇人民政府备案。

## 第四章 物业管理服务

第三十七条 物业管理用房的所有权依法属于业主。未经业主大会同意，物业服务企业不得改变物业管理用房的用途。
"""



@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory, embed_model_dir: Path) -> Path:
    """Index of the demo FAQ plus a three-article regulation excerpt."""
    from knowledge.ingest import ingest

    src = tmp_path_factory.mktemp("kb_sources")
    (src / "物业管理条例(2018-03-19).md").write_text(REGULATION_MD, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("kb_index")
    ingest([str(DEMO_SOURCES), str(src)], index_dir, embed_model_dir, progress=False)
    return index_dir


@pytest.fixture(scope="session")
def answerer(demo_index: Path):
    """An extractive-only answerer on the demo index (fast; generation is tested separately)."""
    from knowledge.answer import Answerer
    from knowledge.config import load_config

    cfg = load_config().with_overrides(generator="extractive", unanswered_log=str(demo_index / "unanswered.jsonl"))
    return Answerer(cfg, demo_index)


@pytest.fixture(scope="session")
def knowledge_env(demo_index: Path) -> Iterator[Dict[str, str]]:
    """Point the process-wide answerer (used by the Rasa action) at the demo index."""
    env = {"KNOWLEDGE_INDEX": str(demo_index), "KNOWLEDGE_GENERATOR": "extractive",
           "KNOWLEDGE_UNANSWERED_LOG": str(demo_index / "action_unanswered.jsonl"),
           # never the developer's var/linli.db: the demo index and its unanswered questions stay here
           "DATABASE_URL": f"sqlite:///{demo_index}/kb.db", "KNOWLEDGE_VERSION_CACHE": str(demo_index / "cache")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
