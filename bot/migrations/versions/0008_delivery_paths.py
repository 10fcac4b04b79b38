"""WeChat delivery paths: which path delivered an outbox message (template / customer service).

Revision ID: 0008_delivery_paths
Revises: 0007_unanswered_review
Create Date: 2026-12-01

``outbox.delivered_via``: the path the sender reported (``customer_service`` or ``template``
on WeChat, else the channel's name: ``telegram``, ``socketio``...; see bot/outbound). Nullable:
rows sent before this revision, and rows not sent yet, have none. A developer's database may
have the column already (``OutboxStore`` runs ``create_all`` on a new database): it is added
only when missing.

Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008_delivery_paths"
down_revision: Union[str, Sequence[str], None] = "0007_unanswered_review"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _has_column(table: str, column: str) -> bool:
    inspector = sa.inspect(op.get_bind())
    return inspector.has_table(table) and any(c["name"] == column for c in inspector.get_columns(table))


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("outbox") or _has_column("outbox", "delivered_via"):
        return
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("delivered_via", sa.String(length=32), nullable=True))


def downgrade() -> None:
    if _has_column("outbox", "delivered_via"):
        with op.batch_alter_table("outbox") as batch:
            batch.drop_column("delivered_via")
