"""The incidents page's JSON API (docs/api.md, "Incidents and early warning").

- ``/api/incidents``: list (``?status=active|resolved|all``), declare; ``/api/incidents/<id>``: one
  incident with its linked residents, edit (an active one), delete (declared by mistake);
  ``/api/incidents/<id>/resolve``: resolve with a note — every linked resident is told, through
  the outbox, on their channel and in their language.
- ``/api/incidents/alerts``: early-warning alerts (``?status=open`` by default); dismiss one, or
  declare the incident it proposes (kind and building pre-filled, the body overrides them).
- ``/api/stats/rising``: today's repair categories and buildings against the previous days' mean.

Every member of staff reads; declaring, editing, resolving and handling alerts needs the editor
or admin role. Bad input is a 400 with a code and changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.incidents.alerts import AlertNotFound, alert_status_filter
from bot.incidents.models import ALERT_STATUSES, KIND_CATEGORIES, KINDS, LINK_TYPES, STATUSES
from bot.incidents.notify import notify_resolved
from bot.incidents.rising import rising
from bot.incidents.service import stores
from bot.incidents.store import IncidentError, IncidentNotFound, status_filter
from bot.settings import Community
from bot.web.api import authenticated, int_arg, user_of, valid_id
from bot.web.http import error
from bot.web.openapi import B, I, N, S, describe, obj, op, path_param, query, ref

blueprint = Blueprint("linli_incidents_api", url_prefix="/api")

EDITORS = ("editor",)


def _actor(request: Request) -> str:
    return f"staff:{user_of(request).username}"


def _json_body(request: Request) -> Union[Dict[str, Any], HTTPResponse]:
    """The JSON object body (empty when there is none); a 400 for anything else."""
    if not request.body:
        return {}
    try:
        data = request.json
    except Exception:
        return error(400, "bad_json", "The body must be a JSON object.")
    if not isinstance(data, dict):
        return error(400, "bad_json", "The body must be a JSON object.")
    return data


def _refused(exc: IncidentError) -> HTTPResponse:
    return error(exc.status, exc.code, str(exc))


def _missing(what: str, ident: Any) -> HTTPResponse:
    return error(404, "not_found", f"No {what} {ident}.")


# ---------------------------------------------------------------- incidents
@blueprint.get("/incidents")
@authenticated()
async def list_incidents(request: Request) -> HTTPResponse:
    """Incidents, active first: ``?status=active|resolved|all`` (default all), ``limit``, ``offset``."""
    try:
        status = status_filter(request.args.get("status"))
        limit, offset = int_arg(request, "limit", 50, 1, 500), int_arg(request, "offset", 0, 0, 10**6)
    except IncidentError as exc:
        return _refused(exc)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    incidents, _alerts = await asyncio.to_thread(stores)
    found = await asyncio.to_thread(incidents.list, status, limit, offset)
    total = await asyncio.to_thread(incidents.count, status)
    return response.json({"incidents": [i.as_dict() for i in found], "total": total, "limit": limit,
                          "offset": offset, "kinds": {k: list(v) for k, v in KIND_CATEGORIES.items()}})


@blueprint.post("/incidents")
@authenticated(roles=EDITORS)
async def declare_incident(request: Request) -> HTTPResponse:
    """Declare an incident (editor or admin)."""
    data = _json_body(request)
    if isinstance(data, HTTPResponse):
        return data
    incidents, _alerts = await asyncio.to_thread(stores)
    try:
        incident = await asyncio.to_thread(incidents.declare, data, _actor(request))
    except IncidentError as exc:
        return _refused(exc)
    return response.json({"incident": incident.as_dict()}, status=201)


@blueprint.get("/incidents/<incident_id:int>")
@authenticated()
async def get_incident(request: Request, incident_id: int) -> HTTPResponse:
    """One incident and the residents linked to it."""
    if not valid_id(incident_id):
        return _missing("incident", incident_id)
    incidents, _alerts = await asyncio.to_thread(stores)
    try:
        incident = await asyncio.to_thread(incidents.get, incident_id)
    except IncidentNotFound:
        return _missing("incident", incident_id)
    links = await asyncio.to_thread(incidents.links, incident_id)
    return response.json({"incident": incident.as_dict(), "links": [link.as_dict() for link in links]})


@blueprint.put("/incidents/<incident_id:int>")
@authenticated(roles=EDITORS)
async def edit_incident(request: Request, incident_id: int) -> HTTPResponse:
    """Change an active incident: the fields given replace theirs (a later expected end, a building)."""
    data = _json_body(request)
    if isinstance(data, HTTPResponse):
        return data
    if not valid_id(incident_id):
        return _missing("incident", incident_id)
    incidents, _alerts = await asyncio.to_thread(stores)
    try:
        incident = await asyncio.to_thread(incidents.edit, incident_id, data, _actor(request))
    except IncidentNotFound:
        return _missing("incident", incident_id)
    except IncidentError as exc:
        return _refused(exc)
    return response.json({"incident": incident.as_dict()})


@blueprint.delete("/incidents/<incident_id:int>")
@authenticated(roles=EDITORS)
async def delete_incident(request: Request, incident_id: int) -> HTTPResponse:
    """Remove an incident declared by mistake (nobody is told)."""
    if not valid_id(incident_id):
        return _missing("incident", incident_id)
    incidents, _alerts = await asyncio.to_thread(stores)
    try:
        await asyncio.to_thread(incidents.delete, incident_id)
    except IncidentNotFound:
        return _missing("incident", incident_id)
    return response.json({"ok": True})


@blueprint.post("/incidents/<incident_id:int>/resolve")
@authenticated(roles=EDITORS)
async def resolve_incident(request: Request, incident_id: int) -> HTTPResponse:
    """Resolve with ``note``; everyone linked is queued their message (``notified``: how many)."""
    data = _json_body(request)
    if isinstance(data, HTTPResponse):
        return data
    unknown = sorted(set(data) - {"note"})
    if unknown:
        return error(400, "unknown_field", f"Unknown field(s): {', '.join(unknown)}; send only note.")
    if not valid_id(incident_id):
        return _missing("incident", incident_id)
    incidents, _alerts = await asyncio.to_thread(stores)
    try:
        incident = await asyncio.to_thread(incidents.resolve, incident_id, _actor(request), data.get("note"))
    except IncidentNotFound:
        return _missing("incident", incident_id)
    except IncidentError as exc:
        return _refused(exc)
    notified = await notify_resolved(incidents, incident_id)
    return response.json({"incident": (await asyncio.to_thread(incidents.get, incident_id)).as_dict(),
                          "notified": notified, "resolved_at": incident.resolved_at.isoformat()})


# ---------------------------------------------------------------- early-warning alerts
@blueprint.get("/incidents/alerts")
@authenticated()
async def list_alerts(request: Request) -> HTTPResponse:
    """Early-warning alerts, newest first: ``?status=open`` (default), dismissed, declared or all."""
    try:
        status = alert_status_filter(request.args.get("status"))
        limit = int_arg(request, "limit", 50, 1, 500)
    except IncidentError as exc:
        return _refused(exc)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    _incidents, alerts = await asyncio.to_thread(stores)
    found = await asyncio.to_thread(alerts.list, status, limit)
    from bot.settings import Incidents

    settings = Incidents.from_env()
    return response.json({"alerts": [a.as_dict() for a in found], "cluster_size": settings.cluster_size,
                          "cluster_hours": settings.cluster_hours})


async def _alert_action(request: Request, alert_id: int, declare: bool) -> HTTPResponse:
    data = _json_body(request)
    if isinstance(data, HTTPResponse):
        return data
    if not valid_id(alert_id):
        return _missing("alert", alert_id)
    if not declare and data:
        return error(400, "unknown_field", "Dismissing takes no fields.")
    _incidents, alerts = await asyncio.to_thread(stores)
    try:
        if declare:
            incident, alert = await asyncio.to_thread(alerts.declare, alert_id, data, _actor(request))
            return response.json({"incident": incident.as_dict(), "alert": alert.as_dict()}, status=201)
        alert = await asyncio.to_thread(alerts.dismiss, alert_id, _actor(request))
    except AlertNotFound:
        return _missing("alert", alert_id)
    except IncidentError as exc:
        return _refused(exc)
    return response.json({"alert": alert.as_dict()})


@blueprint.post("/incidents/alerts/<alert_id:int>/dismiss")
@authenticated(roles=EDITORS)
async def dismiss_alert(request: Request, alert_id: int) -> HTTPResponse:
    """Dismiss an open alert (a coincidence)."""
    return await _alert_action(request, alert_id, declare=False)


@blueprint.post("/incidents/alerts/<alert_id:int>/declare")
@authenticated(roles=EDITORS)
async def declare_from_alert(request: Request, alert_id: int) -> HTTPResponse:
    """Declare the incident an open alert proposes; the cluster's reporters are linked to it."""
    return await _alert_action(request, alert_id, declare=True)


# ---------------------------------------------------------------- daily summary
@blueprint.get("/stats/rising")
@authenticated()
async def rising_stats(request: Request) -> HTTPResponse:
    """Today's repair tickets per category and building against the mean of the previous ``days`` (1–60, 7)."""
    try:
        days = int_arg(request, "days", 7, 1, 60)
    except ValueError as exc:
        return error(400, "bad_parameter", f"{exc}, e.g. ?days=7.")
    incidents, _alerts = await asyncio.to_thread(stores)
    return response.json(await asyncio.to_thread(rising, incidents.engine, Community.read("timezone"), days))


# ---------------------------------------------------------------- OpenAPI
@describe
def _openapi() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    tag = "incidents"
    editor = (401, 403)
    nullable_time = {"type": "string", "nullable": True, "description": "ISO time"}
    declaration = obj(
        kind={"type": "string", "enum": list(KINDS)}, title_zh=S, title_en=S, description_zh=S, description_en=S,
        community_wide=B, buildings={"type": "array", "items": S, "description": 'e.g. ["3", "5"]'},
        starts_at={**S, "description": "ISO time; default now (no offset: LINLI_TIMEZONE)"},
        expected_end_at=nullable_time)
    incident = obj(incident=ref("Incident"))
    iid, aid = path_param("incident_id", "integer"), path_param("alert_id", "integer")
    paths = {
        "/api/incidents": {
            "get": op("Incidents, active first", obj(incidents={"type": "array", "items": ref("Incident")}, total=I,
                                                     limit=I, offset=I, kinds={"type": "object"}),
                      params=[query("status", f"{', '.join(STATUSES)} or all (default)"),
                              query("limit", "1-500, default 50", "integer"), query("offset", "skip", "integer")],
                      errors=(400, 401), tag=tag),
            "post": op("Declare an incident (editor or admin); 201. Codes: bad_kind, title_required, "
                       "buildings_required, bad_buildings, bad_time, end_before_start, too_long, unknown_field",
                       incident, request=declaration, errors=(400, *editor, 415), tag=tag),
        },
        "/api/incidents/{incident_id}": {
            "get": op("An incident and the residents linked to it", obj(incident=ref("Incident"), links={
                "type": "array", "items": obj(id=I, link_type={"type": "string", "enum": list(LINK_TYPES)},
                                              resident=S, channel=S, language=S, ticket_number=S, created_at=S)}),
                      params=[iid], errors=(401, 404), tag=tag),
            "put": op("Edit an active incident (the fields given); 409 once resolved", incident, params=[iid],
                      request=declaration, errors=(400, *editor, 404, 409, 415), tag=tag),
            "delete": op("Delete an incident declared by mistake (nobody is told)", obj(ok=B), params=[iid],
                         errors=(*editor, 404, 415), tag=tag),
        },
        "/api/incidents/{incident_id}/resolve": {"post": op(
            "Resolve with a note: every linked resident (asked or reported) is told on their channel, in their "
            "language, through the outbox; 409 already_resolved",
            obj(incident=ref("Incident"), notified={**I, "description": "conversations queued a message"},
                resolved_at=S),
            params=[iid], request=obj(note=S), errors=(400, *editor, 404, 409, 415), tag=tag)},
        "/api/incidents/alerts": {"get": op(
            "Early-warning alerts (clusters of repair tickets), newest first",
            obj(alerts={"type": "array", "items": ref("IncidentAlert")}, cluster_size=I, cluster_hours=N),
            params=[query("status", f"{', '.join(ALERT_STATUSES)} or all; default open"),
                    query("limit", "1-500, default 50", "integer")], errors=(400, 401), tag=tag)},
        "/api/incidents/alerts/{alert_id}/dismiss": {"post": op(
            "Dismiss an open alert; 409 alert_closed", obj(alert=ref("IncidentAlert")), params=[aid],
            errors=(400, *editor, 404, 409, 415), tag=tag)},
        "/api/incidents/alerts/{alert_id}/declare": {"post": op(
            "Declare the incident an open alert proposes (201); the body's fields replace the proposal's; the "
            "cluster's reporters are linked", obj(incident=ref("Incident"), alert=ref("IncidentAlert")),
            params=[aid], request=declaration, errors=(400, *editor, 404, 409, 415), tag=tag)},
        "/api/stats/rising": {"get": op(
            "Today's repair tickets per category and per building against the mean of the previous days",
            obj(day=S, timezone=S, baseline_days=I, min_today=I, factor=N,
                categories={"type": "array", "items": ref("RisingRow")},
                buildings={"type": "array", "items": ref("RisingRow")},
                rising=obj(categories={"type": "array", "items": ref("RisingRow")},
                           buildings={"type": "array", "items": ref("RisingRow")})),
            params=[query("days", "baseline days, 1-60 (default 7)", "integer")], errors=(400, 401),
            tag="dashboards")},
    }
    schemas = {
        "Incident": obj(id=I, kind={"type": "string", "enum": list(KINDS)},
                        status={"type": "string", "enum": list(STATUSES)}, title_zh=S, title_en=S,
                        description_zh=S, description_en=S, community_wide=B,
                        buildings={"type": "array", "items": S}, categories={"type": "array", "items": S},
                        starts_at=S, expected_end_at=nullable_time, resolved_at=nullable_time, resolution_note=S,
                        created_by=S, resolved_by=S, alert_id={"type": "integer", "nullable": True}, notified=B,
                        created_at=S, updated_at=S, links=obj(asked=I, reported=I)),
        "IncidentAlert": obj(id=I, category=S, building=S, status={"type": "string", "enum": list(ALERT_STATUSES)},
                             ticket_count=I, ticket_numbers={"type": "array", "items": S}, first_ticket_at=S,
                             last_ticket_at=S, created_at=S, handled_by=S, handled_at=nullable_time,
                             incident_id={"type": "integer", "nullable": True},
                             proposal={"type": "object", "description": "pre-filled declaration"}),
        "RisingRow": {"type": "object", "description": "category or building, with its counts",
                      "properties": {"category": S, "building": S, "today": I, "average": N,
                                     "ratio": {"type": "number", "nullable": True}, "rising": B}},
    }
    return paths, schemas



