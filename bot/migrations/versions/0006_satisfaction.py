"""Satisfaction: rating requests and ratings of handoffs and tickets (bot/satisfaction).

Revision ID: 0006_satisfaction
Revises: 0005_desk_essentials
Create Date: 2026-12-01

``satisfaction_ratings``: one row per subject (a ticket number or a handoff id) the resident
was asked to rate, answered in place (rating 1–5, optional comment). A developer's database
may have the table already (``SatisfactionStore`` runs ``create_all``): it is created only
when missing.

Runs on SQLite and PostgreSQL (tests/migrations upgrades real databases of both).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006_satisfaction"
down_revision: Union[str, Sequence[str], None] = "0005_desk_essentials"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("satisfaction_ratings"):
        return
    op.create_table(
        "satisfaction_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("resident", sa.String(length=160), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_type", "subject_id", name="uq_satisfaction_subject"),
    )
    op.create_index("ix_satisfaction_answered", "satisfaction_ratings", ["answered_at"], unique=False)
    op.create_index("ix_satisfaction_resident", "satisfaction_ratings", ["resident"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_satisfaction_resident", table_name="satisfaction_ratings")
    op.drop_index("ix_satisfaction_answered", table_name="satisfaction_ratings")
    op.drop_table("satisfaction_ratings")
