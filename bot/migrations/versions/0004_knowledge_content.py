"""Knowledge-base content edited in the desk: FAQ entries, documents, re-index jobs.

Revision ID: 0004_knowledge_content
Revises: 0003_outbox
Create Date: 2026-12-01

``kb_faq``, ``kb_documents``, ``kb_content_state`` and ``kb_jobs``
(knowledge/content_tables.py): the content store the desk edits and the jobs that build
an index version from it. ``knowledge.content.ContentStore`` creates missing tables with
``create_all`` on a developer's database, so each one is created only when missing.

Runs on SQLite and PostgreSQL (tests/migrations upgrades real databases of both).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004_knowledge_content"
down_revision: Union[str, Sequence[str], None] = "0003_outbox"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("kb_faq"):
        op.create_table(
            "kb_faq",
            sa.Column("faq_id", sa.String(length=100), nullable=False),
            sa.Column("category", sa.String(length=64), server_default="", nullable=False),
            sa.Column("question_zh", sa.Text(), nullable=True),
            sa.Column("answer_zh", sa.Text(), nullable=True),
            sa.Column("question_en", sa.Text(), nullable=True),
            sa.Column("answer_en", sa.Text(), nullable=True),
            sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column("position", sa.Integer(), server_default="0", nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_by", sa.String(length=255), server_default="", nullable=False),
            sa.PrimaryKeyConstraint("faq_id"),
        )
        op.create_index("ix_kb_faq_category", "kb_faq", ["category"], unique=False)
    if _missing("kb_documents"):
        op.create_table(
            "kb_documents",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("filename", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=8), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("size", sa.BigInteger(), nullable=False),
            sa.Column("content", sa.LargeBinary(), nullable=False),
            sa.Column("chunks", sa.Integer(), server_default="0", nullable=False),
            sa.Column("warnings", sa.Text(), server_default="[]", nullable=False),
            sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("uploaded_by", sa.String(length=255), server_default="", nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("filename", name="uq_kb_documents_filename"),
        )
    if _missing("kb_content_state"):
        op.create_table(
            "kb_content_state",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("seeded_from", sa.String(length=255), server_default="", nullable=False),
            sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
            sa.Column("indexed_revision", sa.Integer(), nullable=True),
            sa.Column("indexed_version", sa.Integer(), nullable=True),
            sa.Column("job_id", sa.Integer(), nullable=True),
            sa.Column("profile", sa.Text(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
    if _missing("kb_jobs"):
        op.create_table(
            "kb_jobs",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("stage", sa.String(length=32), server_default="", nullable=False),
            sa.Column("progress", sa.Float(), server_default="0", nullable=False),
            sa.Column("message", sa.Text(), server_default="", nullable=False),
            sa.Column("note", sa.String(length=500), server_default="", nullable=False),
            sa.Column("revision", sa.Integer(), nullable=True),
            sa.Column("version_id", sa.Integer(), nullable=True),
            sa.Column("started_by", sa.String(length=255), server_default="", nullable=False),
            sa.Column("owner", sa.String(length=255), server_default="", nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_kb_jobs_status", "kb_jobs", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kb_jobs_status", table_name="kb_jobs")
    op.drop_table("kb_jobs")
    op.drop_table("kb_content_state")
    op.drop_table("kb_documents")
    op.drop_index("ix_kb_faq_category", table_name="kb_faq")
    op.drop_table("kb_faq")
