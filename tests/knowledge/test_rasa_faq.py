"""End to end: a resident asks an FAQ question over REST and gets the answer with its citation.

Uses the shared real Rasa + action server (``stack`` fixture in tests/conftest.py);
the action server reads the demo index built by setup (``make setup`` runs
``python -m knowledge ingest knowledge/sources ... --index var/knowledge_index``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge import store
from knowledge.config import load_config
from tests.servers import Stack


@pytest.fixture(scope="module")
def deployed_index() -> Path:
    cfg = load_config()
    index = cfg.path(os.environ.get("KNOWLEDGE_INDEX", cfg.index))
    if not store.exists(index):
        pytest.fail(f"no knowledge index at {index}: run `make setup` or "
                    f"`python -m knowledge ingest knowledge/sources --index {index}`")
    return index


def test_faq_question_in_chinese_gets_answer_and_citation(deployed_index: Path, stack: Stack, sender: str) -> None:
    answer = stack.say(sender, "小区的快递柜在哪里？")
    assert "东门" in answer and "来源：常见问题 — 快递" in answer

