"""The answerer a running process serves, following the active version in the database.

Every replica (action server process) holds one :class:`LiveKnowledge`. Its
first use loads the active version (:mod:`knowledge.versions`): downloaded
from the database into the local cache once, then read like any index folder.
A daemon thread then checks the active version id every
``LINLI_KB_RELOAD_SECONDS`` (default 5; one primary-key SELECT) and, when it
changed, loads the new version in that thread and swaps the new
:class:`~knowledge.answer.Answerer` in with one assignment. A turn never
waits for a reload: it keeps the answerer it started with, and the next turn
gets the new one. The embedding model is shared by all versions and a loaded
generator is handed over, so a reload only reads the index.

If a version cannot be loaded (damaged archive, disk full) the process keeps
serving the previous one, logs the error and tries again after a minute.

First use also moves older local state into the database: the JSONL log of
unanswered questions (``unanswered_log``) and, when the database holds no
version yet, the index folder (``KNOWLEDGE_INDEX``) as version 1.

Use :func:`current` for every question; do not keep its result.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Dict, Optional

from sqlalchemy.engine import Engine

from bot.settings import Knowledge

from .answer import Answerer
from .config import KnowledgeConfig, load_config
from .tables import get_engine
from .unanswered import UnansweredStore
from .versions import VersionError, VersionStore

log = logging.getLogger(__name__)

RELOAD_ENV: str = Knowledge.variables()["reload_seconds"].name  # LINLI_KB_RELOAD_SECONDS
DEFAULT_RELOAD_SECONDS: float = Knowledge.reload_seconds  # declared in bot.settings.Knowledge
#: A version that failed to load is tried again after this long.
RETRY_FAILED_SECONDS = 60.0
#: Cached versions kept on disk per machine (the active one and recent ones, for a quick restore).
CACHE_KEEP = 3


def reload_seconds() -> float:
    """Seconds between two checks of the active version (``LINLI_KB_RELOAD_SECONDS``)."""
    return max(0.05, Knowledge.read("reload_seconds"))  # a malformed value raises SettingError (a ValueError)


class LiveKnowledge:
    """Holds the current :class:`Answerer` and swaps it when another version is activated."""

    def __init__(self, cfg: Optional[KnowledgeConfig] = None, engine: Optional[Engine] = None, *,
                 cache_dir: Optional[Path] = None, interval: Optional[float] = None,
                 legacy_index: Optional[Path] = None, legacy_unanswered: Optional[Path] = None,
                 poll: bool = True) -> None:
        self.cfg = cfg or load_config()
        self.engine = engine or get_engine()
        self.cache_dir = Path(cache_dir) if cache_dir else self.cfg.path(self.cfg.version_cache)
        self.interval = reload_seconds() if interval is None else interval
        self.legacy_index = Path(legacy_index) if legacy_index else self.cfg.path(self.cfg.index)
        self.legacy_unanswered = (Path(legacy_unanswered) if legacy_unanswered
                                  else self.cfg.path(self.cfg.unanswered_log) if self.cfg.unanswered_log else None)
        self.poll = poll
        self._answerer: Optional[Answerer] = None
        self._versions: Optional[VersionStore] = None
        self._unanswered: Optional[UnansweredStore] = None
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._failed: Dict[int, float] = {}

    @property
    def version(self) -> Optional[int]:
        """Id of the version being served (None before the first load)."""
        answerer = self._answerer
        return answerer.kb_version if answerer is not None else None

    def current(self) -> Answerer:
        """The answerer to use for this question (loads the active version on first use)."""
        answerer = self._answerer
        if answerer is None:
            with self._load_lock:
                if self._answerer is None:
                    self._first_load()
                answerer = self._answerer
            self._start_polling()
        assert answerer is not None
        return answerer

    def refresh(self) -> bool:
        """Check the active version once and load it if it changed; True when a new one is served."""
        if self._versions is None:
            return False  # nothing loaded yet: the first current() call loads
        active = self._versions.active_id()
        if active is None or active == self.version:
            return False
        failed_at = self._failed.get(active)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_SECONDS:
            return False
        with self._load_lock:
            if active == self.version:
                return False
            try:
                self._install(self._load(active))
            except Exception:
                self._failed[active] = time.monotonic()
                raise
        return True

    def stop(self) -> None:
        """Stop the polling thread (tests; the process's daemon thread needs no stopping)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.interval * 2))

    # ------------------------------------------------------------------ internals
    def _first_load(self) -> None:
        self._unanswered = UnansweredStore(self.engine)
        self._versions = VersionStore(self.engine)
        if self.legacy_unanswered is not None:
            try:
                self._unanswered.import_jsonl(self.legacy_unanswered)
            except Exception as exc:  # the old log is kept; answering goes on
                log.warning("could not import %s into the database: %s", self.legacy_unanswered, exc)
        self._versions.import_folder(self.legacy_index)
        active = self._versions.active_id()
        if active is None:
            raise VersionError(
                "no active knowledge-base version in the database; build one with "
                "`python -m knowledge ingest knowledge/sources` (or `make index`), or activate a stored one "
                "(`python -m knowledge versions`, then `python -m knowledge activate ID`)")
        self._install(self._load(active))

    def _load(self, version_id: int) -> Answerer:
        assert self._versions is not None and self._unanswered is not None
        started = time.perf_counter()
        path = self._versions.materialise(version_id, self.cache_dir)
        answerer = Answerer(self.cfg, path)
        answerer.kb_version = version_id
        answerer.unanswered_sink = self._unanswered.record
        if self._answerer is not None:
            answerer.share_generator(self._answerer)
            # A reload happens while residents are answered from the old version: embed the
            # new version's English chunks for the reranker before it is installed.
            answerer.warm_reranker()
        try:
            VersionStore.prune_cache(self.cache_dir, CACHE_KEEP, protect=path)
        except OSError as exc:
            log.warning("could not prune the knowledge-base cache %s: %s", self.cache_dir, exc)
        log.info("knowledge-base version %s loaded in %.1f s", version_id, time.perf_counter() - started)
        return answerer

    def _install(self, answerer: Answerer) -> None:
        previous = self.version
        self._answerer = answerer  # one assignment: turns in progress keep the old object
        if previous is not None:
            log.info("now answering from knowledge-base version %s (was %s)", answerer.kb_version, previous)

    def _start_polling(self) -> None:
        if not self.poll or self._thread is not None or self._stop.is_set():
            return
        with self._load_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll_loop, name="knowledge-reload", daemon=True)
                self._thread.start()

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # keep serving the old version; tried again later
                log.exception("could not switch to the new knowledge-base version")


_HOLDER: Optional[LiveKnowledge] = None
_HOLDER_LOCK = threading.Lock()


def holder() -> LiveKnowledge:
    """The process-wide :class:`LiveKnowledge` (configuration and ``DATABASE_URL`` read on first call)."""
    global _HOLDER
    with _HOLDER_LOCK:
        if _HOLDER is None:
            _HOLDER = LiveKnowledge()
        return _HOLDER


def current() -> Answerer:
    """The answerer on the active knowledge-base version; call it for every question."""
    return holder().current()


def reset() -> None:
    """Forget the process-wide holder (tests that change the configuration)."""
    global _HOLDER
    with _HOLDER_LOCK:
        if _HOLDER is not None:
            _HOLDER.stop()
        _HOLDER = None
