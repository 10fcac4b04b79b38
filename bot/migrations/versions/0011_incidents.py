"""Incidents and early warning (bot/incidents).

Revision ID: 0011_incidents
Revises: 0010_notices
Create Date: 2026-12-01

``incidents`` (outages and works staff declare: kind, bilingual title and description, the
buildings or the whole community, start, expected end, resolution), ``incident_links`` (the
conversations that asked about one or reported the same problem, and the tickets linked from
an alert) and ``incident_alerts`` (early-warning clusters; ``open_key`` is unique while an alert
is open). A developer's database may have the tables already (``IncidentStore`` runs
``create_all``): each is created only when missing.

Runs on SQLite (batch mode) and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011_incidents"
down_revision: Union[str, Sequence[str], None] = "0010_notices"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("incidents"):
        op.create_table(
            "incidents",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("title_zh", sa.String(length=200), nullable=True),
            sa.Column("title_en", sa.String(length=200), nullable=True),
            sa.Column("description_zh", sa.Text(), nullable=True),
            sa.Column("description_en", sa.Text(), nullable=True),
            sa.Column("community_wide", sa.Boolean(), nullable=False),
            sa.Column("buildings", sa.Text(), nullable=True),
            sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expected_end_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("resolution_note", sa.Text(), nullable=True),
            sa.Column("created_by", sa.String(length=64), nullable=False),
            sa.Column("resolved_by", sa.String(length=64), nullable=True),
            sa.Column("alert_id", sa.Integer(), nullable=True),
            sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_incidents_status", "incidents", ["status"], unique=False)
    if not inspector.has_table("incident_links"):
        op.create_table(
            "incident_links",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("incident_id", sa.Integer(), nullable=False),
            sa.Column("link_type", sa.String(length=16), nullable=False),
            sa.Column("conversation_id", sa.String(length=160), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("sender_id", sa.String(length=128), nullable=False),
            sa.Column("language", sa.String(length=8), nullable=False),
            sa.Column("ticket_number", sa.String(length=32), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("incident_id", "conversation_id", "link_type", name="uq_incident_link"),
        )
        op.create_index("ix_incident_links_incident", "incident_links", ["incident_id"], unique=False)
    if not inspector.has_table("incident_alerts"):
        op.create_table(
            "incident_alerts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("category", sa.String(length=32), nullable=False),
            sa.Column("building", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("open_key", sa.String(length=64), nullable=True),
            sa.Column("ticket_count", sa.Integer(), nullable=False),
            sa.Column("ticket_numbers", sa.Text(), nullable=False),
            sa.Column("first_ticket_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_ticket_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("handled_by", sa.String(length=64), nullable=True),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("incident_id", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("open_key", name="uq_incident_alert_open"),
        )
        op.create_index("ix_incident_alerts_pair", "incident_alerts", ["category", "building"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incident_alerts_pair", table_name="incident_alerts")
    op.drop_table("incident_alerts")
    op.drop_index("ix_incident_links_incident", table_name="incident_links")
    op.drop_table("incident_links")
    op.drop_index("ix_incidents_status", table_name="incidents")
    op.drop_table("incidents")
