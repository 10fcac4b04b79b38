"""The knowledge base's tables in the shared database (``DATABASE_URL``).

Every replica of the action server reads the same rows, so questions the
knowledge base could not answer and the index itself are shared:

``kb_unanswered``
    one row per abstained question (status ``new`` / ``ignored`` / ``answered``
    for the desk's review page; ``faq_id`` names the FAQ entry that answered it).
``kb_versions``
    one row per built index: counts, sources summary, content checksum (unique:
    identical content is one version).
``kb_version_files``
    the index folder of a version as a gzip-compressed tar, cut into parts of
    :data:`PART_BYTES` (a base of a million vectors stays under any column limit
    and is streamed, not held in memory twice).
``kb_active``
    a single row (``id = 1``) naming the version every replica serves; replicas
    poll it with one primary-key SELECT (:mod:`knowledge.live`).
"""

from __future__ import annotations

import threading
from typing import Optional, Set

from sqlalchemy import (BigInteger, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, UniqueConstraint)
from sqlalchemy.engine import Engine

metadata = MetaData()

#: Size of one stored part of a version's archive.
PART_BYTES = 8 * 1024 * 1024
#: Review states of an unanswered question.
STATUSES = ("new", "ignored", "answered")

kb_unanswered = Table(
    "kb_unanswered", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("question", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("sender_id", String(255)),            # conversation id as the action server sees it
    Column("best_chunk", String(255)),           # closest chunk, too weak to answer from
    Column("status", String(16), nullable=False, server_default="new"),
    Column("updated_at", DateTime(timezone=True)),
    Column("updated_by", String(255)),
    Column("faq_id", String(255)),               # the FAQ entry that answers it (status answered)
    Index("ix_kb_unanswered_created_at", "created_at"),
    Index("ix_kb_unanswered_status_created_at", "status", "created_at"),
)

kb_versions = Table(
    "kb_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("note", String(500), nullable=False, server_default=""),
    Column("n_chunks", Integer, nullable=False),
    Column("n_vectors", Integer, nullable=False),
    Column("index_type", String(16), nullable=False),
    Column("embed_model", String(255), nullable=False),
    Column("sources", Text, nullable=False),     # JSON [{"source", "chunks"}]
    Column("checksum", String(64), nullable=False),
    Column("archive_sha256", String(64), nullable=False),
    Column("archive_bytes", BigInteger, nullable=False),   # a million vectors: over 2 GB
    Column("parts", Integer, nullable=False),
    UniqueConstraint("checksum", name="uq_kb_versions_checksum"),
)

kb_version_files = Table(
    "kb_version_files", metadata,
    Column("version_id", Integer, ForeignKey("kb_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

kb_active = Table(
    "kb_active", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),   # always 1
    Column("version_id", Integer, ForeignKey("kb_versions.id"), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

_READY: Set[str] = set()
_READY_LOCK = threading.Lock()


def get_engine(url: Optional[str] = None) -> Engine:
    """The process-wide engine on ``DATABASE_URL`` (:func:`bot.db.get_engine`)."""
    from bot.db import get_engine as bot_engine

    return bot_engine(url)


def ensure_schema(engine: Engine) -> None:
    """Make sure the knowledge-base tables exist (once per engine and process).

    An empty database (``python -m knowledge ingest`` on a new install, before any
    server started) gets Linli's whole schema at the migrations' head, exactly as a
    server creates it, so the servers find it current. Otherwise the missing
    knowledge-base tables are created as they are defined here; the migration
    that adds them skips tables that exist.
    """
    key = f"{id(engine)}:{engine.url}"
    with _READY_LOCK:
        if key in _READY:
            return
        try:
            from bot import schema
        except ImportError:  # knowledge used without the bot package
            schema = None  # type: ignore[assignment]
        if schema is not None and schema.state(engine).empty:
            schema.upgrade(engine)
        metadata.create_all(engine, checkfirst=True)
        _READY.add(key)
