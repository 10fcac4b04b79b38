"""Media store: photos and voice kept by Linli (bot/media).

Revision ID: 0009_media_store
Revises: 0008_delivery_paths
Create Date: 2026-12-01

``media``: one row per kept photo or voice message (the bytes are files named by their
SHA-256 under ``LINLI_MEDIA_DIR``). A developer's database may have the table already
(``MediaStore`` runs ``create_all``): it is created only when missing.

Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009_media_store"
down_revision: Union[str, Sequence[str], None] = "0008_delivery_paths"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("media"):
        return
    op.create_table(
        "media",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_media_sha256", "media", ["sha256"], unique=False)
    op.create_index("ix_media_sender_id", "media", ["sender_id"], unique=False)
    op.create_index("ix_media_created_at", "media", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_media_created_at", table_name="media")
    op.drop_index("ix_media_sender_id", table_name="media")
    op.drop_index("ix_media_sha256", table_name="media")
    op.drop_table("media")
