"""Questions the knowledge base could not answer, kept for staff review.

The service records them in the shared database (table ``kb_unanswered``, see
:class:`UnansweredStore`), so every replica's questions reach the same list;
each row has a review status (``new`` / ``ignored`` / ``answered``).

A standalone :class:`~knowledge.answer.Answerer` on an index folder (``python -m
knowledge ask --index``, benchmarks, tests) still appends to the JSONL file
``unanswered_log`` (:func:`record`, :func:`read`). Such a file, and the one an
older install wrote, is moved into the database on first use
(:meth:`UnansweredStore.import_jsonl`): its lines are inserted and the file is
renamed ``*.imported-<time>``, so each line is imported once.

The desk's review page lists them grouped by similarity (:meth:`UnansweredStore.groups`,
:mod:`knowledge.question_groups`) and marks a group ignored or answered by an FAQ entry.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from .tables import STATUSES, ensure_schema, get_engine, kb_unanswered

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def record(path: Path, question: str, language: str, confidence: float, sender_id: Optional[str] = None,
           **extra: Any) -> None:
    """Append one unanswered question to a JSONL file (never raises: logging must not break a conversation)."""
    entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sender_id": sender_id,
             "language": language, "question": question, "confidence": round(float(confidence), 4), **extra}
    try:
        with _LOCK:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except OSError:
        pass


def read(path: Path, limit: int = 100) -> List[Dict[str, Any]]:
    """Latest ``limit`` questions of a JSONL file, newest first (the service reads :func:`latest`)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()[-limit:]
    return [json.loads(x) for x in reversed(lines) if x.strip()]


class UnansweredStore:
    """``kb_unanswered``: every replica's unanswered questions in one table."""

    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or get_engine()
        ensure_schema(self.engine)

    def record(self, question: str, language: str, confidence: float, sender_id: Optional[str] = None,
               best: Optional[str] = None) -> None:
        """Insert one question (never raises: a database hiccup must not break a conversation)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kb_unanswered).values(
                    created_at=datetime.now(timezone.utc), question=question, language=language,
                    confidence=round(float(confidence), 4), sender_id=sender_id, best_chunk=best, status="new"))
        except Exception as exc:  # noqa: BLE001 - reported, never raised into a turn
            log.warning("could not record an unanswered question in the database: %s", exc)

    def latest(self, limit: int = 100, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """Latest ``limit`` questions, newest first, with the JSONL log's keys plus ``id`` and ``status``."""
        query = select(kb_unanswered).order_by(kb_unanswered.c.created_at.desc(), kb_unanswered.c.id.desc())
        if status is not None:
            _check_status(status)
            query = query.where(kb_unanswered.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [_entry(r) for r in rows]

    def set_status(self, entry_id: int, status: str, by: Optional[str] = None) -> bool:
        """Mark a question ``new``, ``ignored`` or ``answered``; False when there is no such row."""
        return self.set_status_many([entry_id], status, by) == 1

    def set_status_many(self, entry_ids: Sequence[int], status: str, by: Optional[str] = None,
                        faq_id: Optional[str] = None) -> int:
        """Mark several questions at once (a group); returns how many rows exist and changed.

        ``faq_id`` records the FAQ entry that answers them (``answered``); other statuses clear it.
        """
        _check_status(status)
        ids = sorted({int(i) for i in entry_ids})
        if not ids:
            return 0
        values = {"status": status, "updated_at": datetime.now(timezone.utc), "updated_by": by,
                  "faq_id": faq_id if status == "answered" else None}
        with self.engine.begin() as conn:
            done = conn.execute(update(kb_unanswered).where(kb_unanswered.c.id.in_(ids)).values(**values))
        return int(done.rowcount or 0)

    def groups(self, status: Optional[str] = "new", limit: int = 2000) -> List[Dict[str, Any]]:
        """The latest ``limit`` questions with ``status``, similar ones grouped
        (:func:`knowledge.question_groups.group_questions`), most frequent first."""
        from .question_groups import group_questions

        return group_questions(self.latest(limit, status))

    def import_jsonl(self, path: Path) -> int:
        """Move a JSONL log into the table; returns the number of questions imported.

        The file is first renamed to claim it (two processes never import it
        twice), then its lines are inserted in one transaction and it is kept
        as ``<name>.imported-<UTC time>``; on failure it gets its name back.
        """
        path = Path(path)
        if not path.is_file():
            return 0
        claimed = path.with_name(f"{path.name}.importing-{os.getpid()}")
        try:
            os.rename(path, claimed)
        except OSError:
            return 0  # another process claimed it a moment ago
        try:
            rows = [_row(json.loads(line)) for line in claimed.read_text(encoding="utf-8").splitlines() if line.strip()]
            if rows:
                with self.engine.begin() as conn:
                    conn.execute(insert(kb_unanswered), rows)
        except Exception:
            os.rename(claimed, path)
            raise
        os.rename(claimed, path.with_name(f"{path.name}.imported-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"))
        log.info("imported %d unanswered questions from %s", len(rows), path)
        return len(rows)


def latest(limit: int = 100, status: Optional[str] = None, engine: Optional[Engine] = None) -> List[Dict[str, Any]]:
    """Latest unanswered questions in the database (``DATABASE_URL``), newest first."""
    return UnansweredStore(engine).latest(limit, status)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status '{status}' unknown; use one of {', '.join(STATUSES)}")


def _entry(row: Any) -> Dict[str, Any]:
    created = row["created_at"]
    if created.tzinfo is None:  # SQLite drops the zone: stored as UTC
        created = created.replace(tzinfo=timezone.utc)
    return {"id": row["id"], "ts": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sender_id": row["sender_id"], "language": row["language"], "question": row["question"],
            "confidence": row["confidence"], "best": row["best_chunk"], "status": row["status"],
            "faq_id": row["faq_id"]}


def _row(entry: Dict[str, Any]) -> Dict[str, Any]:
    """A JSONL entry as a ``kb_unanswered`` row."""
    try:
        created = datetime.strptime(str(entry.get("ts")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        created = datetime.now(timezone.utc)
    return {"created_at": created, "question": str(entry.get("question") or ""),
            "language": str(entry.get("language") or "zh")[:8], "confidence": float(entry.get("confidence") or 0.0),
            "sender_id": entry.get("sender_id"), "best_chunk": entry.get("best"), "status": "new"}
