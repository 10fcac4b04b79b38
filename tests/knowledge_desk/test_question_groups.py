"""Grouping unanswered questions (knowledge.question_groups) and reviewing them in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from sqlalchemy import select

from knowledge.question_groups import alike, group_questions, question_features
from knowledge.tables import get_engine, kb_unanswered
from knowledge.unanswered import UnansweredStore
from tests.knowledge.kb_databases import BACKENDS, database

# (one wording, another, same question?)
PAIRS = [
    ("快递柜在哪", "快递柜在哪里？", True),
    ("快递柜在哪", "小区的快递柜在什么地方", True),
    ("小区有健身房吗", "小区里有没有健身房", True),
    ("游泳池几点开？", "游泳池什么时候开放", True),
    ("ＷｉＦｉ密码是多少", "wifi密码是多少？", True),  # full-width letters fold
    ("Is there a gym?", "Is there a gym in the community?", True),
    ("Can I keep a snake?", "Can I keep snakes in my flat?", True),
    ("停车费多少钱", "物业费多少钱", False),   # the same frame, another topic
    ("停车费怎么交", "物业费怎么交", False),
    ("停车场几点关门", "停车场在哪", False),     # the same topic, another question
    ("游泳池几点开？", "健身房几点开", False),
    ("Where is the gym?", "Where is the pool?", False),
    ("How do I pay the parking fee?", "How to pay management fees?", False),
]


@pytest.mark.parametrize("first,second,same", PAIRS)
def test_paraphrases_are_alike_and_neighbours_are_not(first: str, second: str, same: bool) -> None:
    language = "en" if first.isascii() else "zh"
    score = alike(question_features(first, language), question_features(second, language))
    assert (score > 0) is same, (first, second, score)


def rows(*questions: str, language: str = "zh") -> List[Dict]:
    """Rows as UnansweredStore.latest returns them: newest first, one minute apart."""
    return [{"id": i, "question": q, "language": language, "ts": f"2026-12-01T10:{59 - i:02d}:00Z"}
            for i, q in enumerate(questions, start=1)]


def test_groups_count_every_wording_and_keep_ids_times_and_examples() -> None:
    entries = rows("快递柜在哪", "停车费多少钱", "快递柜在哪里？", "小区的快递柜在什么地方", "物业费多少钱", "快递柜在哪")
    gym = {"id": 7, "question": "Is there a gym?", "language": "en", "ts": "2026-12-01T10:50:00Z"}
    groups = group_questions(entries + [gym])
    parcels = groups[0]
    assert parcels["question"] == "快递柜在哪"  # the most frequent wording
    assert parcels["count"] == 4 and sorted(parcels["ids"]) == [1, 3, 4, 6]
    assert parcels["examples"] == ["快递柜在哪", "快递柜在哪里？", "小区的快递柜在什么地方"]
    assert parcels["last_at"] == "2026-12-01T10:58:00Z" and parcels["first_at"] == "2026-12-01T10:53:00Z"
    assert parcels["key"].startswith("zh:") and "快递" not in parcels["key"] and parcels["language"] == "zh"
    assert parcels["key"] == group_questions(entries)[0]["key"]  # stable
    # Singletons after it, the most recent first; languages never mix.
    assert [g["question"] for g in groups[1:]] == ["停车费多少钱", "物业费多少钱", "Is there a gym?"]
    assert group_questions([]) == [] and group_questions(rows("  ")) == []


def test_a_question_of_only_question_words_groups_with_itself() -> None:
    groups = group_questions(rows("多少钱？", "多少钱", "要多久"))
    assert [(g["question"], g["count"]) for g in groups] == [("多少钱？", 2), ("要多久", 1)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnansweredStore]:
    with database(request.param, tmp_path) as url:
        yield UnansweredStore(get_engine(url))


def test_a_group_is_ignored_or_answered_by_an_faq_entry(store: UnansweredStore) -> None:
    for question in ("快递柜在哪", "快递柜在哪里？", "停车费多少钱", "Can I keep a snake?"):
        store.record(question, "en" if question.isascii() else "zh", 0.8, "rest:alice")
    groups = {g["question"]: g for g in store.groups()}
    parcels = groups["快递柜在哪里？"]  # two wordings once each: the newest names the group
    assert parcels["count"] == 2 and parcels["examples"] == ["快递柜在哪里？", "快递柜在哪"]

    assert store.set_status_many(parcels["ids"], "answered", by="staff:li", faq_id="parcel-lockers") == 2
    assert store.set_status_many(groups["停车费多少钱"]["ids"] + [10_000], "ignored", by="staff:li") == 1
    assert [g["question"] for g in store.groups()] == ["Can I keep a snake?"]
    answered = store.groups("answered")
    assert answered[0]["count"] == 2 and sorted(answered[0]["ids"]) == sorted(parcels["ids"])
    with store.engine.connect() as conn:
        marks = conn.execute(select(kb_unanswered.c.status, kb_unanswered.c.faq_id, kb_unanswered.c.updated_by)
                             .where(kb_unanswered.c.id.in_(parcels["ids"]))).all()
    assert set(marks) == {("answered", "parcel-lockers", "staff:li")}
    assert store.latest(10, "answered")[0]["faq_id"] == "parcel-lockers"
    # Back to new (or ignored): the FAQ mark goes; nothing to change is no change.
    assert store.set_status_many(parcels["ids"], "new") == 2
    assert store.latest(10, "new")[-1]["faq_id"] is None
    assert store.set_status_many([], "ignored") == 0
    with pytest.raises(ValueError, match="unknown"):
        store.set_status_many(parcels["ids"], "done")


def test_the_dashboard_lists_only_questions_nobody_reviewed(store: UnansweredStore) -> None:
    from bot.web.stats import unanswered

    for question in ("快递柜在哪", "快递柜在哪里？", "停车费多少钱"):
        store.record(question, "zh", 0.8, "rest:bob")
    ignored = [e["id"] for e in store.latest(10) if e["question"] == "停车费多少钱"]
    store.set_status_many(ignored, "ignored")
    board = unanswered(engine=store.engine)
    assert [e["question"] for e in board["latest"]] == ["快递柜在哪里？", "快递柜在哪"]
    assert board["top"] == [{"question": "快递柜在哪里？", "count": 2}]


def test_another_kind_of_question_on_the_same_topic_is_another_group() -> None:
    # Newest first: the costs question lies between two wordings of the place question.
    groups = group_questions(rows("会所在哪", "会所多少钱", "会所在哪里？"))
    assert sorted((g["question"], g["count"]) for g in groups) == [("会所在哪", 2), ("会所多少钱", 1)]
