"""The media store: photos and voice messages residents send, kept by Linli.

WeChat media ids and PicUrls expire (media after 3 days), Telegram file ids cannot be
shown in a browser, and the widget's uploads have nowhere else to go, so a file is
downloaded when it arrives (:mod:`bot.media.fetch`) and kept here; tickets then refer to
it as ``media:<id>`` and the desk shows it from ``GET /api/media/<id>`` (same origin).

The interface (:mod:`bot.media.store`)::

    store = media_store()                                   # DATABASE_URL + LINLI_MEDIA_DIR
    record = store.put(data, declared_type, Origin(channel, conversation_id, source_ref), kind="image")
    record, data = store.read(record.id)                    # MediaNotFound if missing
    store.delete(record.id)                                 # the bytes go with their last record

- ``put`` refuses (:class:`MediaRefused`, ``reason`` ``empty`` / ``too_large`` /
  ``unsupported_type``) what is larger than ``LINLI_MEDIA_MAX_IMAGE_MB`` /
  ``LINLI_MEDIA_MAX_VOICE_MB`` or is not a JPEG, PNG, GIF or WebP photo (AMR, Speex, MP3 or
  Ogg voice), judged by the bytes (:mod:`bot.media.sniff`), never by the declared type.
- Records (table ``media``): id, sha256, content type, size, kind, channel, sender (the
  conversation id), the platform's reference, time. The same bytes from the same sender
  are one record; the bytes are stored once per digest whoever sent them.
- Bytes go to a :class:`~bot.media.blobs.BlobStore` keyed by SHA-256: the folder backend
  :class:`~bot.media.blobs.FolderBlobStore` (``var/media/ab/cd/<sha256>``) by default. An
  object store (S3, MinIO, OSS) is a class with the same four methods (``write``, ``read``,
  ``exists``, ``delete``) returned by :func:`media_store`.
"""

from bot.media.blobs import BlobNotFound, BlobStore, FolderBlobStore
from bot.media.sniff import IMAGE, VOICE, kind_of, sniff
from bot.media.store import (Limits, MediaNotFound, MediaRecord, MediaRefused, MediaStore, Origin, media_id_of,
                             media_store, ref_for)

__all__ = [
    "BlobNotFound", "BlobStore", "FolderBlobStore", "IMAGE", "VOICE", "kind_of", "sniff", "Limits", "MediaNotFound",
    "MediaRecord", "MediaRefused", "MediaStore", "Origin", "media_id_of", "media_store", "ref_for",
]
