"""Re-index jobs: build an index version from the content store, one at a time per database.

``POST /api/kb/reindex`` (and the first-run setup) makes a ``kb_jobs`` row and runs it in
a background thread of the server that received it (:meth:`Reindexer.start`); the CLI
runs the same steps in its own thread (:meth:`Reindexer.run`). The steps:

1. ``staging``: the content as files in the database's staging folder
   (:func:`knowledge.staging.materialise`);
2. ``reading`` / ``embedding`` / ``indexing`` / ``writing``: ingest into the database's build
   folder (unchanged files keep their embeddings; a new folder starts warm from the
   active version, :func:`knowledge.staging.warm_start`);
3. ``publishing``: the folder stored as a version and activated. Every running server
   answers from it within ``LINLI_KB_RELOAD_SECONDS`` (:mod:`knowledge.live`).

Stage, progress and the result are written to the row, so the page of any replica shows
them. The job holds the single slot in ``kb_content_state.job_id`` (taken with a
compare-and-set update, safe between replicas); a job whose heartbeat is older than
:data:`STALE_SECONDS` belongs to a server that stopped and counts as failed, which frees
the slot.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from .config import KnowledgeConfig, load_config
from .content import ContentStore, NotFound, iso_utc
from .content_tables import STATE_ROW, kb_content_state, kb_jobs

log = logging.getLogger(__name__)

#: A queued or running job whose heartbeat is older than this is counted as failed.
STALE_SECONDS = 120.0
#: How often a running job's thread refreshes its heartbeat.
HEARTBEAT_SECONDS = 15.0
#: Progress is written at most this often (stage changes are written at once).
PROGRESS_EVERY_SECONDS = 0.5
ACTIVE = ("queued", "running")
#: Each stage's share of the overall progress: (start, end).
STAGES = {"queued": (0.0, 0.0), "staging": (0.0, 0.05), "reading": (0.05, 0.15), "embedding": (0.15, 0.85),
          "indexing": (0.85, 0.9), "writing": (0.9, 0.93), "publishing": (0.93, 0.99), "done": (1.0, 1.0)}
STALE_MESSAGE = ("the server running this job stopped (no heartbeat for 2 minutes): start the re-index again / "
                 "执行任务的服务器已停止，请重新开始索引")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: Optional[datetime]) -> Optional[datetime]:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Job:
    """One ``kb_jobs`` row (a stale active job reads as failed)."""

    id: int
    status: str
    stage: str
    progress: float
    message: str
    note: str
    revision: Optional[int]
    version_id: Optional[int]
    started_by: str
    owner: str
    created_at: datetime
    heartbeat_at: datetime
    finished_at: Optional[datetime]

    @property
    def active(self) -> bool:
        """Queued or running (and not stale)."""
        return self.status in ACTIVE

    def to_dict(self) -> Dict[str, Any]:
        """The API's ``Job``."""
        return {"id": self.id, "status": self.status, "stage": self.stage, "progress": round(self.progress, 3),
                "message": self.message, "note": self.note, "version_id": self.version_id,
                "started_by": self.started_by, "created_at": iso_utc(self.created_at),
                "heartbeat_at": iso_utc(self.heartbeat_at), "finished_at": iso_utc(self.finished_at)}


class JobRunning(RuntimeError):
    """Another re-index holds the slot; ``job`` is that one."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"re-index job {job.id} is {job.status} ({job.stage}); wait for it to finish / "
                         f"已有索引任务在运行，请等待完成")
        self.job = job


def _job(row: Any, now: Optional[datetime] = None) -> Job:
    job = Job(id=row["id"], status=row["status"], stage=row["stage"] or "", progress=float(row["progress"] or 0.0),
              message=row["message"] or "", note=row["note"] or "", revision=row["revision"],
              version_id=row["version_id"], started_by=row["started_by"] or "", owner=row["owner"] or "",
              created_at=_aware(row["created_at"]), heartbeat_at=_aware(row["heartbeat_at"]),  # type: ignore[arg-type]
              finished_at=_aware(row["finished_at"]))
    now = now or _now()
    if job.active and (now - job.heartbeat_at).total_seconds() > STALE_SECONDS:
        job = Job(**{**job.__dict__, "status": "failed", "message": STALE_MESSAGE})
    return job


class _SlotTaken(Exception):
    """Raised inside the claiming transaction to roll it back."""


class JobStore:
    """The ``kb_jobs`` rows and the one-job slot of a database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, job_id: int) -> Job:
        """One job; :class:`~knowledge.content.NotFound` when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(kb_jobs).where(kb_jobs.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFound(f"no re-index job {job_id}; GET /api/kb/jobs lists them / 没有这个索引任务")
        return _job(row)

    def latest(self, limit: int = 20) -> List[Job]:
        """The newest jobs first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(kb_jobs).order_by(kb_jobs.c.id.desc()).limit(limit)).mappings().all()
        return [_job(r) for r in rows]

    def claim(self, content: ContentStore, started_by: str, note: str = "") -> Job:
        """A new queued job holding the slot; :class:`JobRunning` while another one is active."""
        state = content.state()
        holder = self._maybe(state.job_id)
        if holder is not None and holder.active:
            raise JobRunning(holder)
        now = _now()
        owner = f"{socket.gethostname()}:{os.getpid()}"
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(kb_jobs).values(
                    status="queued", stage="queued", progress=0.0, message="", note=note[:500],
                    revision=state.revision, started_by=started_by[:255], owner=owner[:255], created_at=now,
                    heartbeat_at=now)).inserted_primary_key[0]
                slot = kb_content_state.c.job_id
                free = slot.is_(None) if state.job_id is None else slot == state.job_id
                if not conn.execute(update(kb_content_state).where(kb_content_state.c.id == STATE_ROW, free)
                                    .values(job_id=new_id)).rowcount:
                    raise _SlotTaken()  # rolls the new row back
                if holder is not None:  # a stale holder: record that it failed (its server is gone)
                    conn.execute(update(kb_jobs).where(kb_jobs.c.id == holder.id, kb_jobs.c.status.in_(ACTIVE))
                                 .values(status="failed", message=STALE_MESSAGE, finished_at=now))
        except _SlotTaken:  # another server took the slot between our read and our write
            current = self._maybe(content.state().job_id)
            if current is not None:
                raise JobRunning(current) from None
            raise RuntimeError("could not start a re-index job; try again / 无法开始索引，请重试") from None
        return self.get(int(new_id))

    def current(self, content: ContentStore) -> Optional[Job]:
        """The job in the slot (the latest one started), or None."""
        return self._maybe(content.state().job_id)

    def update(self, job_id: int, **values: Any) -> None:
        """Write stage/progress/message (and the heartbeat)."""
        values["heartbeat_at"] = _now()
        with self.engine.begin() as conn:
            conn.execute(update(kb_jobs).where(kb_jobs.c.id == job_id).values(**values))

    def finish(self, job_id: int, version_id: int, message: str) -> None:
        """The job built and activated ``version_id``."""
        self.update(job_id, status="done", stage="done", progress=1.0, version_id=version_id, message=message,
                    finished_at=_now())

    def fail(self, job_id: int, message: str) -> None:
        """The job failed; ``message`` says why and what to do."""
        self.update(job_id, status="failed", message=message[:4000], finished_at=_now())

    def _maybe(self, job_id: Optional[int]) -> Optional[Job]:
        if job_id is None:
            return None
        try:
            return self.get(job_id)
        except NotFound:
            return None


ProgressPrinter = Callable[[Job], None]


class Reindexer:
    """Builds an index version from the content store as a job (see the module docstring)."""

    def __init__(self, content: Optional[ContentStore] = None, cfg: Optional[KnowledgeConfig] = None,
                 workdir: Optional[Path] = None) -> None:
        from .staging import workdir as database_workdir

        self.cfg = cfg or (content.cfg if content is not None else load_config())
        self.content = content or ContentStore(cfg=self.cfg)
        self.engine = self.content.engine
        self.jobs = JobStore(self.engine)
        #: Staging and build folders of this database (``staging/``, ``index/``).
        self.workdir = Path(workdir) if workdir else database_workdir(self.engine)

    def start(self, started_by: str, note: str = "re-index from the desk") -> Job:
        """Claim the slot and build in a background thread; returns the queued job."""
        job = self.jobs.claim(self.content, started_by, note)
        thread = threading.Thread(target=self._run_logged, args=(job.id,), name=f"kb-reindex-{job.id}", daemon=True)
        thread.start()
        return job

    def run(self, started_by: str, note: str = "re-index", on_update: Optional[ProgressPrinter] = None) -> Job:
        """Claim the slot and build in this thread (the CLI); returns the finished job."""
        job = self.jobs.claim(self.content, started_by, note)
        self._run_logged(job.id, on_update)
        return self.jobs.get(job.id)

    # ------------------------------------------------------------------ the build
    def _run_logged(self, job_id: int, on_update: Optional[ProgressPrinter] = None) -> None:
        try:
            self._run(job_id, on_update)
        except Exception as exc:  # recorded on the row: the page shows it
            log.exception("re-index job %s failed", job_id)
            self.jobs.fail(job_id, _failure(exc))
            if on_update is not None:
                on_update(self.jobs.get(job_id))

    def _run(self, job_id: int, on_update: Optional[ProgressPrinter]) -> None:
        from .build import build_version
        from .staging import materialise, warm_start
        from .versions import VersionStore

        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job_id, stop), name=f"kb-heartbeat-{job_id}",
                                daemon=True)
        beat.start()
        reporter = _Reporter(self.jobs, job_id, on_update)
        try:
            reporter("staging", 0.0, status="running")
            revision = self.content.state().revision
            files = materialise(self.content, self.workdir / "staging")
            versions = VersionStore(self.engine)
            build_dir = self.workdir / "index"
            warm_start(build_dir, files, versions, self.cfg)
            reporter("staging", 1.0)
            job = self.jobs.get(job_id)
            result = build_version([str(f) for f in files], cfg=self.cfg, index_dir=build_dir, activate=True,
                                   note=f"{job.note or 're-index'} (content revision {revision}, by {job.started_by})",
                                   engine=self.engine, on_progress=reporter, allow_empty=True)
            version = result["version"]
            if not version["active"]:  # same content as an older version: serve that one
                versions.activate(version["id"])
            self.content.mark_indexed(revision, version["id"])
        finally:
            stop.set()
        message = (f"version {version['id']} active: {result['chunks']} passages from {result['files']} files, "
                   f"{result['embedded_chunks']} embedded now ({result['reused_files']} files unchanged) / "
                   f"已启用版本 {version['id']}")
        self.jobs.finish(job_id, version["id"], message)
        if on_update is not None:
            on_update(self.jobs.get(job_id))

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self.jobs.update(job_id)
            except Exception:  # the next beat tries again; a dead database fails the job anyway
                log.warning("could not refresh the heartbeat of re-index job %s", job_id, exc_info=True)


class _Reporter:
    """ingest's ``on_progress``: stage fraction → overall progress, written at most every 0.5 s."""

    def __init__(self, jobs: JobStore, job_id: int, on_update: Optional[ProgressPrinter]) -> None:
        self.jobs, self.job_id, self.on_update = jobs, job_id, on_update
        self.stage, self.written = "", 0.0

    def __call__(self, stage: str, fraction: float, **extra: Any) -> None:
        start, end = STAGES.get(stage, (0.0, 0.99))
        overall = start + (end - start) * max(0.0, min(1.0, fraction))
        now = time.monotonic()
        if stage == self.stage and now - self.written < PROGRESS_EVERY_SECONDS:
            return
        self.stage, self.written = stage, now
        self.jobs.update(self.job_id, stage=stage, progress=overall, **extra)
        if self.on_update is not None:
            self.on_update(self.jobs.get(self.job_id))


def _failure(exc: Exception) -> str:
    """A failed job's message: what went wrong and what to do."""
    from .sources import SourceError

    if isinstance(exc, SourceError):
        return f"{exc}: fix or delete that document, then re-index / 有文档无法读取，请修正或删除后重新索引"
    if isinstance(exc, FileNotFoundError):
        return f"{exc} / 缺少文件或模型"
    return f"{type(exc).__name__}: {exc}; check the server log, then re-index / 索引失败，请查看服务器日志后重试"

