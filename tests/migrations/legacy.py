"""Databases as Linli made them before migrations, with data in them.

The schema comes from ``pre_migrations.<dialect>.sql`` (what the stores' ``create_all``
emitted when migrations were introduced) and the rows are written with frozen table
definitions, not with today's models: the models move on, the databases out there don't.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
T0 = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
SESSION_TOKEN = "legacy-session-token"
#: Columns that bot.db.add_missing_columns added to databases of an older release.
LATER_COLUMNS = {"tickets": ["building", "entrance", "room", "area", "visit_time"], "handoffs": ["priority"]}
LATER_INDEXES = {"tickets": ["ix_tickets_building"], "handoffs": ["ix_handoffs_priority"]}


def create_pre_migrations_schema(engine: Engine, older: bool = False) -> None:
    """Today's (pre-migrations) tables; ``older``: without the columns a later release added."""
    lines = (HERE / f"pre_migrations.{engine.dialect.name}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in filter(None, (s.strip() for s in ddl.split(";"))):
            conn.exec_driver_sql(statement)
        if older:
            for table, indexes in LATER_INDEXES.items():
                for index in indexes:
                    conn.exec_driver_sql(f"DROP INDEX {index}")
            for table, columns in LATER_COLUMNS.items():
                for column in columns:
                    conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")


def _table(table_name: str, /, **columns: Any) -> sa.sql.TableClause:
    return sa.table(table_name, *(sa.column(key, type_) for key, type_ in columns.items()))


S, I, F, D = sa.String(), sa.Integer(), sa.Float(), sa.DateTime(timezone=True)
TABLES = {
    "tickets": _table("tickets", id=I, number=S, type=S, day=S, seq=I, status=S, channel=S, sender_id=S,
                      language=S, unit=S, category=S, urgency=S, description=S, location=S, building=S,
                      phone=S, idempotency_key=S, created_at=D, updated_at=D),
    "ticket_counters": _table("ticket_counters", day=S, type=S, last_seq=I),
    "ticket_events": _table("ticket_events", id=I, ticket_id=I, at=D, actor=S, action=S, to_status=S, note=S),
    "ticket_attachments": _table("ticket_attachments", id=I, ticket_id=I, kind=S, ref=S, created_at=D),
    "handoffs": _table("handoffs", id=I, sender_id=S, channel=S, language=S, reason=S, status=S, created_at=D,
                       last_message=S, resident_messages=I, priority=S),
    "staff_users": _table("staff_users", id=I, username=S, display_name=S, password_hash=S, role=S,
                          active=sa.Boolean(), created_at=D),
    "staff_sessions": _table("staff_sessions", id=I, token_hash=S, user_id=I, created_at=D, expires_at=D),
    "channel_kv": _table("channel_kv", key=S, value=S, expires_at=F),
    "channel_pending_photos": _table("channel_pending_photos", id=I, channel=S, sender_id=S, ref=S, created_at=F),
    "notification_log": _table("notification_log", event_id=I, ticket_number=S, outcome=S, at=F),
    "audit_log": _table("audit_log", id=I, at=F, actor=S, action=S, resident=S, subject=S),
    "linli_migrations": _table("linli_migrations", name=S, at=F),
}


def insert_sample_data(engine: Engine, older: bool = False) -> Dict[str, Any]:
    """One row or more in every table; returns what the checks look for."""
    far = (datetime.now(timezone.utc) + timedelta(days=30)).timestamp()
    ticket: Dict[str, Any] = dict(id=1, number="BX-20260301-0001", type="repair", day="20260301", seq=1,
                                  status="open", channel="wechat", sender_id="o-legacy", language="zh",
                                  unit="3栋2单元502", category="plumbing", urgency="normal",
                                  description="厨房水管漏水", location="3栋2单元502", building="3",
                                  phone="13812345678", idempotency_key="turn-1", created_at=T0, updated_at=T0)
    handoff: Dict[str, Any] = dict(id=1, sender_id="wechat:o-legacy", channel="wechat", language="zh",
                                   reason="requested", status="queued", created_at=T0, last_message="人工",
                                   resident_messages=1, priority="urgent")
    if older:
        ticket.pop("building")
        handoff.pop("priority")
    rows = {
        "tickets": [ticket],
        "ticket_counters": [dict(day="20260301", type="repair", last_seq=1)],
        "ticket_events": [dict(id=1, ticket_id=1, at=T0, actor="resident", action="created", to_status="open")],
        "ticket_attachments": [dict(id=1, ticket_id=1, kind="image", ref="media-123", created_at=T0)],
        "handoffs": [handoff],
        "staff_users": [dict(id=1, username="admin", display_name="管理员", password_hash="scrypt$legacy",
                             role="admin", active=True, created_at=T0)],
        "staff_sessions": [dict(id=1, token_hash=hashlib.sha256(SESSION_TOKEN.encode()).hexdigest(), user_id=1,
                                created_at=T0, expires_at=datetime.fromtimestamp(far, timezone.utc))],
        "channel_kv": [dict(key="wechat:token", value="cached-token", expires_at=far)],
        "channel_pending_photos": [dict(id=1, channel="wechat", sender_id="o-photo", ref="media-456",
                                        created_at=T0.timestamp())],
        "notification_log": [dict(event_id=0, ticket_number=None, outcome="baseline", at=T0.timestamp())],
        "audit_log": [dict(id=1, at=T0.timestamp(), actor="staff:admin", action="view_ticket",
                           resident="wechat:o-legacy", subject="BX-20260301-0001")],
        "linli_migrations": [dict(name="identity-namespacing-1", at=T0.timestamp())],
    }
    with engine.begin() as conn:
        for name, values in rows.items():
            conn.execute(sa.insert(TABLES[name]), values)
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for name in ("tickets", "ticket_events", "ticket_attachments", "handoffs", "staff_users",
                         "staff_sessions", "channel_pending_photos", "audit_log"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), 1)")
    return {"ticket": ticket["number"], "handoff": 1}


def create_rasa_events_table(engine: Engine) -> None:
    """A table like Rasa's tracker store ``events``, as when the tracker shares the database."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                             "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, data TEXT)")
        conn.exec_driver_sql("INSERT INTO events (id, sender_id, type_name, timestamp, data) "
                             "VALUES (1, 'wechat:o-legacy', 'user', 0, '{}')")
