"""Personal information: retention, export and deletion on request, and the identity
migration of rows written before identities were namespaced."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.handoff.store import HandoffStore
from bot.privacy import audit_log, migrate_identities, purge
from bot.tickets import TicketStore
from tests.servers import ROOT, Stack, tickets_of


def _events_table(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:  # Rasa's SQLTrackerStore schema
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                          "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                          "action_name VARCHAR(255), data TEXT)"))


def _event(engine, sender: str, channel: str, ts: float) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                     {"s": sender, "t": ts, "d": json.dumps({"event": "user", "text": "hi", "input_channel": channel})})


def test_identity_migration_namespaces_old_conversations_and_handoffs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True)
    trackers = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    _events_table(trackers)
    for sender, channel in (("o-abc", "wechat"), ("12345", "telegram"), ("me", "rest"), ("cli", "cmdline")):
        _event(trackers, sender, channel, time.time())
    HandoffStore(db)
    with db.begin() as conn:  # a handoff row as the old code wrote it
        conn.execute(text("INSERT INTO handoffs (sender_id, channel, language, reason, status, created_at, "
                          "resident_messages) VALUES ('o-abc', 'wechat', 'zh', 'requested', 'queued', "
                          "'2026-01-01 00:00:00', 0)"))
    done = migrate_identities(db, trackers)
    assert done == {"conversations": 3, "handoffs": 1}
    with trackers.connect() as conn:
        senders = {s for (s,) in conn.execute(text("SELECT sender_id FROM events"))}
    assert senders == {"wechat:o-abc", "telegram:12345", "rest:me", "cli"}  # unknown channel: no one's
    assert HandoffStore(db).active_for("wechat:o-abc") is not None
    assert migrate_identities(db, trackers) == {"conversations": 0, "handoffs": 0}  # once


def test_retention_deletes_old_transcripts_and_anonymises_old_tickets(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRACKER_STORE_URL", "")
    monkeypatch.setenv("TRACKER_STORE_DB", str(tmp_path / "tracker.db"))
    url = f"sqlite:///{tmp_path / 'linli.db'}"
    db = create_engine(url, future=True)
    trackers = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    _events_table(trackers)
    now = time.time()
    _event(trackers, "wechat:old", "wechat", now - 400 * 86400)
    _event(trackers, "wechat:new", "wechat", now - 10)
    store = TicketStore(db)
    old = store.create(ticket_type="repair", channel="wechat", sender_id="old", description="电话13812345678",
                       phone="13812345678", unit="3栋502")
    store.change_status(old.number, "resolved", "staff:x")
    fresh = store.create(ticket_type="repair", channel="wechat", sender_id="new", description="漏水", phone="13800000000")
    monkeypatch.setattr("bot.privacy.get_engine", lambda url=None: db)
    monkeypatch.setattr("bot.privacy.audit_log", lambda url=None: type(audit_log())(db))
    done = purge(365, db, now=now + 400 * 86400)
    assert done["conversations"] == 2 and done["tickets"] == 1  # "new" is old too by then; fresh stays open
    done = purge(365, db, now=now)
    assert done["conversations"] == 0
    anonymised = store.get(old.number)
    assert anonymised.phone is None and anonymised.unit is None and anonymised.sender_id.startswith("erased")
    assert "13812345678" not in anonymised.description
    assert store.get(fresh.number).phone == "13800000000"
    assert store.list_for_sender("wechat", "old") == []


def _privacy(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.privacy", *args], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=300)


def test_export_and_delete_one_resident_on_request(stack: Stack, tmp_path: Path) -> None:
    sender = f"gdpr-{uuid.uuid4().hex[:8]}"
    stack.chat(sender, "你好")
    store = TicketStore(create_engine(stack.database_url, future=True))
    ticket = store.create(ticket_type="repair", channel="rest", sender_id=sender, description="漏水",
                          phone="13511112222", unit="1栋101")
    from bot.satisfaction.store import SatisfactionStore

    ratings = SatisfactionStore(create_engine(stack.database_url, future=True))
    request, _ = ratings.ask("ticket", ticket.number, f"rest:{sender}", "rest", "zh", "test", 3600)
    ratings.answer(request.id, f"rest:{sender}", 4, "师傅很专业")
    out = tmp_path / "export.json"
    done = _privacy(stack, "export", "--channel", "rest", "--id", sender, "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert [t["number"] for t in data["tickets"]] == [ticket.number] and data["tickets"][0]["phone"] == "13511112222"
    assert any(e.get("text") == "你好" for e in data["transcript"])
    assert [(r["rating"], r["comment"]) for r in data["satisfaction_ratings"]] == [(4, "师傅很专业")]
    assert _privacy(stack, "delete", "--channel", "rest", "--id", sender).returncode == 1  # needs --yes
    done = _privacy(stack, "delete", "--channel", "rest", "--id", sender, "--yes")
    assert done.returncode == 0, done.stderr
    assert [e for e in stack.tracker(sender)["events"] if e["event"] == "user"] == []
    assert tickets_of(stack, sender) == []
    assert ratings.forget(f"rest:{sender}") == 0  # the deletion removed the rating with its comment
    erased = store.get(ticket.number)
    assert erased.phone is None and erased.unit is None
    audit = _privacy(stack, "audit", "--limit", "20").stdout
    assert f"export\trest:{sender}" in audit and f"delete\trest:{sender}" in audit
