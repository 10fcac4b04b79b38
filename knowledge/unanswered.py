"""Append questions the knowledge base could not answer to a JSONL file for staff review."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

_LOCK = threading.Lock()


def record(path: Path, question: str, language: str, confidence: float, sender_id: Optional[str] = None,
           **extra: Any) -> None:
    """Append one unanswered question (never raises: logging must not break a conversation)."""
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
    """Latest ``limit`` unanswered questions, newest first (for the staff dashboard)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()[-limit:]
    return [json.loads(x) for x in reversed(lines) if x.strip()]
