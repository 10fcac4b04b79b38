"""Tables of notices (物业通知): the notices, who each one went to, and who opted out.

- ``notices``: one row per notice, bilingual (``title_zh``/``body_zh``, ``title_en``/``body_en``),
  ``urgent`` or not, its target (``target_kind`` ``all`` | ``buildings`` | ``units`` and the
  list in ``target``), status ``draft`` → ``sending`` → ``sent``;
- ``notice_deliveries``: one row per (notice, resident) when it is sent: ``queued`` with the
  outbox row that carries it (whose status says sent / queued / failed / undeliverable), or
  ``skipped`` with a reason (``opted_out``);
- ``notice_subscriptions``: a resident's answer to "退订通知" / "订阅通知" (no row: subscribed).
  Non-urgent notices skip residents whose row says ``subscribed = false``; urgent ones do not.

Times are epoch seconds, as in the outbox.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

metadata = MetaData()

DRAFT, SENDING, SENT = "draft", "sending", "sent"
STATUSES = (DRAFT, SENDING, SENT)
ALL, BUILDINGS, UNITS = "all", "buildings", "units"
TARGET_KINDS = (ALL, BUILDINGS, UNITS)
QUEUED, SKIPPED = "queued", "skipped"
OPTED_OUT = "opted_out"
#: Longest texts accepted (characters); WeChat template fields are short, residents read on phones.
MAX_TITLE, MAX_BODY = 100, 2000
#: Most buildings or units one notice may name.
MAX_TARGETS = 500

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title_zh", String(MAX_TITLE), nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("title_en", String(MAX_TITLE), nullable=False),
    Column("body_en", Text, nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("target_kind", String(16), nullable=False),
    Column("target", JSON, nullable=True),  # ["3", "5"] or [{"building", "entrance", "room"}]
    Column("status", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("sent_by", String(64), nullable=True),
    Column("sending_at", Float, nullable=True),
    Column("sent_at", Float, nullable=True),
    Column("recipients", Integer, nullable=True),  # residents targeted when sent
    Index("ix_notices_created", "created_at"),
)

notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notice_id", Integer, nullable=False),
    Column("resident", String(160), nullable=False),  # conversation id
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("outcome", String(16), nullable=False),  # queued | skipped
    Column("reason", String(64), nullable=True),  # why skipped
    Column("outbox_id", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("notice_id", "resident", name="uq_notice_deliveries_resident"),
)

notice_subscriptions = Table(
    "notice_subscriptions",
    metadata,
    Column("resident", String(160), primary_key=True),  # conversation id
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False),
    Column("subscribed", Boolean, nullable=False),
    Column("updated_by", String(80), nullable=False),  # "resident" or "staff:<username>"
    Column("updated_at", Float, nullable=False),
)
