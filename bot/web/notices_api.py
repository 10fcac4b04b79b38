"""Notices (物业通知) under ``/api/notices`` (docs/api.md "Notices"; :mod:`bot.notices`).

- ``GET /api/notices``: notices, newest first, each with its delivery counts (any member of staff);
- ``POST /api/notices``: a new draft (admin): ``{"title_zh", "body_zh", "title_en", "body_en",
  "urgent"?, "target": {"kind": "all" | "buildings" | "units", "buildings"?: [...], "units"?: [...]}}``;
- ``POST /api/notices/preview``: how many residents a target reaches, by channel and language (admin);
- ``GET /api/notices/targets``: the known buildings and their residents (the target picker; admin);
- ``GET /api/notices/<id>`` and ``GET /api/notices/<id>/report``: a notice and its delivery report;
- ``POST /api/notices/<id>/send``: send a draft (admin); 409 when already sent.

Bad input is a 400 with a code (``missing_field``, ``too_long``, ``bad_urgent``, ``bad_target``,
``bad_building``, ``bad_unit``) and changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.notices import targeting
from bot.notices.report import delivery_report
from bot.notices.sending import send_notice
from bot.notices.store import NoticeConflict, NoticeError, NoticeNotFound, NoticeStore
from bot.web.api import audit, authenticated, body, int_arg, user_of, valid_id
from bot.web.http import error
from bot.web.openapi import B, I, S, describe, obj, op, path_param, query, ref

blueprint = Blueprint("linli_notices_api", url_prefix="/api")


def notice_store(request: Request) -> NoticeStore:
    """The notice store on the server's database (made on first use)."""
    store = getattr(request.app.ctx, "notice_store", None)
    if store is None:
        store = request.app.ctx.notice_store = NoticeStore(request.app.ctx.ticket_store.engine)
    return store


def _trackers() -> Any:
    from bot.privacy import tracker_engine

    return tracker_engine()


def _language_of(channel: str, sender_id: str) -> Optional[str]:
    from bot.channels.common import known_language

    return known_language(channel, sender_id)


def _not_found(notice_id: int) -> HTTPResponse:
    return error(404, "not_found", f"No notice {notice_id}; GET /api/notices lists them.")


async def _with_report(store: NoticeStore, notice: Any) -> Dict[str, Any]:
    return {**notice.as_dict(), "report": await asyncio.to_thread(delivery_report, store.engine, notice.id)}


@blueprint.get("/notices")
@authenticated()
async def list_notices(request: Request) -> HTTPResponse:
    """Notices newest first (``?limit=1-100&offset=``), each with its delivery counts."""
    try:
        limit, offset = int_arg(request, "limit", 50, 1, 100), int_arg(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return error(400, "bad_parameter", f"{exc}.")
    store = notice_store(request)
    found, total = await asyncio.to_thread(store.list, limit, offset)
    rows = []
    for notice in found:
        counts = (await asyncio.to_thread(delivery_report, store.engine, notice.id, 0))["counts"]
        rows.append({**notice.as_dict(), "counts": counts})
    return response.json({"notices": rows, "total": total, "limit": limit, "offset": offset})


@blueprint.post("/notices")
@authenticated(admin=True)
async def create_notice(request: Request) -> HTTPResponse:
    """A new draft; 400 with a code when a field or the target is wrong."""
    try:
        notice = await asyncio.to_thread(notice_store(request).create, user_of(request).username, body(request))
    except (NoticeError, targeting.TargetError) as exc:
        return error(400, exc.code, str(exc))
    return response.json({"notice": notice.as_dict()}, status=201)


@blueprint.post("/notices/preview")
@authenticated(admin=True)
async def preview_notice(request: Request) -> HTTPResponse:
    """``{"target", "urgent"?}`` → the residents it would reach (counts only)."""
    data = body(request)
    urgent = data.get("urgent", False)
    if not isinstance(urgent, bool):
        return error(400, "bad_urgent", "urgent must be true or false.")
    try:
        target = targeting.parse_target(data.get("target"))
    except targeting.TargetError as exc:
        return error(400, exc.code, str(exc))
    engine = notice_store(request).engine
    trackers = await asyncio.to_thread(_trackers)
    counts = await asyncio.to_thread(targeting.preview, engine, target, urgent, trackers, _language_of)
    return response.json({"preview": counts})


@blueprint.get("/notices/targets")
@authenticated(admin=True)
async def notice_targets(request: Request) -> HTTPResponse:
    """The buildings residents are known to live in, with how many (the target picker)."""
    engine = notice_store(request).engine
    trackers = await asyncio.to_thread(_trackers)
    buildings = await asyncio.to_thread(targeting.known_buildings, engine, trackers)
    return response.json({"buildings": buildings})


@blueprint.get("/notices/<notice_id:int>")
@authenticated()
async def get_notice(request: Request, notice_id: int) -> HTTPResponse:
    """A notice with its delivery report."""
    store = notice_store(request)
    try:
        notice = await asyncio.to_thread(store.get, notice_id) if valid_id(notice_id) else None
    except NoticeNotFound:
        notice = None
    if notice is None:
        return _not_found(notice_id)
    return response.json({"notice": await _with_report(store, notice)})


@blueprint.get("/notices/<notice_id:int>/report")
@authenticated()
async def notice_report(request: Request, notice_id: int) -> HTTPResponse:
    """The delivery report alone: counts and each recipient's status with the reason."""
    store = notice_store(request)
    try:
        if not valid_id(notice_id):
            raise NoticeNotFound(notice_id)
        await asyncio.to_thread(store.get, notice_id)
    except NoticeNotFound:
        return _not_found(notice_id)
    report = await asyncio.to_thread(delivery_report, store.engine, notice_id)
    await audit(request, "view_notice_report", None, notice_id)
    return response.json({"report": report})


@blueprint.post("/notices/<notice_id:int>/send")
@authenticated(admin=True)
async def send(request: Request, notice_id: int) -> HTTPResponse:
    """Send a draft to everyone its target includes, each in their language on their channel."""
    if not valid_id(notice_id):
        return _not_found(notice_id)
    store = notice_store(request)
    trackers = await asyncio.to_thread(_trackers)
    try:
        notice = await send_notice(store, notice_id, user_of(request).username, trackers=trackers,
                                   language_of=_language_of)
    except NoticeNotFound:
        return _not_found(notice_id)
    except NoticeConflict as exc:
        return error(409, "already_sent", f"This notice cannot be sent again: {exc}. Compose a new one.")
    await audit(request, "send_notice", None, notice_id, f"{notice.recipients} residents")
    return response.json({"notice": await _with_report(store, notice)})


# ---------------------------------------------------------------- OpenAPI
@describe
def _openapi() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    tag = "notices"
    notice_id = path_param("notice_id", "integer")
    arr = lambda schema: {"type": "array", "items": schema}  # noqa: E731
    target = obj(kind={"type": "string", "enum": list(targeting.TARGET_KINDS)},
                 buildings=arr({**S, "description": "\"3\", \"3栋\", \"B\""}),
                 units=arr({"description": "\"3栋2单元502\", \"3-2-502\" or {building, entrance?, room}"}))
    fields = dict(title_zh=S, body_zh=S, title_en=S, body_en=S, urgent=B, target=target)
    counts = obj(sent=I, queued=I, failed=I, undeliverable=I, skipped=I, total=I)
    created = op("Create a draft notice (admin): bilingual title and body, urgent or not, a target",
                 obj(notice=ref("Notice")), request=obj(**fields), errors=(400, 401, 403, 415), tag=tag)
    created["responses"]["201"] = created["responses"].pop("200")
    paths = {
        "/api/notices": {
            "get": op("Notices, newest first, with their delivery counts",
                      obj(notices=arr(ref("Notice")), total=I, limit=I, offset=I),
                      params=[query("limit", "1-100 (default 50)", "integer"), query("offset", "skip", "integer")],
                      errors=(400, 401), tag=tag),
            "post": created,
        },
        "/api/notices/preview": {"post": op(
            "How many residents a target reaches (admin): total, opted out, will_send by channel and language",
            obj(preview=obj(total=I, opted_out=I, will_send=I, skipped=I, urgent=B, by_channel={"type": "object"},
                            by_language={"type": "object"}, target=target)),
            request=obj(target=target, urgent=B), errors=(400, 401, 403, 415), tag=tag)},
        "/api/notices/targets": {"get": op(
            "Buildings residents are known to live in, with their number of residents (admin)",
            obj(buildings=arr(obj(building=S, residents=I))), errors=(401, 403), tag=tag)},
        "/api/notices/{notice_id}": {"get": op("A notice with its delivery report", obj(notice=ref("Notice")),
                                               params=[notice_id], errors=(401, 404), tag=tag)},
        "/api/notices/{notice_id}/report": {"get": op(
            "The delivery report: counts and each recipient's status (sent, queued, failed, undeliverable, "
            "skipped) with the reason", obj(report=ref("NoticeReport")), params=[notice_id], errors=(401, 404), tag=tag)},
        "/api/notices/{notice_id}/send": {"post": op(
            "Send a draft (admin): one message per targeted resident through the outbox, in their language; "
            "opted-out residents are skipped unless urgent", obj(notice=ref("Notice")), params=[notice_id],
            errors=(401, 403, 404, 409, 415), tag=tag)},
    }
    schemas = {
        "Notice": obj(id=I, title_zh=S, body_zh=S, title_en=S, body_en=S, urgent=B, target=target,
                      status={"type": "string", "enum": ["draft", "sending", "sent"]}, created_by=S, created_at=S,
                      sent_by={"type": "string", "nullable": True}, sent_at={"type": "string", "nullable": True},
                      recipients={"type": "integer", "nullable": True}, counts=counts,
                      report=ref("NoticeReport")),
        "NoticeReport": obj(counts=counts, recipients=arr(obj(
            resident=S, channel=S, platform_id=S, language=S,
            status={"type": "string", "enum": ["sent", "queued", "failed", "undeliverable", "skipped", "unknown"]},
            reason={"type": "string", "nullable": True}, outbox_id={"type": "integer", "nullable": True},
            attempts=I, sent_at={"type": "string", "nullable": True}))),
    }
    return paths, schemas
