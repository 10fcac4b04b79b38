"""Shared fixtures: the trained model, a running service, databases."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.servers import ROOT, Stack, built_index, load_default_settings, start_stack


load_default_settings()
built_index()  # fixed now, with make's KNOWLEDGE_INDEX

MODEL = Path(os.environ.get("LINLI_TEST_MODEL", ROOT / "models" / "rasa" / "current.tar.gz"))


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment it sets up: bot.settings.settings() is cached per process."""
    from bot import settings

    settings.reload()
    yield
    settings.reload()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The Rasa model that `make test` trained (scripts/train.sh)."""
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make test` (it trains first) or `make train`.")
    return MODEL.resolve()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Stack]:
    """A real Rasa server + action server on free ports, with fresh SQLite databases."""
    service = start_stack(tmp_path_factory.mktemp("stack"), trained_model)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, for every browser test (tests/channels/browser.py drives it)."""
    from tests.channels.browser import find_chromium

    path = find_chromium()
    if path is None:
        pytest.fail("Headless Chromium is required: run scripts/install_browser.sh (Debian: chromium chromium-driver)")
    return path


@pytest.fixture(scope="session")
def embed_model_dir() -> Path:
    """The provisioned multilingual-e5-small folder (knowledge tests embed with the real model)."""
    from knowledge.config import models_dir, resolve_model

    try:
        return resolve_model("multilingual-e5-small")
    except FileNotFoundError:
        pytest.fail(f"multilingual-e5-small is not in {models_dir()}: run `python -m bot.provision` first")


@pytest.fixture(scope="session")
def kb_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Stack]:
    """A second stack whose knowledge base the tests may change (the desk's knowledge-base
    page edits, uploads and re-indexes); it follows a new version within half a second and loads
    the knowledge base at start-up as production does (tests/knowledge/conftest.py turns that
    off for the other stacks of a whole run)."""
    workdir = tmp_path_factory.mktemp("kb-stack")
    service = start_stack(workdir, trained_model,
                          # The demo community is in Hangzhou (its 0571 numbers): other cities'
                          # regulations among the shared ones are never cited (knowledge/jurisdiction.py).
                          {"LINLI_KB_RELOAD_SECONDS": "0.5", "KNOWLEDGE_WARM_UP": "full",
                           "KNOWLEDGE_REGION": "浙江省杭州市",
                           # The base `make index` built (tests/knowledge/conftest.py points the rest of a
                           # whole run at a small one): read only, the versions it becomes stay here.
                           "KNOWLEDGE_INDEX": str(built_index()),
                           "KNOWLEDGE_VERSION_CACHE": str(workdir / "versions"),
                           "KNOWLEDGE_GENERATOR": "extractive"})
    yield service
    service.stop()


@pytest.fixture
def sender() -> str:
    """A new resident identity for each test, so conversations never mix."""
    return f"test-{uuid.uuid4().hex[:10]}"


def database_urls() -> list:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it)."""
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=database_urls())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for storage tests, emptied before the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    from sqlalchemy import create_engine

    from bot.tickets.models import Base

    engine = create_engine(url, future=True)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url
