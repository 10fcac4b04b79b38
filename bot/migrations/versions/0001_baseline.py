"""Baseline: Linli's tables as they were when migrations were introduced.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01

A new database gets every table created here. A database from before migrations
(its tables made by the stores' ``create_all``, no ``alembic_version``) is adopted: the
tables it lacks are created, and the columns and indexes an older release lacked
(tickets' structured location and visit time, handoffs' priority; what
``bot.db.add_missing_columns`` used to add at start-up) are added to the tables it has.
Either way the result is this schema, recorded as ``0001_baseline``.

This file is frozen: a later change to these tables is a new revision.
"""
from typing import Any, Callable, List, Sequence, Tuple, Union

import sqlalchemy as sa
from alembic import context, op

revision: str = "0001_baseline"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Index = Tuple[str, List[str], bool]  # name, columns, unique


def _ticket_counters() -> List[Any]:
    return [
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "type"),
    ]


def _tickets() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("building", sa.String(length=16), nullable=True),
        sa.Column("entrance", sa.String(length=16), nullable=True),
        sa.Column("room", sa.String(length=16), nullable=True),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.Column("visit_time", sa.String(length=128), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "type", "seq", name="uq_ticket_day_seq"),
        sa.UniqueConstraint("idempotency_key"),
    ]


def _ticket_attachments() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def _ticket_events() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def _handoffs() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("agent_name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("last_resident_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("resident_messages", sa.Integer(), nullable=False),
        sa.Column("callback_ticket", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=16), server_default="normal", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


def _staff_users() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


def _staff_sessions() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def _channel_kv() -> List[Any]:
    return [
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    ]


def _channel_pending_photos() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


def _notification_log() -> List[Any]:
    return [
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    ]


def _audit_log() -> List[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("resident", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    ]


def _linli_migrations() -> List[Any]:
    return [
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    ]


#: Every table: name, its columns and constraints, its indexes; in creation order (foreign keys).
TABLES: List[Tuple[str, Callable[[], List[Any]], List[Index]]] = [
    ("ticket_counters", _ticket_counters, []),
    ("tickets", _tickets, [
        ("ix_tickets_building", ["building"], False),
        ("ix_tickets_category", ["category"], False),
        ("ix_tickets_number", ["number"], True),
        ("ix_tickets_sender_id", ["sender_id"], False),
        ("ix_tickets_status", ["status"], False),
    ]),
    ("ticket_attachments", _ticket_attachments, [("ix_ticket_attachments_ticket_id", ["ticket_id"], False)]),
    ("ticket_events", _ticket_events, [("ix_ticket_events_ticket_id", ["ticket_id"], False)]),
    ("handoffs", _handoffs, [
        ("ix_handoffs_priority", ["priority"], False),
        ("ix_handoffs_sender_id", ["sender_id"], False),
        ("ix_handoffs_status", ["status"], False),
    ]),
    ("staff_users", _staff_users, [("ix_staff_users_username", ["username"], True)]),
    ("staff_sessions", _staff_sessions, [
        ("ix_staff_sessions_token_hash", ["token_hash"], True),
        ("ix_staff_sessions_user_id", ["user_id"], False),
    ]),
    ("channel_kv", _channel_kv, [("ix_channel_kv_expires_at", ["expires_at"], False)]),
    ("channel_pending_photos", _channel_pending_photos, [("ix_channel_pending_photos_sender_id", ["sender_id"], False)]),
    ("notification_log", _notification_log, []),
    ("audit_log", _audit_log, [
        ("ix_audit_log_actor", ["actor"], False),
        ("ix_audit_log_at", ["at"], False),
        ("ix_audit_log_resident", ["resident"], False),
    ]),
    ("linli_migrations", _linli_migrations, []),
]


def upgrade() -> None:
    # Offline (--sql) mode has no database to look at: it writes the SQL for an empty one.
    existing = set() if context.is_offline_mode() else set(sa.inspect(op.get_bind()).get_table_names())
    for name, definition, indexes in TABLES:
        if name in existing:
            _complete(name, definition(), indexes)
            continue
        op.create_table(name, *definition())
        for index, columns, unique in indexes:
            op.create_index(index, name, columns, unique=unique)


def _complete(name: str, items: List[Any], indexes: List[Index]) -> None:
    """Bring a table from before migrations up to this schema: add its missing columns
    (all of them nullable or with a server default) and indexes; its rows stay."""
    have = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(name)}
    for item in items:
        if isinstance(item, sa.Column) and item.name not in have:
            op.add_column(name, item)
    have = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(name)}
    for index, columns, unique in indexes:
        if index not in have:
            op.create_index(index, name, columns, unique=unique)


def downgrade() -> None:
    for name, _definition, _indexes in reversed(TABLES):
        op.drop_table(name)
