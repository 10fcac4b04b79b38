"""Build a new index version: ingest into the build folder, then store it in the database.

:func:`build_version` is what ``python -m knowledge ingest`` runs for the service's
folder and what a background re-index job calls: it takes a lock on the build
folder (two builds never write it at once), starts from the active version when
this machine has no build folder yet (so unchanged files keep their embeddings
on any machine), ingests, and publishes (:meth:`~knowledge.versions.VersionStore.publish`).
Running replicas pick the new version up by themselves (:mod:`knowledge.live`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence

from sqlalchemy.engine import Engine

from . import store
from .config import KnowledgeConfig, load_config, resolve_model
from .ingest import ProgressCallback, ingest
from .versions import VersionStore

log = logging.getLogger(__name__)


def build_version(sources: Sequence[str], *, cfg: Optional[KnowledgeConfig] = None, index_dir: Optional[Path] = None,
                  activate: bool = True, note: str = "", engine: Optional[Engine] = None, index_type: str = "auto",
                  embed_model: Optional[str] = None, force: bool = False, progress: bool = False,
                  on_progress: Optional[ProgressCallback] = None, allow_empty: bool = False) -> Dict[str, Any]:
    """Ingest ``sources`` and store the index as a version; returns ingest's counts plus ``version``.

    ``version`` is ``{"id", "created", "active"}``: ``created`` is False when the
    content equals a stored version (then the active version is left as it is).
    ``on_progress`` gets ingest's stages and then ``("publishing", 0.0)``; ``allow_empty``
    stores an empty index when ``sources`` holds no file (see :func:`~knowledge.ingest.ingest`).
    """
    cfg = cfg or load_config()
    index_dir = Path(index_dir or cfg.path(cfg.index))
    versions = VersionStore(engine)
    with _locked(index_dir):
        if not force and not store.exists(index_dir):
            _seed_from_active(versions, index_dir, cfg)
        stats = ingest(sources, index_dir, resolve_model(embed_model or cfg.embed_model), index_type=index_type,
                       progress=progress, force=force, on_progress=on_progress,
                       allow_empty=allow_empty)
        if on_progress is not None:
            on_progress("publishing", 0.0)
        result = versions.publish(index_dir, note=note or "ingest " + " ".join(map(str, sources)), activate=activate)
    return {"index": str(index_dir), **stats,
            "version": {"id": result.version.id, "created": result.created,
                        "active": result.activated or result.version.active}}


def _seed_from_active(versions: VersionStore, index_dir: Path, cfg: KnowledgeConfig) -> None:
    """Copy the active version into an empty build folder: ingest then re-embeds only what changed."""
    active = versions.active_id()
    if active is None:
        return
    try:
        cached = versions.materialise(active, cfg.path(cfg.version_cache))
    except (OSError, ValueError) as exc:  # a full build still works
        log.warning("could not start from version %s (%s); embedding everything", active, exc)
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    for item in cached.iterdir():
        shutil.copy2(item, index_dir / item.name)


@contextlib.contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    """Exclusive lock on ``<index_dir>.lock`` (waits for a build already running on this machine)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    lock_path = index_dir.parent / f"{index_dir.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
