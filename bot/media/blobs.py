"""Where media bytes live: the :class:`BlobStore` interface and its folder backend.

A blob is addressed by the SHA-256 of its bytes (64 lowercase hex characters), so
the same photo sent twice is stored once and a key can never name a path: anything
that is not such a digest is refused before a file name is built.

To add an object store (S3, MinIO, OSS...), implement the four methods of
:class:`BlobStore` with the digest as the object key and return it from
:func:`bot.media.store.media_store` (the database records stay as they are).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(KeyError):
    """No blob with that digest."""


def checked_digest(digest: str) -> str:
    """``digest`` if it is a SHA-256 hex digest (what every key must be), else ``ValueError``."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ValueError("a blob key is a SHA-256 hex digest")
    return digest


class BlobStore(Protocol):
    """Bytes by their SHA-256 digest. Writes are idempotent (same digest, same bytes)."""

    def write(self, digest: str, data: bytes) -> None:
        """Store ``data`` under ``digest`` (its SHA-256); nothing happens if it is already there."""

    def read(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; :class:`BlobNotFound` if none."""

    def exists(self, digest: str) -> bool:
        """Whether ``digest`` is stored."""

    def delete(self, digest: str) -> None:
        """Remove ``digest`` (no error if missing)."""


class FolderBlobStore:
    """:class:`BlobStore` in a folder: ``<root>/ab/cd/abcd…`` (two levels of sharding keep
    folders small). Files are written to a temporary name and renamed, so a reader never
    sees half a file and concurrent writers of one digest are harmless."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path(self, digest: str) -> Path:
        """The file of ``digest`` (checked: always inside :attr:`root`)."""
        digest = checked_digest(digest)
        path = (self.root / digest[:2] / digest[2:4] / digest).resolve()
        if self.root not in path.parents:  # cannot happen for a hex digest; a link in root could
            raise ValueError("blob path outside the media folder")
        return path

    def write(self, digest: str, data: bytes) -> None:
        path = self.path(digest)
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def delete(self, digest: str) -> None:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            pass
