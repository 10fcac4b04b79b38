"""Unanswered questions reviewed in the desk: the FAQ entry that answered them.

Revision ID: 0007_unanswered_review
Revises: 0006_satisfaction
Create Date: 2026-12-01

``kb_unanswered`` already has a review status (new / ignored / answered); the desk's
"add as FAQ" also records which FAQ entry answers a question (``faq_id``). Nullable, so
existing rows need no value. Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_unanswered_review"
down_revision: Union[str, Sequence[str], None] = "0006_satisfaction"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _has_column(table: str, column: str) -> bool:
    return any(c["name"] == column for c in sa.inspect(op.get_bind()).get_columns(table))


def upgrade() -> None:
    # knowledge.tables.ensure_schema may have made the table with the column already
    # (`python -m knowledge ingest` on a developer's database before this revision ran).
    if not _has_column("kb_unanswered", "faq_id"):
        with op.batch_alter_table("kb_unanswered") as batch:
            batch.add_column(sa.Column("faq_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_unanswered") as batch:
        batch.drop_column("faq_id")
