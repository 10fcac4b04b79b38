"""The ``media`` table: one row per photo or voice message kept (the bytes are in a blob store)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

media_table = Table(
    "media",
    metadata,
    Column("id", String(32), primary_key=True),  # random hex: ids in URLs reveal nothing and cannot be counted
    Column("sha256", String(64), nullable=False, index=True),  # the blob's key (files are shared by hash)
    Column("content_type", String(64), nullable=False),  # sniffed from the bytes, never the declared type
    Column("size", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # image | voice
    Column("channel", String(32), nullable=False),  # wechat | telegram | socketio | ...
    Column("sender_id", String(255), nullable=False, index=True),  # conversation id "<channel>:<platform id>"
    Column("source_ref", Text),  # the platform's id or URL (WeChat MediaId/PicUrl, Telegram file_id)
    Column("created_at", Float, nullable=False, index=True),  # epoch seconds
)
