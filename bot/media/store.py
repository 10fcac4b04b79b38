"""The media store: photos and voice messages with their records, behind one small interface.

:class:`MediaStore` checks what it is given (size limits, the type sniffed from the bytes),
writes the bytes to a :class:`~bot.media.blobs.BlobStore` under their SHA-256 and records
who sent them in the ``media`` table. Tickets refer to a record as ``media:<id>``
(:func:`ref_for`, :func:`media_id_of`).

All methods are synchronous (SQLAlchemy, file I/O); async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from bot import ROOT
from bot.media.blobs import BlobStore, FolderBlobStore
from bot.media.models import media_table, metadata
from bot.media.sniff import IMAGE, VOICE, kind_of, sniff

logger = logging.getLogger(__name__)

#: Ticket attachments and pending photos that live in the media store: ``media:<id>``.
PREFIX = "media:"
_ID = re.compile(r"^[0-9a-f]{32}$")
MB = 1024 * 1024


def ref_for(media_id: str) -> str:
    """The attachment reference of a media record."""
    return PREFIX + media_id


def media_id_of(ref: Optional[str]) -> Optional[str]:
    """The media id of a ``media:<id>`` reference, or ``None`` for any other (or malformed) reference."""
    if not isinstance(ref, str) or not ref.startswith(PREFIX):
        return None
    media_id = ref[len(PREFIX):]
    return media_id if _ID.match(media_id) else None


def valid_id(media_id: Any) -> bool:
    """Whether ``media_id`` has the shape of a media id (32 hex characters)."""
    return isinstance(media_id, str) and bool(_ID.match(media_id))


class MediaRefused(ValueError):
    """What was sent cannot be kept: ``reason`` is ``empty``, ``too_large`` or ``unsupported_type``."""

    def __init__(self, reason: str, message: str, limit_mb: float = 0.0) -> None:
        super().__init__(message)
        self.reason = reason
        self.limit_mb = limit_mb


class MediaNotFound(KeyError):
    """No media record (or no bytes) with that id."""


@dataclass(frozen=True)
class Limits:
    """Largest photo and voice message, in bytes."""

    max_image_bytes: int = 10 * MB
    max_voice_bytes: int = 2 * MB

    @classmethod
    def from_settings(cls) -> "Limits":
        """The limits of ``LINLI_MEDIA_MAX_IMAGE_MB`` and ``LINLI_MEDIA_MAX_VOICE_MB``."""
        from bot.settings import Media

        area = Media.from_env()
        return cls(int(area.max_image_mb * MB), int(area.max_voice_mb * MB))

    def for_kind(self, kind: Optional[str]) -> int:
        """The limit of ``kind`` (the larger one while the kind is not known yet)."""
        if kind == IMAGE:
            return self.max_image_bytes
        if kind == VOICE:
            return self.max_voice_bytes
        return max(self.max_image_bytes, self.max_voice_bytes)


@dataclass(frozen=True)
class Origin:
    """Who sent a file, and where it came from."""

    channel: str
    sender_id: str  # the conversation id "<channel>:<platform id>"
    source_ref: Optional[str] = None  # the platform's media id / file id / URL


@dataclass(frozen=True)
class MediaRecord:
    """One kept photo or voice message."""

    id: str
    sha256: str
    content_type: str
    size: int
    kind: str
    channel: str
    sender_id: str
    source_ref: Optional[str]
    created_at: float

    @property
    def ref(self) -> str:
        """``media:<id>``: how tickets and pending photos refer to it."""
        return ref_for(self.id)

    def as_dict(self) -> Dict[str, Any]:
        """The record as JSON-ready data (no bytes)."""
        return {**asdict(self), "ref": self.ref}


def _record(row: Any) -> MediaRecord:
    return MediaRecord(**{name: row._mapping[name] for name in MediaRecord.__dataclass_fields__})


class MediaStore:
    """Media records on ``engine`` with their bytes in ``blobs``, refused past ``limits``."""

    def __init__(self, engine: Engine, blobs: BlobStore, limits: Optional[Limits] = None) -> None:
        self.engine = engine
        self.blobs = blobs
        self.limits = limits or Limits()
        metadata.create_all(engine)  # a database made by migrations has it already

    # ------------------------------------------------------------ checks
    def check(self, data: bytes, kind: Optional[str] = None) -> Tuple[str, str]:
        """``(content type, kind)`` of ``data``, or :class:`MediaRefused`.

        The type comes from the bytes alone; ``kind`` (``image``/``voice``), when given,
        is what the caller expects (a "photo" that is a voice file is refused).
        """
        if not data:
            raise MediaRefused("empty", "the file is empty")
        limit = self.limits.for_kind(kind)
        if len(data) > limit:
            raise MediaRefused("too_large", f"the file is larger than {limit / MB:g} MB", limit / MB)
        content_type = sniff(data)
        found = kind_of(content_type)
        if content_type is None or found is None or (kind is not None and found != kind):
            wanted = "a JPEG, PNG, GIF or WebP photo" if kind != VOICE else "an AMR, Speex, MP3 or Ogg voice message"
            raise MediaRefused("unsupported_type", f"the file is not {wanted}",
                               self.limits.for_kind(kind or found) / MB)
        if len(data) > self.limits.for_kind(found):
            limit = self.limits.for_kind(found)
            raise MediaRefused("too_large", f"the file is larger than {limit / MB:g} MB", limit / MB)
        return content_type, found

    # ------------------------------------------------------------ writing
    def put(self, data: bytes, declared_type: Optional[str], origin: Origin, kind: Optional[str] = None) -> MediaRecord:
        """Keep ``data`` sent by ``origin``; the record (the existing one when this sender sent
        the same bytes before). ``declared_type`` is only compared with the sniffed type (logged)."""
        content_type, found = self.check(data, kind)
        if declared_type and declared_type.split(";")[0].strip().lower() != content_type:
            logger.info("Media from %s declared %r but is %s", origin.sender_id, declared_type[:64], content_type)
        digest = hashlib.sha256(data).hexdigest()
        table = media_table
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.sha256 == digest, table.c.sender_id == origin.sender_id)
                               .order_by(table.c.created_at).limit(1)).first()
            if row is not None:
                existing = _record(row)
            else:
                existing = None
                values = dict(id=secrets.token_hex(16), sha256=digest, content_type=content_type, size=len(data),
                              kind=found, channel=origin.channel, sender_id=origin.sender_id,
                              source_ref=(origin.source_ref or None) and origin.source_ref[:2000],
                              created_at=time.time())
                conn.execute(insert(table).values(**values))
        # The row first, then the bytes (idempotent): a concurrent delete of the last other record
        # of this digest cannot leave this record without its file.
        self.blobs.write(digest, data)
        if existing is not None:
            return existing
        return MediaRecord(**values)  # type: ignore[arg-type]

    # ------------------------------------------------------------ reading
    def get(self, media_id: str) -> Optional[MediaRecord]:
        """The record of ``media_id``, or ``None``."""
        if not valid_id(media_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(media_table).where(media_table.c.id == media_id)).first()
        return _record(row) if row is not None else None

    def read(self, media_id: str) -> Tuple[MediaRecord, bytes]:
        """The record and bytes of ``media_id``; :class:`MediaNotFound` if either is missing."""
        record = self.get(media_id)
        if record is None:
            raise MediaNotFound(media_id)
        try:
            return record, self.blobs.read(record.sha256)
        except KeyError:
            raise MediaNotFound(media_id) from None

    def list_for(self, sender_id: str, kinds: Iterable[str] = (IMAGE, VOICE)) -> List[MediaRecord]:
        """A conversation's media, oldest first."""
        table = media_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.sender_id == sender_id, table.c.kind.in_(list(kinds)))
                                .order_by(table.c.created_at, table.c.id))
            return [_record(r) for r in rows]

    # ------------------------------------------------------------ deleting
    def delete(self, media_id: str) -> bool:
        """Delete a record, and its bytes when no other record shares them."""
        record = self.get(media_id)
        if record is None:
            return False
        with self.engine.begin() as conn:
            conn.execute(delete(media_table).where(media_table.c.id == media_id))
            others = conn.scalar(select(func.count()).select_from(media_table)
                                 .where(media_table.c.sha256 == record.sha256))
        if not others:
            self.blobs.delete(record.sha256)
        return True

    def delete_for(self, sender_id: str) -> int:
        """Delete every record of a conversation (erasure on request); how many."""
        return sum(1 for record in self.list_for(sender_id) if self.delete(record.id))

    def purge(self, before: float, keep: Iterable[str] = ()) -> int:
        """Delete the records created before ``before`` (epoch seconds) except the ids in ``keep``."""
        kept = set(keep)
        with self.engine.connect() as conn:
            ids = [i for (i,) in conn.execute(select(media_table.c.id).where(media_table.c.created_at < before))]
        return sum(1 for media_id in ids if media_id not in kept and self.delete(media_id))


def media_dir() -> Path:
    """``LINLI_MEDIA_DIR`` (relative paths from the repository root)."""
    from bot.settings import Media

    path = Path(Media.read("dir"))
    return path if path.is_absolute() else ROOT / path


@lru_cache(maxsize=None)
def _store_for(url: str, root: str, limits: Limits) -> MediaStore:
    from bot.db import get_engine

    return MediaStore(get_engine(url), FolderBlobStore(Path(root)), limits)


def media_store(engine: Optional[Engine] = None) -> MediaStore:
    """The process-wide media store: ``DATABASE_URL`` (or ``engine``) and the folder ``LINLI_MEDIA_DIR``."""
    from bot.db import database_url

    if engine is not None:
        return MediaStore(engine, FolderBlobStore(media_dir()), Limits.from_settings())
    return _store_for(database_url(), str(media_dir()), Limits.from_settings())
