"""Where a turn's time goes in a running Linli server or action server: py-spy samples grouped
into the parts of a turn (the load benchmark's ``--profile``, benchmarks/bench_load.py).

``py-spy record --threads --format raw`` writes collapsed stacks (``thread;frame;...;frame
count``, root first, frames ``function (path:line)``). Idle samples (a thread waiting for work,
the event loop waiting for I/O) are dropped, so what is left is the time each thread was busy:
for the server's main thread, the time the event loop was blocked, which bounds what one
process serves. Each stack goes to the first part (in the order of :data:`SERVER_PARTS` or
:data:`ACTION_PARTS`) with a pattern matching one of its frames; divided by the turns served
during the recording this gives milliseconds per turn for each part.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

Parts = Sequence[Tuple[str, str]]

#: The Linli server (Rasa): (part, pattern on a frame); the first part matching any frame wins.
SERVER_PARTS: Parts = (
    ("event deserialisation (Event.resolve_by_type)", r"resolve_by_type \(rasa/shared/core/events"),
    ("tracker store: SQL, JSON (load + save)", r"rasa/core/tracker_store\.py"),
    ("action responses: jsonschema validation", r"jsonschema/"),
    ("NLU: transformer", r"bot/nlu/joint_"),
    ("NLU: other components", r"bot/nlu/|rasa/nlu/|jieba"),
    ("policy: TED", r"rasa/core/policies/ted_policy\.py"),
    ("policy: rules + memoization", r"rasa/core/policies/(rule_policy|memoization)\.py"),
    ("policy: other", r"rasa/core/policies/|rasa/core/featurizers/"),
    ("tracker to JSON for the action server", r"_action_call_format \(rasa/core/actions/action"),
    ("action server round trip (HTTP client)", r"rasa/utils/endpoints\.py|aiohttp/"),
    ("event broker + its consumers", r"rasa/core/brokers/|bot/broker/|bot/handoff/relay|aio_pika|aiormq|pamqp"),
    ("lock store", r"rasa/core/lock_store\.py|redis/"),
    ("metrics", r"bot/metrics|prometheus_client"),
    ("tracker operations (copy, sessions, forms' history)", r"rasa/shared/core/"),
    ("Rasa actions, forms, responses", r"rasa/core/actions/|rasa/core/nlg/"),
    # Not bot/server.py or bot/channels/rest.py: they are at the root of every request.
    ("Linli (handoff, desk, channels, outbox)", r"bot/(?!server\.py|channels/rest\.py)"),
    ("graph runner (dask)", r"rasa/engine/|dask/"),
    ("database (other)", r"sqlalchemy/|psycopg2"),
    ("Sanic, asyncio, HTTP", r"sanic/|asyncio/|uvloop|httptools"),
)
#: The action server (rasa-sdk + Linli's actions).
ACTION_PARTS: Parts = (
    ("knowledge base (retrieval, answers)", r"knowledge/"),
    ("tickets (database)", r"bot/tickets/"),
    ("forms: validation, slot mapping", r"actions/"),
    ("database (other)", r"sqlalchemy/|psycopg2"),
    ("rasa-sdk (tracker JSON, dispatch)", r"rasa_sdk/"),
    ("Sanic, asyncio, HTTP", r"sanic/|asyncio/|uvloop|httptools"),
)
#: Leaf frames of a thread that is waiting, not working.
IDLE = re.compile(r"^(_worker \(concurrent/futures/thread\.py|serve \(sanic/server/runners\.py|wait \(threading\.py"
                  r"|_bootstrap \(threading\.py|select \(selectors\.py)")
LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
MAIN = "MainThread"


def py_spy() -> Optional[str]:
    """The py-spy executable next to this Python, or on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, out: Path, rate: int = 100) -> subprocess.Popen:
    """Start ``py-spy record`` on ``pid`` for ``seconds`` into ``out`` (raw collapsed stacks per thread)."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install -r requirements.lock (py-spy)")
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
                             "--threads", "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=(out.parent / f"{out.name}.log").open("w"))


def samples(raw: Path) -> List[Tuple[str, List[str], int]]:
    """(thread, frames without the thread, count) of every busy stack."""
    out = []
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        match = LINE.match(line)
        if not match:
            continue
        frames = match["stack"].split(";")
        thread, frames = (frames[0], frames[1:]) if frames[0].startswith("thread (") else ("", frames)
        if frames and not IDLE.match(frames[-1]):
            out.append((thread, frames, int(match["count"])))
    return out


def part_of(frames: Sequence[str], parts: Parts) -> str:
    """The part of a turn one stack belongs to."""
    for name, pattern in parts:
        regex = re.compile(pattern)
        if any(regex.search(frame) for frame in frames):
            return name
    return "other"


def summarise(raw: Path, rate: int, turns: int, parts: Parts = SERVER_PARTS) -> Dict[str, object]:
    """Busy time per part of the main thread (the event loop) and of the other threads, in
    seconds and milliseconds per turn."""
    loop: Dict[str, int] = {}
    others = 0
    for thread, frames, count in samples(raw):
        if not thread or MAIN in thread:
            part = part_of(frames, parts)
            loop[part] = loop.get(part, 0) + count
        else:
            others += count
    busy = sum(loop.values())

    def ms(count: int) -> Optional[float]:
        return round(count / rate / turns * 1000, 1) if turns else None

    return {
        "rate": rate, "turns": turns, "loop_samples": busy,
        "loop_busy_ms_per_turn": ms(busy), "other_threads_busy_ms_per_turn": ms(others),
        "parts": [{"part": part, "samples": count, "share": round(count / (busy or 1), 4), "ms_per_turn": ms(count)}
                  for part, count in sorted(loop.items(), key=lambda item: -item[1])],
    }


def top_frames(raw: Path, limit: int = 25) -> List[Tuple[str, int]]:
    """The busy leaf frames of the main thread with the most samples (where the time actually is)."""
    leaves: Dict[str, int] = {}
    for thread, frames, count in samples(raw):
        if not thread or MAIN in thread:
            leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
    return sorted(leaves.items(), key=lambda item: -item[1])[:limit]


def format_table(summary: Dict[str, object]) -> str:
    """Markdown: part, ms of the event loop per turn, share."""
    rows = ["| part of a turn (main thread) | ms / turn | share |", "| --- | ---: | ---: |"]
    for part in summary["parts"]:  # type: ignore[union-attr]
        rows.append(f"| {part['part']} | {part['ms_per_turn']} | {part['share']:.0%} |")
    rows.append(f"| **event loop busy** | **{summary['loop_busy_ms_per_turn']}** | 100% |")
    rows.append(f"| other threads busy | {summary['other_threads_busy_ms_per_turn']} | |")
    return "\n".join(rows)
