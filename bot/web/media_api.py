"""Photos and voice messages over HTTP (the media store, :mod:`bot.media`).

Staff (a desk session, as every ``/api`` route):

- ``GET /api/media/<id>``: the file, with its sniffed ``Content-Type``,
  ``X-Content-Type-Options: nosniff``, ``Content-Disposition: inline`` and a private cache;
  each view is written to the audit log (``view_media``), as attachments are.
- ``GET /api/media?resident=<conversation id>``: that resident's photos and voice messages
  (for the conversation view), oldest first: metadata only, not audited (the files are).

The web widget (the session token of ``POST /chat/session`` as ``Authorization: Bearer``):

- ``POST /chat/photo?lang=zh|en``: the photo as the raw request body. Kept in the media
  store and attached to the resident's open repair ticket, or kept waiting and a repair
  report started, as a photo on WeChat or Telegram. 401 without a valid token, 413 past
  ``LINLI_MEDIA_MAX_IMAGE_MB``, 415 for anything that is not a JPEG/PNG/GIF/WebP photo
  (judged by its bytes), 400 when empty, 429 past 30 photos an hour: nothing is stored then.
- ``GET /chat/photos``: the session's own photos, each with a signed URL
  ``/chat/media/<id>?sig=…`` the widget can show in an ``<img>`` (no token in the URL).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Dict, Optional, Set, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.state import kv_store
from bot.channels.webchat import CHANNEL as WIDGET, room_of, session_of
from bot.media import IMAGE, MediaNotFound, MediaRecord, MediaRefused, Origin, media_store
from bot.media.sniff import EXTENSIONS
from bot.media.store import MB, valid_id
from bot.settings import secret_key
from bot.web.api import audit, authenticated
from bot.web.http import bearer_token, error
from bot.web.openapi import I, N, S, describe, obj, op, path_param, query

logger = logging.getLogger(__name__)

blueprint = Blueprint("linli_media")
NO_STORE = {"Cache-Control": "no-store"}
#: Photos one widget session may send in an hour.
MAX_UPLOADS_PER_HOUR = 30
#: Turns started by uploads, referenced until they end.
_TASKS: Set["asyncio.Task[Any]"] = set()


# ---------------------------------------------------------------- serving files
def media_response(record: MediaRecord, data: bytes) -> HTTPResponse:
    """The file of ``record``: its sniffed type, never sniffed again by the browser, shown inline."""
    name = f"{record.id}.{EXTENSIONS.get(record.content_type, 'bin')}"
    return response.raw(data, content_type=record.content_type, headers={
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{name}"',
        "Cache-Control": "private, max-age=86400",  # a record's bytes never change
        "Content-Security-Policy": "default-src 'none'; sandbox",  # opened on its own: nothing runs
    })


async def serve_media(request: Request, media_id: str, audited: bool = True) -> HTTPResponse:
    """The file of ``media_id`` for a staff member, audited (``view_media``) unless the caller did, or a 404."""
    store = await asyncio.to_thread(media_store)
    try:
        record, data = await asyncio.to_thread(store.read, media_id)
    except MediaNotFound:
        return error(404, "not_found", f"No media {media_id[:40]!r}.")
    if audited:
        await audit(request, "view_media", record.sender_id, f"media:{record.id}", record.kind)
    return media_response(record, data)


@blueprint.get("/api/media/<media_id:str>")
@authenticated()
async def get_media(request: Request, media_id: str) -> HTTPResponse:
    """One photo or voice message."""
    if not valid_id(media_id):
        return error(404, "not_found", f"No media {media_id[:40]!r}.")
    return await serve_media(request, media_id)


@blueprint.get("/api/media")
@authenticated()
async def list_media(request: Request) -> HTTPResponse:
    """``?resident=<conversation id>``: the resident's media, oldest first."""
    resident = (request.args.get("resident") or "").strip()
    if not resident or len(resident) > 255:
        return error(400, "missing_resident", "Send ?resident=<conversation id> (e.g. wechat:<openid>).")
    store = await asyncio.to_thread(media_store)
    records = await asyncio.to_thread(store.list_for, resident)
    # Metadata only (the conversation view polls it); each file's view is audited by GET /api/media/<id>.
    return response.json({"media": [{**_public(r), "url": f"/api/media/{r.id}"} for r in records]})


def _public(record: MediaRecord) -> Dict[str, Any]:
    return {"id": record.id, "kind": record.kind, "content_type": record.content_type, "size": record.size,
            "channel": record.channel, "created_at": record.created_at, "ref": record.ref}


# ---------------------------------------------------------------- the widget
def _signature(record: MediaRecord) -> str:
    return hmac.new(secret_key(), f"linli-widget-media:{record.id}:{record.sender_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def widget_url(record: MediaRecord) -> str:
    """A URL only the session that sent the photo learns (signed; no token in it)."""
    return f"/chat/media/{record.id}?sig={_signature(record)}"


def _session(request: Request) -> Optional[str]:
    return session_of(bearer_token(request) or request.headers.get("x-linli-chat-token"))


def _unauthenticated() -> HTTPResponse:
    return response.json({"error": "unauthenticated",
                          "message": "Send the widget's session token as Authorization: Bearer <token>."},
                         status=401, headers=NO_STORE)


def _refused(refusal: MediaRefused) -> HTTPResponse:
    if refusal.reason == "too_large":
        return response.json({"error": "too_large", "message": f"照片超过 {refusal.limit_mb:g} MB / "
                                                               f"The photo is larger than {refusal.limit_mb:g} MB."},
                             status=413, headers=NO_STORE)
    if refusal.reason == "empty":
        return response.json({"error": "empty", "message": "没有收到照片 / The photo is empty."},
                             status=400, headers=NO_STORE)
    return response.json({"error": "unsupported_type",
                          "message": "只能发送 JPG、PNG、GIF 或 WebP 照片 / Send a JPG, PNG, GIF or WebP photo."},
                         status=415, headers=NO_STORE)


async def _read_body(request: Request, limit: int) -> bytes:
    """The streamed body, refused (:class:`MediaRefused`) past ``limit`` bytes before more is read."""
    declared = request.headers.get("content-length", "")
    too_large = MediaRefused("too_large", "too large", limit / MB)
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    parts, size = [], 0
    stream = request.stream
    while stream is not None:
        chunk = await stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


def _widget_channel(request: Request) -> Any:
    for channel in getattr(request.app.ctx, "input_channels", None) or []:
        if channel.name() == WIDGET and hasattr(channel, "run_turn"):
            return channel
    return None


@blueprint.post("/chat/photo", stream=True)
async def upload_photo(request: Request) -> HTTPResponse:
    """A photo from the widget: stored, then attached to the open repair ticket or kept and a report started."""
    from bot.channels import common

    session_id = _session(request)
    if session_id is None:
        return _unauthenticated()
    language = "en" if (request.args.get("lang") or "").lower().startswith("en") else "zh"
    sent = await asyncio.to_thread(kv_store().incr, f"widget:photos:{session_id}", 3600.0)
    if sent > MAX_UPLOADS_PER_HOUR:  # a resident sends a few; a script filling the disk is stopped
        return response.json({"error": "too_many", "message": "照片发送太频繁，请稍后再试 / Too many photos: "
                                                              "please try again later."}, status=429, headers=NO_STORE)
    store = await asyncio.to_thread(media_store)
    try:
        data = await _read_body(request, store.limits.max_image_bytes)
        record = await asyncio.to_thread(store.put, data, request.content_type,
                                         Origin(WIDGET, room_of(session_id), "widget upload"), IMAGE)
    except MediaRefused as refusal:
        logger.info("Widget photo from %s refused: %s", session_id, refusal)
        return _refused(refusal)
    number = await common.handle_photo(WIDGET, session_id, record.ref)
    if number:
        text = common.text("photo_attached", language, number=number)
    else:
        text = common.text("photo_kept", language)
        channel = _widget_channel(request)
        if channel is not None:  # the repair form's first question follows on the socket
            task = asyncio.ensure_future(channel.run_turn(session_id, common.text("start_repair", language), language,
                                                          {"photo": record.id}))
            _TASKS.add(task)
            task.add_done_callback(_finished)
    return response.json({"media": {**_public(record), "url": widget_url(record)}, "ticket": number,
                          "pending": number is None, "text": text}, status=201, headers=NO_STORE)


def _finished(task: "asyncio.Task[Any]") -> None:
    _TASKS.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("The repair report started by a widget photo failed", exc_info=task.exception())


@blueprint.get("/chat/photos")
async def widget_photos(request: Request) -> HTTPResponse:
    """The photos this widget session sent, with the URLs to show them."""
    session_id = _session(request)
    if session_id is None:
        return _unauthenticated()
    store = await asyncio.to_thread(media_store)
    records = await asyncio.to_thread(store.list_for, room_of(session_id), (IMAGE,))
    return response.json({"photos": [{"id": r.id, "url": widget_url(r), "ts": r.created_at} for r in records]},
                         headers=NO_STORE)


@blueprint.get("/chat/media/<media_id:str>")
async def widget_media(request: Request, media_id: str) -> HTTPResponse:
    """A widget photo by its signed URL (only its own session was given the URL)."""
    store = await asyncio.to_thread(media_store)
    record = await asyncio.to_thread(store.get, media_id) if valid_id(media_id) else None
    given = request.args.get("sig") or ""
    if record is None or record.channel != WIDGET or not hmac.compare_digest(given.encode(),
                                                                           _signature(record).encode()):
        return error(404, "not_found", "No such photo.")
    try:
        record, data = await asyncio.to_thread(store.read, media_id)
    except MediaNotFound:
        return error(404, "not_found", "No such photo.")
    return media_response(record, data)


@describe
def _openapi() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The staff media routes in ``GET /api/openapi.json`` (the widget's are in docs/api.md)."""
    file = {"200": {"description": "the file: its sniffed Content-Type, nosniff, inline, private cache"},
            "401": {"description": "No session, or it expired: log in"}, "404": {"description": "Not found"}}
    paths = {
        "/api/media/{media_id}": {"get": {"summary": "A resident's photo or voice message (audited)",
                                          "tags": ["media"], "parameters": [path_param("media_id")],
                                          "responses": file}},
        "/api/media": {"get": op("A resident's photos and voice messages, oldest first",
                                 obj(media={"type": "array", "items": obj(
                                     id=S, kind=S, content_type=S, size=I, channel=S, created_at=N, ref=S, url=S)}),
                                 params=[query("resident", "the conversation id, e.g. wechat:<openid>")],
                                 errors=(400, 401), tag="media")},
    }
    return paths, {}
