"""Resident units and notices (bot/residence, bot/notices).

``resident_units``: units residents stated and confirmed, or staff added (and tombstones of the
units staff removed); ``notices``, ``notice_deliveries``, ``notice_subscriptions``: notices, who
each one went to (with its outbox row), and who opted out. Each table is created only when
missing (a developer's database may have them from the stores' ``create_all``).

Revision ID: 0010_notices
Revises: 0009_media_store
Create Date: 2026-12-01

Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010_notices"
down_revision: Union[str, Sequence[str], None] = "0009_media_store"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "resident_units" not in existing:
        op.create_table(
            "resident_units",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("resident", sa.String(length=160), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("sender_id", sa.String(length=128), nullable=False),
            sa.Column("building", sa.String(length=16), nullable=False),
            sa.Column("entrance", sa.String(length=16), nullable=True),
            sa.Column("room", sa.String(length=16), nullable=False),
            sa.Column("unit_key", sa.String(length=64), nullable=False),
            sa.Column("source", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_by", sa.String(length=80), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("resident", "unit_key", name="uq_resident_units_unit"),
        )
        op.create_index("ix_resident_units_building", "resident_units", ["building", "status"], unique=False)
    if "notices" not in existing:
        op.create_table(
            "notices",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("title_zh", sa.String(length=100), nullable=False),
            sa.Column("body_zh", sa.Text(), nullable=False),
            sa.Column("title_en", sa.String(length=100), nullable=False),
            sa.Column("body_en", sa.Text(), nullable=False),
            sa.Column("urgent", sa.Boolean(), nullable=False),
            sa.Column("target_kind", sa.String(length=16), nullable=False),
            sa.Column("target", sa.JSON(), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_by", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("sent_by", sa.String(length=64), nullable=True),
            sa.Column("sending_at", sa.Float(), nullable=True),
            sa.Column("sent_at", sa.Float(), nullable=True),
            sa.Column("recipients", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_notices_created", "notices", ["created_at"], unique=False)
    if "notice_deliveries" not in existing:
        op.create_table(
            "notice_deliveries",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("notice_id", sa.Integer(), nullable=False),
            sa.Column("resident", sa.String(length=160), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("sender_id", sa.String(length=128), nullable=False),
            sa.Column("language", sa.String(length=8), nullable=False),
            sa.Column("outcome", sa.String(length=16), nullable=False),
            sa.Column("reason", sa.String(length=64), nullable=True),
            sa.Column("outbox_id", sa.Integer(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("notice_id", "resident", name="uq_notice_deliveries_resident"),
        )
    if "notice_subscriptions" not in existing:
        op.create_table(
            "notice_subscriptions",
            sa.Column("resident", sa.String(length=160), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("sender_id", sa.String(length=128), nullable=False),
            sa.Column("subscribed", sa.Boolean(), nullable=False),
            sa.Column("updated_by", sa.String(length=80), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("resident"),
        )


def downgrade() -> None:
    op.drop_table("notice_subscriptions")
    op.drop_table("notice_deliveries")
    op.drop_index("ix_notices_created", table_name="notices")
    op.drop_table("notices")
    op.drop_index("ix_resident_units_building", table_name="resident_units")
    op.drop_table("resident_units")
