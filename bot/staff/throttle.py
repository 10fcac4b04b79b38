"""Slow down password guessing: too many failed logins for one username from one address."""

from __future__ import annotations

import os
import time
from collections import defaultdict, deque
from typing import Deque, Dict, Tuple


class LoginThrottle:
    """In memory (one server worker): ``LINLI_LOGIN_MAX_FAILURES`` failures per
    ``LINLI_LOGIN_WINDOW_SECONDS`` for a (client address, username) pair block further tries."""

    def __init__(self, max_failures: int = 0, window_seconds: float = 0) -> None:
        self.max_failures = max_failures or int(os.environ.get("LINLI_LOGIN_MAX_FAILURES", "5"))
        self.window = window_seconds or float(os.environ.get("LINLI_LOGIN_WINDOW_SECONDS", "300"))
        self._failures: Dict[Tuple[str, str], Deque[float]] = defaultdict(deque)

    def _recent(self, key: Tuple[str, str], now: float) -> Deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until this pair may try again (0: allowed now)."""
        now = time.monotonic()
        failures = self._recent((address, username.lower()), now)
        if len(failures) < self.max_failures:
            return 0
        return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, address: str, username: str) -> None:
        """Record a failed attempt."""
        self._failures[(address, username.lower())].append(time.monotonic())

    def succeeded(self, address: str, username: str) -> None:
        """Forget the failures of a pair after a successful login."""
        self._failures.pop((address, username.lower()), None)
