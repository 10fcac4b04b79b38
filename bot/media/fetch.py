"""Downloading a resident's photo or voice message from the platform that delivered it.

- WeChat: the temporary-media API ``GET {WECHAT_API_BASE_URL}/cgi-bin/media/get?access_token=…&media_id=…``
  (wechatpy's ``client.media.download``; media ids expire after 3 days, so we fetch on arrival),
  falling back to the image's ``PicUrl``.
- Telegram: ``getFile``, then the file URL under ``TELEGRAM_API_BASE_URL`` (python-telegram-bot's
  ``bot.get_file`` and ``File.download_as_bytearray``).

Each function returns the bytes or raises (any error: the caller keeps the platform's
reference instead, so a message is never lost); a file known to be too large raises
:class:`~bot.media.store.MediaRefused` before it is downloaded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

import requests

from bot.media.store import MB, MediaRefused

logger = logging.getLogger(__name__)


def _too_large(limit: int) -> MediaRefused:
    return MediaRefused("too_large", f"the file is larger than {limit / MB:g} MB", limit / MB)


def _bounded_get(url: str, limit: int, timeout: float) -> bytes:
    """GET ``url`` (http/https only), reading at most ``limit`` bytes."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("not an http(s) URL")
    with requests.get(url, stream=True, timeout=timeout, allow_redirects=True) as answer:
        answer.raise_for_status()
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        parts, size = [], 0
        for chunk in answer.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
        return b"".join(parts)


def _wechat_media(client: Any, media_id: str, limit: int) -> bytes:
    answer = client.media.download(media_id)
    # wechatpy returns the JSON as a dict (an error it did not raise, or a video's URL) and the
    # bytes as the requests response.
    if not isinstance(answer, requests.Response):
        raise ValueError(f"WeChat answered {str(answer)[:200]!r} instead of the media")
    if len(answer.content) > limit:
        raise _too_large(limit)
    return answer.content


async def wechat_media(client: Any, media_id: Optional[str], limit: int, pic_url: Optional[str] = None,
                       timeout: float = 10.0) -> bytes:
    """The bytes of WeChat media ``media_id`` (the media API), else of ``pic_url``; raises if neither works."""
    failure: Optional[BaseException] = None
    if media_id:
        try:
            return await asyncio.to_thread(_wechat_media, client, media_id, limit)
        except MediaRefused:
            raise
        except Exception as exc:  # expired id, WeChat unreachable, error code: try the PicUrl
            logger.warning("WeChat media %s could not be downloaded: %s", media_id[:64], exc)
            failure = exc
    if pic_url:
        return await asyncio.to_thread(_bounded_get, pic_url, limit, timeout)
    raise failure or ValueError("no media id or URL to download")


async def telegram_file(bot: Any, file_id: str, limit: int, timeout: float = 10.0) -> bytes:
    """The bytes of Telegram file ``file_id`` (``getFile`` then the file URL)."""
    found = await bot.get_file(file_id, read_timeout=timeout, connect_timeout=timeout)
    if found.file_size and found.file_size > limit:
        raise _too_large(limit)
    data = bytes(await found.download_as_bytearray(read_timeout=timeout, connect_timeout=timeout))
    if len(data) > limit:
        raise _too_large(limit)
    return data
