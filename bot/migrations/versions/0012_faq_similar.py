"""Similar questions of an FAQ entry (knowledge/content.py).

``kb_faq.similar_zh`` and ``kb_faq.similar_en``: other wordings of the entry's question per
language, a JSON list of strings (NULL: none). Each is embedded with the answer as one more
vector of the entry. A developer's database may have the columns already (the content
store's ``create_all`` on a new table): each is added only when missing.

Revision ID: 0012_faq_similar
Revises: 0011_incidents
Create Date: 2026-12-03

Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012_faq_similar"
down_revision: Union[str, Sequence[str], None] = "0011_incidents"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ("similar_zh", "similar_en")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("kb_faq"):
        return
    have = {c["name"] for c in inspector.get_columns("kb_faq")}
    missing = [c for c in COLUMNS if c not in have]
    if missing:
        with op.batch_alter_table("kb_faq") as batch:
            for name in missing:
                batch.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_faq") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
