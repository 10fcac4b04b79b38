"""Dashboard computations on a local database and unanswered-question log."""

from __future__ import annotations

import json
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


def test_unanswered_questions_latest_and_most_frequent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "unanswered.jsonl"
    rows = [("能养蛇吗？", "zh"), ("Can I keep a snake?", "en"), ("能养蛇吗", "zh"), ("游泳池几点开？", "zh")]
    log.write_text("".join(json.dumps({"ts": f"2026-11-24T0{i}:00:00Z", "question": q, "language": lang,
                                       "confidence": 0.5, "sender_id": "r"}, ensure_ascii=False) + "\n"
                           for i, (q, lang) in enumerate(rows)), encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_UNANSWERED_LOG", str(log))
    result = stats.unanswered(100)
    assert [q["question"] for q in result["latest"]][0] == "游泳池几点开？"
    assert result["top"][0]["count"] == 2 and result["top"][0]["question"].startswith("能养蛇吗")
    monkeypatch.setenv("KNOWLEDGE_UNANSWERED_LOG", str(tmp_path / "missing.jsonl"))
    assert stats.unanswered(100) == {"latest": [], "top": []}
