"""Handoff settings, from environment variables (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.settings import flag


@dataclass(frozen=True)
class HandoffSettings:
    """``HANDOFF_TIMEOUT_SECONDS``: how long a handoff may wait for an agent before the
    resident is offered a callback (0 disables). ``LINLI_COMPLAINTS_TO_HUMAN``: complaints
    go straight to staff instead of the complaint form. ``HANDOFF_AFTER_FALLBACKS``: hand
    off after this many misunderstood messages in a row (0 disables)."""

    timeout_seconds: float = 300.0
    complaints_to_human: bool = False
    after_fallbacks: int = 2

    @classmethod
    def from_env(cls) -> "HandoffSettings":
        """Read the settings; raises ValueError naming the bad variable."""
        try:
            timeout = float(os.environ.get("HANDOFF_TIMEOUT_SECONDS", "300"))
            fallbacks = int(os.environ.get("HANDOFF_AFTER_FALLBACKS", "2"))
        except ValueError as exc:
            raise ValueError(f"HANDOFF_TIMEOUT_SECONDS / HANDOFF_AFTER_FALLBACKS must be numbers: {exc}") from exc
        return cls(timeout, flag("LINLI_COMPLAINTS_TO_HUMAN"), fallbacks)
