"""Tables of the knowledge base's *content*, edited in the desk (``DATABASE_URL``).

The content store is the truth; an index version (:mod:`knowledge.tables`) is built
from it by a re-index job (:mod:`knowledge.jobs`).

``kb_faq``
    one row per FAQ id with its Chinese and English version (either may be missing),
    its category, whether it is the invented demo content, and who changed it last.
``kb_documents``
    uploaded documents: the file itself, its kind, digest, size, the warnings the
    readers gave (pages without a text layer...) and its chunk count at upload.
``kb_content_state``
    a single row (``id = 1``): created when the content was first seeded (the marker
    that seeding happened), the content revision (incremented by every change), the
    revision and version the last successful re-index built, the job that holds the
    one-job-at-a-time slot, and the first-run setup profile.
``kb_jobs``
    re-index jobs: status, stage, progress, heartbeat (a job whose heartbeat stopped
    belongs to a crashed server), the version it built.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Float, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, UniqueConstraint, false)

metadata = MetaData()

#: Longest FAQ id, document file name, category.
MAX_ID, MAX_FILENAME, MAX_CATEGORY = 100, 200, 64
STATE_ROW = 1

kb_faq = Table(
    "kb_faq", metadata,
    Column("faq_id", String(MAX_ID), primary_key=True),
    Column("category", String(MAX_CATEGORY), nullable=False, server_default=""),
    Column("question_zh", Text),
    Column("answer_zh", Text),
    Column("question_en", Text),
    Column("answer_en", Text),
    Column("similar_zh", Text),     # JSON list of other wordings of question_zh (NULL: none)
    Column("similar_en", Text),
    Column("demo", Boolean, nullable=False, server_default=false()),
    Column("position", Integer, nullable=False, server_default="0"),   # list order (seeded file order first)
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=False, server_default=""),
    Index("ix_kb_faq_category", "category"),
)

kb_documents = Table(
    "kb_documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filename", String(MAX_FILENAME), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("chunks", Integer, nullable=False, server_default="0"),
    Column("warnings", Text, nullable=False, server_default="[]"),    # JSON list of strings
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("uploaded_by", String(255), nullable=False, server_default=""),
    UniqueConstraint("filename", name="uq_kb_documents_filename"),
)

kb_content_state = Table(
    "kb_content_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),      # always 1
    Column("seeded_at", DateTime(timezone=True), nullable=False),
    Column("seeded_from", String(255), nullable=False, server_default=""),
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("indexed_revision", Integer),
    Column("indexed_version", Integer),
    Column("job_id", Integer),                                         # the job holding the slot (any status)
    Column("profile", Text),                                           # JSON: the first-run setup's answers
    Column("updated_at", DateTime(timezone=True)),
)

kb_jobs = Table(
    "kb_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),                      # queued, running, done, failed
    Column("stage", String(32), nullable=False, server_default=""),
    Column("progress", Float, nullable=False, server_default="0"),
    Column("message", Text, nullable=False, server_default=""),
    Column("note", String(500), nullable=False, server_default=""),
    Column("revision", Integer),                                       # content revision it builds
    Column("version_id", Integer),
    Column("started_by", String(255), nullable=False, server_default=""),
    Column("owner", String(255), nullable=False, server_default=""),   # host:pid of the server running it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_kb_jobs_status", "status"),
)
