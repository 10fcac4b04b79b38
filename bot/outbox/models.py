"""The ``outbox`` table: one row per message sent to a resident outside a request.

Statuses (a row moves only forwards, except a staff retry):

- ``pending``: waiting for its next attempt at ``next_attempt_at``;
- ``sending``: claimed by one worker (``claimed_by`` = ``host:pid``, ``claimed_at``);
  a claim older than the lease is a crashed worker's and goes back to ``pending``;
- ``sent``: delivered (``sent_at``);
- ``dead``: every attempt failed (``LINLI_OUTBOX_MAX_ATTEMPTS``): a dead letter,
  shown on the desk until staff retry it;
- ``undeliverable``: the channel cannot deliver proactively (REST, a channel not
  configured in this deployment). Expected, never retried automatically, no alarm.

Times are epoch seconds (floats), as in the other small tables (``channel_kv``).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

PENDING, SENDING, SENT, DEAD, UNDELIVERABLE = "pending", "sending", "sent", "dead", "undeliverable"
STATUSES = (PENDING, SENDING, SENT, DEAD, UNDELIVERABLE)
#: Rows staff may send again (POST /api/outbox/<id>/retry).
RETRYABLE = (DEAD, UNDELIVERABLE)
#: Rows still on their way: a newer message to the same resident waits behind them.
IN_FLIGHT = (PENDING, SENDING)

#: What the message is (free text; these are the ones Linli writes).
KINDS = ("notification", "agent_reply", "handoff_taken", "handoff_resumed", "handoff_timeout", "late_answer",
         "emergency_advice", "emergency_place", "notice", "incident")

outbox_table = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(160), nullable=False),  # as the caller gave it: platform or conversation id
    Column("conversation_id", String(160), nullable=False),  # "<channel>:<platform id>"
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=True),  # anything beyond the text (for future rich messages)
    Column("dedupe_key", String(191), nullable=True, unique=True),  # NULLs never collide
    Column("status", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_at", Float, nullable=True),
    Column("last_error", Text, nullable=True),  # redacted (bot.settings.redact)
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    # Metadata of the BotUttered the worker appends to the transcript once delivered;
    # NULL when the caller recorded the message itself (agent replies, Rasa's own answers).
    Column("transcript", JSON, nullable=True),
    # The path that delivered it (bot.outbound): "customer_service" / "template" on WeChat, else the
    # channel's name; NULL until sent (and for rows sent before migration 0008).
    Column("delivered_via", String(32), nullable=True),
    Index("ix_outbox_status_due", "status", "next_attempt_at"),
    Index("ix_outbox_recipient", "conversation_id", "status"),
)
