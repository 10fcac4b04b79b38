"""Small real files for the media tests: photos drawn with Pillow, voice headers as the platforms send them."""

from __future__ import annotations

import io
import random


def jpeg(width: int = 48, height: int = 32, seed: int = 0) -> bytes:
    """A real JPEG (each seed a different picture, so a different hash)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(20):
        image.putpixel((rng.randrange(width), rng.randrange(height)), (rng.randrange(256), 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def png(width: int = 20, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 90, 255)).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("P", (8, 8), 3).save(out, "GIF")
    return out.getvalue()


def webp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "WEBP")
    return out.getvalue()


#: WeChat's voice messages: AMR (narrow band) and Speex in Ogg; an MP3 frame; Opus in Ogg (Telegram).
AMR = b"#!AMR\n" + bytes([0x3C]) + bytes(31) * 20
SPEEX = b"OggS\x00\x02" + bytes(22) + b"\x01\x50Speex   1.2rc1" + bytes(60)
MP3 = b"\xff\xfb\x90\x64" + bytes(400)
ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(200)
OGG = b"OggS\x00\x02" + bytes(22) + b"\x01\x13OpusHead" + bytes(40)

#: Things that must never be kept as photos, whatever they claim to be.
HTML = b"<!doctype html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.7\n" + bytes(100)
