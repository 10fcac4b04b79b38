"""Outbox settings (``LINLI_OUTBOX_*``, declared in :class:`bot.settings.Outbox`) and the retry schedule."""

from __future__ import annotations

import random
from typing import Callable, Optional

from bot.settings import Outbox


class OutboxSettings(Outbox):
    """How the outbox worker delivers and retries; ``from_env()`` reads ``LINLI_OUTBOX_*``
    (a malformed value raises :class:`bot.settings.SettingError`, a ``ValueError``)."""

    def delay(self, attempts: int, rand: Optional[Callable[[], float]] = None) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: exponential, capped,
        with jitter (50–100 % of the step) so that replicas and residents do not retry in step."""
        step = min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1))
        return step * (0.5 + 0.5 * (rand or random.random)())
