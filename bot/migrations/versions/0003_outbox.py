"""Outbox: one row per message sent to a resident outside a request (bot/outbox/models.py).

Revision ID: 0003_outbox
Revises: 0002_knowledge_base_tables
Create Date: 2026-12-01

Ticket notifications, desk replies and WeChat late answers are queued here and delivered,
retried and, after the last attempt, kept as dead letters (``bot.outbox``). A developer's
database may have the table already (``OutboxStore`` runs ``create_all``): it is created
only when missing.

Runs on SQLite and PostgreSQL (tests/migrations upgrades real databases of both).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_outbox"
down_revision: Union[str, Sequence[str], None] = "0002_knowledge_base_tables"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("outbox"):
        return
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=160), nullable=False),
        sa.Column("conversation_id", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=191), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_recipient", "outbox", ["conversation_id", "status"], unique=False)
    op.create_index("ix_outbox_status_due", "outbox", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_status_due", table_name="outbox")
    op.drop_index("ix_outbox_recipient", table_name="outbox")
    op.drop_table("outbox")
