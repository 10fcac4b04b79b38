"""Desk essentials: canned replies (bot/desk/canned.py).

Revision ID: 0005_desk_essentials
Revises: 0004_knowledge_content
Create Date: 2026-12-01

``canned_replies``: texts staff insert into a reply with a shortcut, shared (``owner``
NULL) or personal (``owner`` = username). A developer's database may have the table
already (``CannedStore`` runs ``create_all``): it is created only when missing.

Runs on SQLite and PostgreSQL (tests/migrations upgrades real databases of both).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005_desk_essentials"
down_revision: Union[str, Sequence[str], None] = "0004_knowledge_content"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("canned_replies"):
        return
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_canned_replies_owner_language", "canned_replies", ["owner", "language"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_canned_replies_owner_language", table_name="canned_replies")
    op.drop_table("canned_replies")
