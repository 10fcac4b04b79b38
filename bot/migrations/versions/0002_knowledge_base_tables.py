"""Knowledge base tables: unanswered questions and index versions (knowledge/tables.py).

Revision ID: 0002_knowledge_base_tables
Revises: 0001_baseline
Create Date: 2026-12-01

``kb_unanswered`` replaces the action server's JSONL log (imported on first use);
``kb_versions`` / ``kb_version_files`` / ``kb_active`` hold the index every replica
serves. ``python -m knowledge ingest`` may have created these tables already on a
database from before this revision (``knowledge.tables.ensure_schema``): each one is
created only when missing.

Runs on SQLite and PostgreSQL (tests/migrations upgrades real databases of both).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_knowledge_base_tables"
down_revision: Union[str, Sequence[str], None] = "0001_baseline"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("kb_unanswered"):
        op.create_table(
            "kb_unanswered",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("language", sa.String(length=8), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.Column("sender_id", sa.String(length=255), nullable=True),
            sa.Column("best_chunk", sa.String(length=255), nullable=True),
            sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_by", sa.String(length=255), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_kb_unanswered_created_at", "kb_unanswered", ["created_at"], unique=False)
        op.create_index("ix_kb_unanswered_status_created_at", "kb_unanswered", ["status", "created_at"], unique=False)
    if _missing("kb_versions"):
        op.create_table(
            "kb_versions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("note", sa.String(length=500), server_default="", nullable=False),
            sa.Column("n_chunks", sa.Integer(), nullable=False),
            sa.Column("n_vectors", sa.Integer(), nullable=False),
            sa.Column("index_type", sa.String(length=16), nullable=False),
            sa.Column("embed_model", sa.String(length=255), nullable=False),
            sa.Column("sources", sa.Text(), nullable=False),
            sa.Column("checksum", sa.String(length=64), nullable=False),
            sa.Column("archive_sha256", sa.String(length=64), nullable=False),
            sa.Column("archive_bytes", sa.BigInteger(), nullable=False),
            sa.Column("parts", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("checksum", name="uq_kb_versions_checksum"),
        )
    if _missing("kb_active"):
        op.create_table(
            "kb_active",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["version_id"], ["kb_versions.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
    if _missing("kb_version_files"):
        op.create_table(
            "kb_version_files",
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("part", sa.Integer(), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["version_id"], ["kb_versions.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("version_id", "part"),
        )


def downgrade() -> None:
    op.drop_table("kb_version_files")
    op.drop_table("kb_active")
    op.drop_table("kb_versions")
    op.drop_index("ix_kb_unanswered_status_created_at", table_name="kb_unanswered")
    op.drop_index("ix_kb_unanswered_created_at", table_name="kb_unanswered")
    op.drop_table("kb_unanswered")
