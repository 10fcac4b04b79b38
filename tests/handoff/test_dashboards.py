"""Dashboard computations on a local database and unanswered-question log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from bot.tickets import TicketStore
from bot.tickets.models import Ticket
from bot.web import stats


@pytest.fixture
def store(database_url: str) -> TicketStore:
    """On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (the fixture empties it)."""
    return TicketStore(create_engine(database_url, future=True), timezone="Asia/Shanghai")


def _make(store: TicketStore, description: str, age_days: float) -> str:
    ticket = store.create(ticket_type="repair", channel="rest", sender_id="r", description=description)
    with store.engine.begin() as conn:
        conn.execute(update(Ticket).where(Ticket.number == ticket.number).values(
            created_at=datetime.now(timezone.utc) - timedelta(days=age_days)))
    return ticket.number


def test_opened_and_resolved_per_day_and_open_by_age(store: TicketStore) -> None:
    fresh, old, ancient = _make(store, "漏水", 0), _make(store, "灯坏", 4.5), _make(store, "门锁", 40)
    done = _make(store, "电梯", 0)
    store.change_status(done, "resolved", "staff:wang")
    per_day = stats.tickets_per_day(store, days=7)
    assert len(per_day["days"]) == 7 and per_day["days"][-1]["opened"] == 2 and per_day["days"][-1]["resolved"] == 1
    assert per_day["total_opened"] == 3  # the 40-day-old ticket is outside the window
    by_age = stats.open_by_age(store)
    counts = {b["bucket"]: b["count"] for b in by_age["buckets"]}
    assert counts == {"lt_1d": 1, "1_3d": 0, "3_7d": 1, "7_30d": 0, "gt_30d": 1} and by_age["total"] == 3
    assert [o["number"] for o in by_age["oldest"]] == [ancient, old, fresh]


def test_unanswered_questions_latest_and_most_frequent(tmp_path: Path) -> None:
    from knowledge.unanswered import UnansweredStore
    from bot.db import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    store = UnansweredStore(engine)
    assert stats.unanswered(100, engine=engine) == {"latest": [], "top": []}
    for question, lang in [("能养蛇吗？", "zh"), ("Can I keep a snake?", "en"), ("能养蛇吗", "zh"), ("游泳池几点开？", "zh")]:
        store.record(question, lang, 0.5, "rest:r")
    result = stats.unanswered(100, engine=engine)
    assert [q["question"] for q in result["latest"]][0] == "游泳池几点开？"
    assert result["top"][0]["count"] == 2 and result["top"][0]["question"].startswith("能养蛇吗")
