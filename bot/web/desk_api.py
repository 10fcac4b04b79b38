"""Desk essentials' routes under ``/api``: staff list, canned replies, the resident panel, ticket export.

- ``GET /api/staff``: active accounts (for the assignee picker), any member of staff.
- ``GET|POST /api/canned``, ``PUT|DELETE /api/canned/<id>``: canned replies (:mod:`bot.desk.canned`);
  an agent changes only their own, admins also the shared ones (403 otherwise).
- ``GET /api/residents/<channel:platform id>``: the resident panel (:mod:`bot.desk.residents`),
  recorded as ``view_resident`` in the audit log; ``POST .../units`` (``{"unit": "3栋2单元502"}``)
  and ``DELETE .../units/<unit key>`` add and remove a unit (:mod:`bot.residence`), recorded as
  ``edit_resident``.
- ``GET /api/tickets/export?format=csv|xlsx&lang=zh|en&<the filters of GET /api/tickets>``: the
  filtered list as a file (:mod:`bot.desk.export`), recorded as ``export_tickets``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple
from urllib.parse import unquote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk import export
from bot.desk.canned import CannedConflict, CannedForbidden, CannedNotFound, CannedReplyError, CannedStore, can_edit
from bot.desk.residents import parse_resident, resident_profile
from bot.notices.targeting import TargetError, parse_unit_value
from bot.residence.models import STAFF
from bot.residence.store import ResidenceStore
from bot.web.api import audit, authenticated, body, ticket_filters, user_of, valid_id
from bot.web.http import error
from bot.web.openapi import B, I, S, describe, obj, op, path_param, query, ref

blueprint = Blueprint("linli_desk_api", url_prefix="/api")


# ---------------------------------------------------------------- staff
@blueprint.get("/staff")
@authenticated()
async def list_staff(request: Request) -> HTTPResponse:
    """Active staff accounts: username, display name, role (the assignee picker's list)."""
    users = await asyncio.to_thread(request.app.ctx.staff_store.list_users)
    staff = [{"username": u.username, "display_name": u.display_name, "role": u.role} for u in users if u.active]
    return response.json({"staff": staff})


# ---------------------------------------------------------------- canned replies
def canned_store(request: Request) -> CannedStore:
    """The canned-reply store on the server's database (made on first use)."""
    store = getattr(request.app.ctx, "canned_store", None)
    if store is None:
        store = request.app.ctx.canned_store = CannedStore(request.app.ctx.ticket_store.engine)
    return store


def _reply(reply: Any, request: Request) -> Dict[str, Any]:
    user = user_of(request)
    return {**reply.as_dict(), "editable": can_edit(reply, user.username, user.is_admin)}


def _canned_error(exc: Exception, reply_id: int = 0) -> HTTPResponse:
    if isinstance(exc, CannedNotFound):
        return error(404, "not_found", f"No canned reply {reply_id}; GET /api/canned lists yours and the shared ones.")
    if isinstance(exc, CannedForbidden):
        return error(403, "forbidden", f"You may not do this: {exc}.")
    if isinstance(exc, CannedConflict):
        return error(409, "shortcut_taken", f"{exc}; choose another shortcut or edit that reply.")
    return error(400, "bad_request", str(exc))


_CANNED_ERRORS = (CannedNotFound, CannedForbidden, CannedConflict, CannedReplyError)


@blueprint.get("/canned")
@authenticated()
async def list_canned(request: Request) -> HTTPResponse:
    """The shared canned replies and the user's own; ``?language=zh|en`` for one language."""
    language = request.args.get("language") or None
    try:
        replies = await asyncio.to_thread(canned_store(request).list_for, user_of(request).username, language)
    except CannedReplyError as exc:
        return error(400, "bad_parameter", str(exc))
    return response.json({"replies": [_reply(r, request) for r in replies]})


@blueprint.post("/canned")
@authenticated()
async def create_canned(request: Request) -> HTTPResponse:
    """Create ``{"language", "title", "text", "shortcut"?, "shared"?}`` (shared: admins only)."""
    data, user = body(request), user_of(request)
    try:
        reply = await asyncio.to_thread(
            lambda: canned_store(request).create(user.username, user.is_admin, language=data.get("language"),
                                                 title=data.get("title"), text=data.get("text"),
                                                 shortcut=data.get("shortcut"),
                                                 shared=False if data.get("shared") is None else data.get("shared")))
    except _CANNED_ERRORS as exc:
        return _canned_error(exc)
    return response.json({"reply": _reply(reply, request)}, status=201)


@blueprint.put("/canned/<reply_id:int>")
@authenticated()
async def update_canned(request: Request, reply_id: int) -> HTTPResponse:
    """Change some of ``language``, ``title``, ``text``, ``shortcut``, ``shared`` of a reply the user may edit."""
    if not valid_id(reply_id):
        return _canned_error(CannedNotFound(), reply_id)
    user = user_of(request)
    try:
        reply = await asyncio.to_thread(canned_store(request).update, reply_id, user.username, user.is_admin,
                                        body(request))
    except _CANNED_ERRORS as exc:
        return _canned_error(exc, reply_id)
    return response.json({"reply": _reply(reply, request)})


@blueprint.delete("/canned/<reply_id:int>")
@authenticated()
async def delete_canned(request: Request, reply_id: int) -> HTTPResponse:
    """Delete a reply the user may edit."""
    if not valid_id(reply_id):
        return _canned_error(CannedNotFound(), reply_id)
    user = user_of(request)
    try:
        await asyncio.to_thread(canned_store(request).delete, reply_id, user.username, user.is_admin)
    except _CANNED_ERRORS as exc:
        return _canned_error(exc, reply_id)
    return response.json({"ok": True})


# ---------------------------------------------------------------- resident panel
@blueprint.get("/residents/<resident_id:path>")
@authenticated()
async def get_resident(request: Request, resident_id: str) -> HTTPResponse:
    """A resident's channel, units, masked phones, tickets and handoffs (written to the audit log)."""
    resident_id = unquote(resident_id)
    try:
        parse_resident(resident_id)
    except ValueError as exc:
        return error(400, "bad_resident", str(exc))
    profile = await asyncio.to_thread(resident_profile, request.app.ctx.ticket_store.engine,
                                      request.app.ctx.handoff_store.engine, resident_id)
    if profile is None:
        return error(404, "not_found", f"Linli has no ticket or handoff of {resident_id!r}.")
    await audit(request, "view_resident", resident_id, resident_id[:64])
    return response.json({"resident": profile})


@blueprint.post("/residents/<resident_id:path>/units")
@authenticated()
async def add_resident_unit(request: Request, resident_id: str) -> HTTPResponse:
    """Add a unit to a resident (``{"unit": "3栋2单元502"}`` or ``{"unit": {building, entrance?, room}}``)."""
    resident_id = unquote(resident_id)
    try:
        channel, platform = parse_resident(resident_id)
        unit = parse_unit_value(body(request).get("unit"))
    except TargetError as exc:
        return error(400, "bad_unit", str(exc))
    except ValueError as exc:
        return error(400, "bad_resident", str(exc))
    store = ResidenceStore(request.app.ctx.ticket_store.engine)
    added = await asyncio.to_thread(store.confirm, channel, platform, unit, STAFF, f"staff:{user_of(request).username}")
    await audit(request, "edit_resident", resident_id, resident_id[:64], f"add {unit.canonical()}")
    return response.json({"unit": added.as_dict(),
                          "residence": [u.as_dict() for u in await asyncio.to_thread(store.units_of, channel, platform)]})


@blueprint.delete("/residents/<resident_id:path>/units/<key>")
@authenticated()
async def remove_resident_unit(request: Request, resident_id: str, key: str) -> HTTPResponse:
    """Remove a unit (any source; a ticket's unit stops counting, the ticket stays)."""
    resident_id, key = unquote(resident_id), unquote(key)
    try:
        channel, platform = parse_resident(resident_id)
    except ValueError as exc:
        return error(400, "bad_resident", str(exc))
    store = ResidenceStore(request.app.ctx.ticket_store.engine)
    removed = await asyncio.to_thread(store.remove, channel, platform, key[:64], f"staff:{user_of(request).username}")
    if not removed:
        return error(404, "not_found", f"{resident_id} has no unit {key!r}; GET /api/residents/<id> lists them.")
    await audit(request, "edit_resident", resident_id, resident_id[:64], f"remove {key[:64]}")
    return response.json({"residence": [u.as_dict() for u in await asyncio.to_thread(store.units_of, channel, platform)]})


# ---------------------------------------------------------------- ticket export
@blueprint.get("/tickets/export")
@authenticated()
async def export_tickets(request: Request) -> HTTPResponse:
    """The filtered ticket list as CSV or XLSX (phones masked, labels in ``lang``), as an attachment."""
    file_format = request.args.get("format") or "csv"
    language = request.args.get("lang") or "zh"
    if file_format not in export.FORMATS:
        return error(400, "bad_parameter", "format must be csv or xlsx.")
    if language not in ("zh", "en"):
        return error(400, "bad_parameter", "lang must be zh or en.")
    try:
        filters = await ticket_filters(request)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    store = request.app.ctx.ticket_store
    total = await asyncio.to_thread(store.count, **filters)
    if total > export.MAX_ROWS:
        return error(400, "too_many", f"{total} tickets match; an export holds at most {export.MAX_ROWS}: "
                                      "narrow the filters (e.g. the dates).")
    tickets = await asyncio.to_thread(store.search, limit=export.MAX_ROWS, offset=0, **filters)
    names = {u.username: u.display_name for u in await asyncio.to_thread(request.app.ctx.staff_store.list_users)}
    data = await asyncio.to_thread(export.render, tickets, file_format, language, store.timezone, names)
    await audit(request, "export_tickets", None, f"{len(tickets)} tickets {file_format}",
                (request.query_string or "")[:500] or None)
    return response.raw(data, content_type=export.MEDIA_TYPES[file_format], headers={
        "Content-Disposition": f'attachment; filename="{export.filename(file_format, store.timezone)}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Linli-Rows": str(len(tickets))})


# ---------------------------------------------------------------- OpenAPI
@describe
def _openapi() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    reply_id = path_param("reply_id", "integer")
    fields = dict(language={"type": "string", "enum": ["zh", "en"]}, title=S, text=S,
                  shortcut={"type": "string", "description": "e.g. /hours (the \"/\" is added when missing)"},
                  shared={"type": "boolean", "description": "shared with all staff (admins only)"})
    created = op("Create a canned reply: personal, or shared (admins)", obj(reply=ref("CannedReply")),
                 request=obj(**fields), errors=(400, 401, 403, 409, 415), tag="canned")
    created["responses"]["201"] = created["responses"].pop("200")
    filters = [query("status", "comma-separated: open, assigned, in_progress, resolved, closed"),
               query("category", "plumbing, electrical, elevator, doors_locks, public_area, appliance, other"),
               query("type", "repair or complaint"), query("unit", "part of the unit, e.g. 3栋"),
               query("building", "building number or letter"), query("urgency", "urgent or normal"),
               query("since", "created on or after (YYYY-MM-DD)"), query("until", "created up to this day (YYYY-MM-DD)"),
               query("assignee", "me or a staff username")]
    exported = op("The filtered ticket list as a CSV (UTF-8 with BOM) or XLSX attachment; phones masked",
                  {"type": "string"},
                  params=[{**query("format", "csv (default) or xlsx"), "schema": {"type": "string", "enum": list(export.FORMATS)}},
                          {**query("lang", "column titles and labels: zh (default) or en"),
                           "schema": {"type": "string", "enum": ["zh", "en"]}}] + filters,
                  errors=(400, 401), tag="tickets")
    exported["responses"]["200"] = {"description": "the file (Content-Disposition: attachment)", "content": {
        "text/csv": {"schema": {"type": "string"}},
        export.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}
    paths = {
        "/api/staff": {"get": op("Active staff accounts (for the assignee picker)",
                                 obj(staff={"type": "array", "items": ref("StaffMember")}), tag="tickets")},
        "/api/canned": {
            "get": op("The shared canned replies and the user's own", obj(replies={"type": "array", "items": ref("CannedReply")}),
                      params=[{**query("language", "only this language"), "schema": {"type": "string", "enum": ["zh", "en"]}}],
                      errors=(400, 401), tag="canned"),
            "post": created,
        },
        "/api/canned/{reply_id}": {
            "put": op("Change a canned reply (yours; shared ones: admins)", obj(reply=ref("CannedReply")),
                      params=[reply_id], request=obj(**fields), errors=(400, 401, 403, 404, 409, 415), tag="canned"),
            "delete": op("Delete a canned reply (yours; shared ones: admins)", obj(ok=B), params=[reply_id],
                         errors=(401, 403, 404, 415), tag="canned"),
        },
        "/api/residents/{resident_id}": {"get": op(
            "The resident panel: channel, units, masked phones, tickets and handoffs (audited as view_resident)",
            obj(resident=ref("Resident")), params=[path_param("resident_id")], errors=(400, 401, 404), tag="handoffs")},
        "/api/residents/{resident_id}/units": {"post": op(
            "Add a unit to the resident (source staff; audited as edit_resident)",
            obj(unit=ref("ResidentUnit"), residence={"type": "array", "items": ref("ResidentUnit")}),
            params=[path_param("resident_id")],
            request=obj(unit={"description": "\"3栋2单元502\", \"3-2-502\" or {building, entrance?, room}"}),
            errors=(400, 401, 415), tag="handoffs")},
        "/api/residents/{resident_id}/units/{key}": {"delete": op(
            "Remove a unit of the resident, whatever its source (a ticket's unit stops counting for notices)",
            obj(residence={"type": "array", "items": ref("ResidentUnit")}),
            params=[path_param("resident_id"), path_param("key")], errors=(400, 401, 404, 415), tag="handoffs")},
        "/api/tickets/export": {"get": exported},
    }
    schemas = {
        "StaffMember": obj(username=S, display_name=S, role={"type": "string", "enum": ["agent", "editor", "admin"]}),
        "CannedReply": obj(id=I, language=S, title=S, text=S, shortcut={"type": "string", "nullable": True},
                           shared=B, owner={"type": "string", "nullable": True}, created_by=S, created_at=S,
                           updated_at=S, editable=B),
        "Resident": obj(id=S, channel=S, platform_id=S, language=S, units={"type": "array", "items": S},
                        phones={"type": "array", "items": S, "description": "masked"},
                        tickets={"type": "array", "items": obj(number=S, type=S, status=S, category=S, urgency=S,
                                                               unit=S, location=S, summary=S, assignee=S,
                                                               created_at=S, updated_at=S, labels={"type": "object"})},
                        tickets_total=I, open_tickets=I,
                        handoffs={"type": "array", "items": obj(id=I, status=S, reason=S, priority=S, language=S,
                                                                agent=S, agent_name=S, created_at=S, taken_at=S,
                                                                closed_at=S, resident_messages=I, callback_ticket=S)},
                        handoffs_total=I, residence={"type": "array", "items": ref("ResidentUnit")},
                        notices_subscribed={"type": "boolean", "description": "false: opted out of non-urgent notices"}),
        "ResidentUnit": obj(key={"type": "string", "description": "e.g. 3-2-502"}, building=S,
                            entrance={"type": "string", "nullable": True}, room=S, unit=S, unit_en=S,
                            source={"type": "string", "enum": ["stated", "staff", "ticket"]},
                            ticket={"type": "string", "nullable": True}, created_by={"type": "string", "nullable": True},
                            at={"type": "number", "description": "epoch seconds"}),
    }
    return paths, schemas
