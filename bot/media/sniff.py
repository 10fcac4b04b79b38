"""What a file really is, from its first bytes (magic numbers), never from its declared type.

Only the types Linli keeps are recognised: photos (JPEG, PNG, GIF, WebP) and voice
(AMR, Speex in Ogg as WeChat sends it, MP3, Ogg). Anything else is ``None``.
"""

from __future__ import annotations

from typing import Dict, Optional

IMAGE = "image"
VOICE = "voice"

#: Content type → the kind of media it is (also the list of types Linli accepts).
KINDS: Dict[str, str] = {
    "image/jpeg": IMAGE,
    "image/png": IMAGE,
    "image/gif": IMAGE,
    "image/webp": IMAGE,
    "audio/amr": VOICE,
    "audio/speex": VOICE,
    "audio/mpeg": VOICE,
    "audio/ogg": VOICE,
}

#: File name extensions, for ``Content-Disposition`` and exports.
EXTENSIONS: Dict[str, str] = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "audio/amr": "amr", "audio/speex": "spx", "audio/mpeg": "mp3", "audio/ogg": "ogg",
}


def _mp3_frame(data: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a valid version and layer, a valid bitrate."""
    if len(data) < 4 or data[0] != 0xFF or (data[1] & 0xE0) != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0x3, (data[1] >> 1) & 0x3
    bitrate = data[2] >> 4
    return version != 1 and layer != 0 and bitrate not in (0, 15)


def sniff(data: bytes) -> Optional[str]:
    """The content type of ``data`` if it is a photo or voice type Linli accepts, else ``None``."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "audio/amr"
    if head.startswith(b"OggS"):
        return "audio/speex" if b"Speex   " in head else "audio/ogg"
    if head.startswith(b"Speex   "):  # a bare Speex header (no Ogg pages)
        return "audio/speex"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "audio/mpeg"
    return None


def kind_of(content_type: Optional[str]) -> Optional[str]:
    """``image`` or ``voice`` for an accepted content type, else ``None``."""
    return KINDS.get(content_type or "")
