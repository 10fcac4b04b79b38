"""The ``satisfaction_ratings`` table: one rating request per subject, and its answer.

A row is written when the resident is asked (a handoff ended, a ticket was resolved) and
answered in place: ``rating`` 1–5 and ``answered_at`` when the resident rates, ``comment``
when they add one. ``(subject_type, subject_id)`` is unique, so a subject is asked once
however often its close or its notification is retried. Times are epoch seconds, as in
the outbox.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

#: What a rating is about: a ticket (its number) or a handoff (its id).
SUBJECT_TYPES = ("ticket", "handoff")
#: The scale residents answer on.
MIN_RATING, MAX_RATING = 1, 5
#: Longest comment kept (characters).
MAX_COMMENT = 1000

ratings_table = Table(
    "satisfaction_ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("resident", String(160), nullable=False),  # conversation id "<channel>:<platform id>"
    Column("channel", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    # What asked (e.g. "ticket-event:12"): a retried notification re-sends the same prompt.
    Column("trigger", String(64), nullable=False),
    Column("asked_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("rating", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Column("answered_at", Float, nullable=True),
    UniqueConstraint("subject_type", "subject_id", name="uq_satisfaction_subject"),
    Index("ix_satisfaction_answered", "answered_at"),
    Index("ix_satisfaction_resident", "resident"),
)
