"""The ratings table on SQLite and PostgreSQL: asked once, answered once, expiry, statistics."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from bot.satisfaction.models import metadata
from bot.satisfaction.store import ALREADY, EXPIRED, SAVED, UNKNOWN, SatisfactionStore

DAY = 86400.0
# Noon UTC on 2026-03-10: 20:00 in Shanghai, the same local day.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def store(database_url: str) -> SatisfactionStore:
    engine = create_engine(database_url, future=True)
    metadata.drop_all(engine)  # PostgreSQL is shared between tests
    return SatisfactionStore(engine)


def test_a_subject_is_asked_once_and_answered_once(store: SatisfactionStore) -> None:
    request, created = store.ask("handoff", "7", "socketio:abc", "socketio", "zh", "handoff:7", 3 * DAY, now=NOW)
    assert created and request.rating is None and request.expires_at == NOW + 3 * DAY
    again, created = store.ask("handoff", "7", "socketio:abc", "socketio", "zh", "handoff:7", 3 * DAY, now=NOW + 5)
    assert not created and again.id == request.id and again.asked_at == NOW

    assert store.answer(request.id, "socketio:other", 5, now=NOW + 60) == UNKNOWN  # another resident's
    assert store.answer(request.id, "socketio:abc", 4, now=NOW + 60) == SAVED
    assert store.answer(request.id, "socketio:abc", 1, now=NOW + 61) == ALREADY  # never overwritten
    assert store.add_comment(request.id, "socketio:abc", "  师傅很耐心  ") == SAVED
    assert store.add_comment(request.id, "socketio:abc", "second") == ALREADY
    saved = store.get(request.id)
    assert (saved.rating, saved.comment, saved.answered_at) == (4, "师傅很耐心", NOW + 60)
    assert store.for_subject("handoff", "7") == saved
    with pytest.raises(ValueError):
        store.answer(request.id, "socketio:abc", 6)


def test_an_expired_request_cannot_be_answered(store: SatisfactionStore) -> None:
    request, _ = store.ask("ticket", "BX-20260310-0001", "wechat:o-1", "wechat", "en", "ticket-event:3", DAY, now=NOW)
    assert request.language == "en"
    assert store.answer(request.id, "wechat:o-1", 5, now=NOW + DAY + 1) == EXPIRED
    assert store.get(request.id).rating is None
    assert store.add_comment(request.id, "wechat:o-1", "late") == UNKNOWN  # nothing to comment on


def test_statistics_by_local_day_and_subject(store: SatisfactionStore) -> None:
    def rated(kind: str, subject: str, score: int, at: float, comment: str = None) -> None:
        request, _ = store.ask(kind, subject, f"rest:{subject}", "rest", "zh", kind, DAY, now=at - 10)
        assert store.answer(request.id, f"rest:{subject}", score, comment, now=at) == SAVED

    rated("ticket", "BX-1", 5, NOW - DAY)
    rated("ticket", "BX-2", 3, NOW - DAY + 60, "slow")
    rated("handoff", "11", 4, NOW, "很专业")
    rated("handoff", "12", 1, NOW - 40 * DAY)  # outside the 30 days
    store.ask("ticket", "BX-3", "rest:BX-3", "rest", "zh", "t", DAY, now=NOW)  # asked, not answered

    stats = store.stats(30, "Asia/Shanghai", now=NOW)
    assert (stats["count"], stats["average"], stats["asked"]) == (3, 4.0, 4)
    assert stats["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert stats["by_subject"]["ticket"] == {"count": 2, "average": 4.0,
                                             "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}}
    assert stats["by_subject"]["handoff"]["count"] == 1
    days = {d["day"]: d for d in stats["per_day"]}
    assert len(stats["per_day"]) == 30 and stats["per_day"][-1]["day"] == "2026-03-10"
    assert days["2026-03-09"] == {"day": "2026-03-09", "count": 2, "average": 4.0}
    assert days["2026-03-10"]["count"] == 1 and days["2026-03-08"] == {"day": "2026-03-08", "count": 0, "average": None}
    assert [(r["rating"], r["comment"], r["subject_type"]) for r in stats["recent"]] == [
        (4, "很专业", "handoff"), (3, "slow", "ticket"), (5, None, "ticket")]
    assert stats["recent"][0]["at"].startswith("2026-03-10T12:00")

    empty = store.stats(1, "Asia/Shanghai", now=NOW + 3 * DAY)
    assert (empty["count"], empty["average"], empty["per_day"]) == (0, None, [{"day": "2026-03-13", "count": 0,
                                                                             "average": None}])


def test_forget_removes_a_residents_ratings(store: SatisfactionStore) -> None:
    store.ask("handoff", "1", "wechat:o-9", "wechat", "zh", "h", DAY, now=NOW)
    store.ask("handoff", "2", "wechat:o-8", "wechat", "zh", "h", DAY, now=NOW)
    assert store.forget("wechat:o-9") == 1
    assert store.for_subject("handoff", "1") is None and store.for_subject("handoff", "2") is not None
