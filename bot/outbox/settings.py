"""Outbox settings (``LINLI_OUTBOX_*``, listed in ``.env.example``) and the retry schedule."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Callable, Optional


def _number(name: str, default: float, low: float) -> float:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc
    if number < low:
        raise ValueError(f"{name} must be at least {low:g}, not {value!r}")
    return number


@dataclass(frozen=True)
class OutboxSettings:
    """How the outbox worker delivers and retries."""

    #: Seconds between polls for messages other processes queued (a local enqueue wakes at once).
    interval: float = 2.0
    #: Attempts before a message becomes a dead letter.
    max_attempts: int = 12
    #: First retry delay (seconds); each further retry doubles it, up to ``max_backoff``.
    backoff: float = 5.0
    max_backoff: float = 600.0
    #: A claim older than this (seconds) belongs to a crashed worker: the message goes back to pending.
    lease: float = 120.0
    #: Messages delivered at the same time (to different residents) by one process.
    concurrency: int = 4
    #: How long the desk waits for the first attempt before answering "queued".
    wait: float = 2.5
    #: Days sent and undeliverable messages are kept (dead letters stay until retried).
    keep_days: float = 30.0

    @classmethod
    def from_env(cls) -> "OutboxSettings":
        """Read ``LINLI_OUTBOX_*``; a malformed value raises ``ValueError`` naming the variable."""
        return cls(
            interval=_number("LINLI_OUTBOX_INTERVAL", cls.interval, 0.05),
            max_attempts=int(_number("LINLI_OUTBOX_MAX_ATTEMPTS", cls.max_attempts, 1)),
            backoff=_number("LINLI_OUTBOX_BACKOFF", cls.backoff, 0.01),
            max_backoff=_number("LINLI_OUTBOX_MAX_BACKOFF", cls.max_backoff, 0.01),
            lease=_number("LINLI_OUTBOX_LEASE", cls.lease, 1),
            concurrency=int(_number("LINLI_OUTBOX_CONCURRENCY", cls.concurrency, 1)),
            wait=min(3.0, _number("LINLI_OUTBOX_WAIT", cls.wait, 0)),
            keep_days=_number("LINLI_OUTBOX_KEEP_DAYS", cls.keep_days, 0.001),
        )

    def delay(self, attempts: int, rand: Optional[Callable[[], float]] = None) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: exponential, capped,
        with jitter (50–100 % of the step) so that replicas and residents do not retry in step."""
        step = min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1))
        return step * (0.5 + 0.5 * (rand or random.random)())
