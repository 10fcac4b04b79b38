"""Load the knowledge base when the action server starts, so no resident waits for a model load.

``KNOWLEDGE_WARM_UP`` (bot.settings.Knowledge) chooses what loads in a background thread at
start-up: ``full`` (default: the active index, the embedder and the generator), ``index``
(index and embedder; the generator on the first question that needs it) or ``0`` (nothing:
everything on first use). The action server's ``/ready`` answers 503 until the warm-up has
finished (:func:`state`), so a load balancer or ``systemctl start`` sends residents only to a
replica that answers at full speed. A failed warm-up (no index yet, a damaged model) does not
stop the server: ``/ready`` reports it with the error, and the first question tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

log = logging.getLogger(__name__)

#: Values of KNOWLEDGE_WARM_UP that load at start-up, and whether they include the generator.
MODES = {"full": True, "index": False, "1": False, "true": False, "yes": False}


@dataclass(frozen=True)
class WarmUpState:
    """Where the start-up load stands: ``off``, ``loading``, ``ready`` or ``failed``."""

    status: str
    mode: str
    seconds: Optional[float] = None
    error: Optional[str] = None

    @property
    def ready(self) -> bool:
        """True when residents will not wait for a load (done, or nothing to wait for)."""
        return self.status in ("ready", "off")


_lock = threading.Lock()
_state = WarmUpState("off", "0")


def state() -> WarmUpState:
    """The warm-up's current state (``off`` when it was never started)."""
    return _state


def _set(new: WarmUpState) -> None:
    global _state
    with _lock:
        _state = new


def start(mode: str, warm: Optional[Callable[[bool], None]] = None) -> Optional[threading.Thread]:
    """Start the warm-up for ``mode`` in a daemon thread; None when ``mode`` loads nothing.

    ``warm(generator)`` does the loading (default: the live answerer's ``warm_up``).
    """
    mode = (mode or "0").strip().lower()
    if mode not in MODES:
        _set(WarmUpState("off", mode))
        return None
    _set(WarmUpState("loading", mode))
    thread = threading.Thread(target=_run, args=(mode, warm or _warm_live), name="knowledge-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_live(generator: bool) -> None:
    from .live import current  # heavy imports (torch, faiss) only in the thread

    current().warm_up(generator=generator)


def _run(mode: str, warm: Callable[[bool], None]) -> None:
    started = time.perf_counter()
    try:
        warm(MODES[mode])
    except Exception as exc:  # the server keeps running; /ready says why, the first question retries
        log.warning("knowledge base warm-up failed (%s: %s); questions load it on first use",
                    type(exc).__name__, exc)
        _set(WarmUpState("failed", mode, round(time.perf_counter() - started, 2), f"{type(exc).__name__}: {exc}"))
        return
    seconds = round(time.perf_counter() - started, 2)
    log.info("knowledge base loaded and warmed up in %.1f s (%s)", seconds, mode)
    _set(WarmUpState("ready", mode, seconds))
