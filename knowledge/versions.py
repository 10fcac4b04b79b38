"""Versions of the knowledge index, stored in the database and materialised locally.

``python -m knowledge ingest`` builds the index in its folder (``KNOWLEDGE_INDEX``,
where unchanged files keep their embeddings) and then :meth:`VersionStore.publish`
stores that folder as a new version: a gzip-compressed tar in ``kb_version_files``
plus a row in ``kb_versions``. A version whose content (chunks, tokens, vectors,
manifest without its build time) equals an existing one is not stored twice and
leaves the active version alone, so re-running ``make index`` with unchanged
sources never undoes a restore. :meth:`VersionStore.activate` points ``kb_active``
at any version (a new one or an earlier one: that is the restore).

Every process serves the active version from a local cache folder
(``version_cache``, default ``var/knowledge_versions``): :meth:`VersionStore.materialise`
downloads the archive once, checks its sha256, unpacks it into a temporary
folder and renames it to ``v<id>-<checksum>``, so readers never see half a
folder and two processes on one machine can race safely. The checksum in the
name keeps two databases' version 1 apart.

An install from before the database store has only the index folder: the
first process that finds no version imports it as version 1
(:meth:`VersionStore.import_folder`), so ``make index`` / ``make test`` keep
working unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from . import store
from .tables import PART_BYTES, ensure_schema, get_engine, kb_active, kb_version_files, kb_versions

log = logging.getLogger(__name__)

#: Files of an index folder that define its content (index.faiss is derived from vectors.npy).
CONTENT_FILES = ("chunks.jsonl", "tokens.json", "vectors.npy", "rows.npy")
#: Every file of an index folder, as stored in a version's archive.
INDEX_FILES = ("manifest.json", *CONTENT_FILES, "index.faiss")
ACTIVE_ROW = 1


@dataclass(frozen=True)
class Version:
    """One row of ``kb_versions`` (without the archive) and whether it is active."""

    id: int
    created_at: datetime
    note: str
    n_chunks: int
    n_vectors: int
    index_type: str
    embed_model: str
    sources: List[Dict[str, Any]]
    checksum: str
    archive_sha256: str
    archive_bytes: int
    parts: int
    active: bool = False

    def to_dict(self) -> Dict[str, Any]:
        """JSON form (CLI ``versions --json``, the desk's API later)."""
        return {"id": self.id, "created_at": _iso(self.created_at), "note": self.note, "n_chunks": self.n_chunks,
                "n_vectors": self.n_vectors, "index_type": self.index_type, "embed_model": self.embed_model,
                "sources": self.sources, "checksum": self.checksum, "archive_bytes": self.archive_bytes,
                "active": self.active}


@dataclass(frozen=True)
class Published:
    """Result of :meth:`VersionStore.publish`."""

    version: Version
    created: bool       # False: the same content was already stored as ``version``
    activated: bool     # True: ``version`` became the active one by this call


class VersionError(LookupError):
    """A version that does not exist, or no active version."""


def content_checksum(index_dir: Path) -> str:
    """sha256 over an index folder's content: the same sources give the same checksum."""
    index_dir = Path(index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("built_at", None)  # a rebuild of unchanged sources is the same index
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode())
    for name in CONTENT_FILES:
        digest.update(name.encode())
        with (index_dir / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class VersionStore:
    """Index versions in ``kb_versions`` / ``kb_version_files`` / ``kb_active``."""

    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or get_engine()
        ensure_schema(self.engine)

    # ------------------------------------------------------------------ reading
    def active_id(self) -> Optional[int]:
        """Id of the version to serve (one primary-key SELECT; what replicas poll)."""
        with self.engine.connect() as conn:
            return conn.scalar(select(kb_active.c.version_id).where(kb_active.c.id == ACTIVE_ROW))

    def get(self, version_id: int) -> Version:
        """The version ``version_id``; :class:`VersionError` when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(kb_versions).where(kb_versions.c.id == version_id)).mappings().first()
            active = conn.scalar(select(kb_active.c.version_id).where(kb_active.c.id == ACTIVE_ROW))
        if row is None:
            raise VersionError(f"no knowledge-base version {version_id}; list them with `python -m knowledge versions`")
        return _version(row, active)

    def list(self) -> List[Version]:
        """Every version, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(kb_versions).order_by(kb_versions.c.id.desc())).mappings().all()
            active = conn.scalar(select(kb_active.c.version_id).where(kb_active.c.id == ACTIVE_ROW))
        return [_version(r, active) for r in rows]

    def count(self) -> int:
        """Number of stored versions."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(kb_versions)) or 0)

    # ------------------------------------------------------------------ writing
    def publish(self, index_dir: Path, *, note: str = "", activate: bool = True,
                activate_if_none: bool = True) -> Published:
        """Store the index folder ``index_dir`` as a version.

        ``activate``: make the new version the active one. ``activate_if_none``:
        activate it anyway when no version is active yet (a first ingest serves
        something). Content already stored returns that version and changes no
        activation, so an unchanged re-ingest never undoes a restore.
        """
        index_dir = Path(index_dir)
        if not store.exists(index_dir):
            raise FileNotFoundError(f"no knowledge index at {index_dir}; build it with `python -m knowledge ingest`")
        checksum = content_checksum(index_dir)
        existing = self._by_checksum(checksum)
        if existing is not None:
            return Published(existing, created=False, activated=False)
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory(prefix="kb-publish-") as scratch:
            archive = Path(scratch) / "index.tar.gz"
            _pack(index_dir, archive)  # on disk, then stored part by part: a large base is never in memory twice
            size, sha = archive.stat().st_size, _sha256(archive)
            parts = max(1, -(-size // PART_BYTES))
            now = datetime.now(timezone.utc)
            row = {"created_at": now, "note": note[:500], "n_chunks": int(manifest.get("n_chunks", 0)),
                   "n_vectors": int(manifest.get("n_vectors", 0)), "index_type": str(manifest.get("index_type", "")),
                   "embed_model": Path(str(manifest.get("embed_model", ""))).name,
                   "sources": json.dumps(_sources_summary(manifest), ensure_ascii=False), "checksum": checksum,
                   "archive_sha256": sha, "archive_bytes": size, "parts": parts}
            for attempt in (1, 2):
                try:
                    with self.engine.begin() as conn, archive.open("rb") as fh:
                        version_id = conn.execute(insert(kb_versions).values(**row)).inserted_primary_key[0]
                        for number in range(parts):
                            conn.execute(insert(kb_version_files).values(
                                version_id=version_id, part=number, data=fh.read(PART_BYTES)))
                        active = conn.scalar(select(kb_active.c.version_id).where(kb_active.c.id == ACTIVE_ROW))
                        activated = activate or (activate_if_none and active is None)
                        if activated:
                            _point(conn, version_id, now, exists=active is not None)
                    break
                except IntegrityError:
                    # Another process stored the same content (unique checksum): that is the version.
                    existing = self._by_checksum(checksum)
                    if existing is not None:
                        return Published(existing, created=False, activated=False)
                    if attempt == 2:
                        raise
                    # Otherwise it created the kb_active row first: the retry updates it.
        log.info("knowledge-base version %s stored (%s chunks, %.1f MB)%s", version_id, row["n_chunks"],
                 size / 1e6, ", active" if activated else "")
        return Published(self.get(version_id), created=True, activated=activated)

    def activate(self, version_id: int) -> Version:
        """Serve ``version_id`` from now on (every replica switches within its reload interval)."""
        self.get(version_id)  # a clear error for an unknown id
        now = datetime.now(timezone.utc)
        try:
            with self.engine.begin() as conn:
                exists = conn.scalar(select(kb_active.c.id).where(kb_active.c.id == ACTIVE_ROW)) is not None
                _point(conn, version_id, now, exists=exists)
        except IntegrityError:  # the pointer row was created concurrently: now it exists
            with self.engine.begin() as conn:
                _point(conn, version_id, now, exists=True)
        log.info("knowledge-base version %s activated", version_id)
        return self.get(version_id)

    def delete(self, version_id: int) -> None:
        """Remove a version that is not active (its archive too)."""
        if self.active_id() == version_id:
            raise VersionError(f"version {version_id} is active; activate another one before deleting it")
        with self.engine.begin() as conn:
            conn.execute(delete(kb_version_files).where(kb_version_files.c.version_id == version_id))
            if not conn.execute(delete(kb_versions).where(kb_versions.c.id == version_id)).rowcount:
                raise VersionError(f"no knowledge-base version {version_id}")

    def import_folder(self, index_dir: Path) -> Optional[Version]:
        """First use of an older install: store ``index_dir`` as the first version when none exists.

        Returns the imported version, or None when versions exist already or
        there is no index folder. Safe when several replicas start together
        (unique checksum; the first activation wins).
        """
        if self.count() or not store.exists(index_dir):
            return None
        result = self.publish(index_dir, note=f"imported from {index_dir}", activate=False, activate_if_none=True)
        if result.created:
            log.info("imported the index folder %s as knowledge-base version %s", index_dir, result.version.id)
        return result.version

    # --------------------------------------------------------------- local cache
    def materialise(self, version_id: int, cache_dir: Path) -> Path:
        """Local folder holding version ``version_id`` (downloaded and unpacked on first use)."""
        version = self.get(version_id)
        cache_dir = Path(cache_dir)
        target = cache_dir / f"v{version.id}-{version.checksum[:16]}"
        if store.exists(target):
            _touch(target)
            return target
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".v{version.id}-", dir=cache_dir))
        try:
            archive = work / "index.tar.gz"
            digest = hashlib.sha256()
            with archive.open("wb") as fh, self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True).execute(
                    select(kb_version_files.c.data).where(kb_version_files.c.version_id == version.id)
                    .order_by(kb_version_files.c.part))
                for (data,) in result:
                    data = bytes(data)  # PostgreSQL returns a memoryview
                    digest.update(data)
                    fh.write(data)
            if digest.hexdigest() != version.archive_sha256:
                raise ValueError(f"knowledge-base version {version.id}: stored archive is damaged (sha256 mismatch); "
                                 f"re-run `python -m knowledge ingest` and activate the new version")
            unpacked = work / "index"
            _unpack(archive, unpacked)
            if not store.exists(unpacked):
                raise ValueError(f"knowledge-base version {version.id}: archive holds no complete index")
            if target.exists():  # damaged leftover (a complete one returned above): set it aside
                shutil.move(str(target), str(work / "stale"))
            try:
                os.rename(unpacked, target)  # atomic: readers see all of it or nothing
            except OSError:
                if not store.exists(target):  # not a concurrent winner: a real failure
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return target

    @staticmethod
    def prune_cache(cache_dir: Path, keep: int = 3, protect: Optional[Path] = None) -> List[Path]:
        """Delete all but the ``keep`` most recently used cached versions (never ``protect``)."""
        cache_dir = Path(cache_dir)
        if not cache_dir.is_dir():
            return []
        cached = sorted((p for p in cache_dir.iterdir() if p.is_dir() and p.name.startswith("v")),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        removed = []
        for path in cached[keep:]:
            if protect is not None and path.resolve() == Path(protect).resolve():
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        return removed

    def _by_checksum(self, checksum: str) -> Optional[Version]:
        with self.engine.connect() as conn:
            row = conn.execute(select(kb_versions).where(kb_versions.c.checksum == checksum)).mappings().first()
            active = conn.scalar(select(kb_active.c.version_id).where(kb_active.c.id == ACTIVE_ROW))
        return _version(row, active) if row is not None else None


def _point(conn: Any, version_id: int, now: datetime, *, exists: bool) -> None:
    """Set the single ``kb_active`` row (insert it the first time)."""
    if exists:
        conn.execute(update(kb_active).where(kb_active.c.id == ACTIVE_ROW)
                     .values(version_id=version_id, changed_at=now))
    else:
        conn.execute(insert(kb_active).values(id=ACTIVE_ROW, version_id=version_id, changed_at=now))


def _version(row: Any, active_id: Optional[int]) -> Version:
    created = row["created_at"]
    if created is not None and created.tzinfo is None:  # SQLite drops the zone: stored as UTC
        created = created.replace(tzinfo=timezone.utc)
    return Version(id=row["id"], created_at=created, note=row["note"] or "", n_chunks=row["n_chunks"],
                   n_vectors=row["n_vectors"], index_type=row["index_type"], embed_model=row["embed_model"],
                   sources=json.loads(row["sources"] or "[]"), checksum=row["checksum"],
                   archive_sha256=row["archive_sha256"], archive_bytes=row["archive_bytes"], parts=row["parts"],
                   active=row["id"] == active_id)


def _sources_summary(manifest: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Source files and their chunk counts, from an index manifest."""
    files = manifest.get("files", {}) or {}
    return [{"source": name, "chunks": len(info.get("chunks", []))} for name, info in sorted(files.items())]


def _pack(index_dir: Path, dest: Path) -> None:
    """Write a gzip-compressed tar of an index folder's files (flat, fixed order) to ``dest``."""
    with tarfile.open(dest, mode="w:gz", compresslevel=6) as tar:
        for name in INDEX_FILES:
            tar.add(str(index_dir / name), arcname=name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(archive: Path, dest: Path) -> None:
    """Extract only the known index files (no links, no paths: the archive is data, not code)."""
    dest.mkdir(parents=True)
    with tarfile.open(archive, mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name not in INDEX_FILES or not member.isfile():
                raise ValueError(f"unexpected entry {member.name!r} in a knowledge-base archive")
            source = tar.extractfile(member)
            assert source is not None
            with source, (dest / member.name).open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)


def _touch(path: Path) -> None:
    try:
        os.utime(path, None)
    except OSError:
        pass


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

