"""Fixtures of the content-store and job tests: a tiny real index, a fresh database per test.

The index holds the demo FAQ (98 entries, from ``knowledge/sources``, so they seed as demo
content) and a short regulation excerpt (random vectors, see :func:`tiny_index`). Each test
publishes it as version 1 of its own database (SQLite and PostgreSQL,
``tests.knowledge.kb_databases``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Tuple

import pytest

from knowledge.config import KnowledgeConfig, load_config
from tests.knowledge.kb_databases import BACKENDS, database

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "knowledge" / "sources"
REGULATION_NAME = "物业管理条例(2018-03-19).md"
REGULATION_MD = """# 物业管理条例

## 第二章 业主及业主大会

第十四条 召开业主大会会议，应当于会议召开15日以前通知全体业主。

## 第四章 物业管理服务

第三十七条 物业管理用房的所有权依法属于业主。未经业主大会同意，物业服务企业不得改变物业管理用房的用途。
"""



@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the regulation excerpt (a document that stays readable)."""
    folder = tmp_path_factory.mktemp("kb_desk_sources")
    (folder / REGULATION_NAME).write_text(REGULATION_MD, encoding="utf-8")
    return folder


def synthetic_index(paths: list, index_dir: Path, embed_model_dir: Path) -> Path:
    """An index folder of ``paths`` as ingest writes it, except that the vectors are random unit
    vectors (no model needed): for tests about content and builds, not retrieval."""
    import os

    import numpy as np

    from knowledge import store
    from knowledge.bm25 import tokenize
    from knowledge.index import build_index
    from knowledge.sources import file_digest, load_chunks

    chunks, files = [], {}
    for path in paths:
        own = load_chunks(path)
        chunks.extend(own)
        files[os.path.abspath(path)] = {"sha256": file_digest(path), "chunks": [c.chunk_id for c in own]}
    # One vector per embedded text, as ingest writes (an FAQ entry has one more per similar question).
    rows = np.concatenate([np.full(len(c.embed_texts()), i, dtype="int32") for i, c in enumerate(chunks)])
    vectors = np.random.default_rng(len(chunks)).normal(size=(len(rows), 384)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = {"format": store.FORMAT_VERSION, "embed_model": str(Path(embed_model_dir).resolve()), "dim": 384,
                "index_type": "flat", "n_chunks": len(chunks), "n_vectors": len(rows), "files": files,
                "built_at": "2026-12-01T00:00:00Z"}
    store.write(index_dir, store.StoredIndex(chunks, vectors, rows,
                                             [tokenize(c.bm25_text()) for c in chunks], manifest,
                                             build_index(vectors, "flat", use_gpu=False)))
    return index_dir


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory, tiny_sources: Path, embed_model_dir: Path) -> Path:
    """The demo FAQ + the regulation excerpt (:func:`synthetic_index`; the kb_stack tests retrieve
    for real, and a job here re-embeds what changed with the real model)."""
    return synthetic_index([DEMO / "faq_zh.yaml", DEMO / "faq_en.yaml", tiny_sources / REGULATION_NAME],
                           tmp_path_factory.mktemp("kb_desk_index"), embed_model_dir)


@pytest.fixture(params=BACKENDS)
def kb_db(request: pytest.FixtureRequest, tmp_path: Path, tiny_index: Path) -> Iterator[Tuple[object, KnowledgeConfig]]:
    """``(engine, cfg)``: a new database whose active version is the tiny index; the config's
    folders are this test's (no legacy index folder to import, a private version cache)."""
    from knowledge.tables import get_engine
    from knowledge.versions import VersionStore

    with database(request.param, tmp_path) as url:
        engine = get_engine(url)
        VersionStore(engine).publish(tiny_index, note="tiny")
        cfg = load_config().with_overrides(index=str(tmp_path / "no-legacy-index"),
                                           version_cache=str(tmp_path / "versions"))
        yield engine, cfg


@pytest.fixture
def kb_sqlite(tmp_path: Path, tiny_index: Path) -> Iterator[Tuple[object, KnowledgeConfig, dict]]:
    """``(engine, cfg, env)`` on a SQLite file (its work folder is next to it, in this test's folder)
    with the tiny index active; ``env`` runs ``python -m knowledge`` on the same database and folders."""
    import os

    from knowledge.tables import get_engine
    from knowledge.versions import VersionStore

    url = f"sqlite:///{tmp_path / 'linli.db'}"
    engine = get_engine(url)
    VersionStore(engine).publish(tiny_index, note="tiny")
    env = {**os.environ, "DATABASE_URL": url, "KNOWLEDGE_INDEX": str(tmp_path / "service-index"),
           "KNOWLEDGE_VERSION_CACHE": str(tmp_path / "versions"), "PYTHONPATH": str(ROOT)}
    cfg = load_config().with_overrides(index=env["KNOWLEDGE_INDEX"], version_cache=env["KNOWLEDGE_VERSION_CACHE"])
    yield engine, cfg, env
    engine.dispose()
