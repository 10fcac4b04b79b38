"""Slow down password guessing, in the shared store (database or Redis), so every
server process and every restart sees the same counts.

Each login *attempt* is counted before the password is checked (so parallel
guesses cannot all slip through before the first failure is recorded), in three
fixed windows of ``LINLI_LOGIN_WINDOW_SECONDS``:

- per (client address, username): ``LINLI_LOGIN_MAX_FAILURES`` attempts;
- per username from any address: 4× that (a distributed guess);
- per client address for any username: 4× that (password spraying).

A successful login clears its (address, username) window. Usernames are
normalised the way the login does (:func:`normalise_username`), so " Admin"
counts as "admin". The client address is Sanic's ``request.remote_addr``, which
is the real client only behind a proxy configured with ``LINLI_PROXIES_COUNT``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Optional

from bot.channels.state import KeyValueStore, kv_store
from bot.settings import Staff


def normalise_username(username: str) -> str:
    """The canonical form of a username: NFKC, no surrounding spaces, case-folded."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def _part(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


class LoginThrottle:
    """Counts login attempts per address+username, per username and per address."""

    def __init__(self, max_failures: int = 0, window_seconds: float = 0, store: Optional[KeyValueStore] = None) -> None:
        self.max_failures = max_failures or Staff.read("login_max_failures")
        self.window = window_seconds or Staff.read("login_window_seconds")
        self._store = store

    @property
    def store(self) -> KeyValueStore:
        if self._store is None:
            self._store = kv_store()
        return self._store

    def _keys(self, address: str, username: str):  # type: ignore[no-untyped-def]
        user, addr = _part(normalise_username(username)), _part(address or "-")
        return (f"login:pair:{addr}:{user}", self.max_failures), \
            (f"login:user:{user}", self.max_failures * 4), \
            (f"login:addr:{addr}", self.max_failures * 4)

    def attempt(self, address: str, username: str) -> int:
        """Count one attempt; returns 0 if it may go ahead, else seconds to wait (no password check).

        An attempt refused by its (address, username) window is not counted again in the
        wider windows, so hammering one account cannot lock a whole address out.
        """
        (pair, pair_limit), *wider = self._keys(address, username)
        if self.store.incr(pair, self.window) > pair_limit:
            return int(self.window)
        over = [self.store.incr(key, self.window) > limit for key, limit in wider]
        return int(self.window) if any(over) else 0

    def succeeded(self, address: str, username: str) -> None:
        """A successful login clears its (address, username) window and is not held
        against the username or the address."""
        (pair, _), *wider = self._keys(address, username)
        self.store.delete(pair)
        for key, _limit in wider:
            self.store.incr(key, self.window, -1)
