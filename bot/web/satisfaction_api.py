"""The satisfaction dashboard's route: ``GET /api/stats/satisfaction?days=30`` (any member of staff).

Ratings answered on the last ``days`` local days (``LINLI_TIMEZONE``): count, average,
distribution, per day, by subject (tickets, handoffs) and the latest with their comments
(phone numbers masked, as in every list). A ticket's own rating is in its JSON
(``GET /api/tickets/<number>``: ``rating``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.privacy import mask_phones
from bot.satisfaction.asking import satisfaction_store
from bot.settings import Community
from bot.web.api import authenticated, int_arg
from bot.web.http import error
from bot.web.openapi import I, S, describe, obj, op, query

blueprint = Blueprint("linli_satisfaction_api", url_prefix="/api")


@blueprint.get("/stats/satisfaction")
@authenticated()
async def satisfaction(request: Request) -> HTTPResponse:
    """Satisfaction statistics over ``?days=`` (1–366, default 30)."""
    try:
        days = int_arg(request, "days", 30, 1, 366)
    except ValueError as exc:
        return error(400, "bad_parameter", f"{exc}, e.g. ?days=30.")
    data = await asyncio.to_thread(satisfaction_store().stats, days, Community.read("timezone"))
    for row in data["recent"]:
        row["comment"] = mask_phones(row["comment"])
    return response.json(data)


@describe
def _openapi() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    average = {"type": "number", "nullable": True, "description": "null without ratings"}
    distribution = {"type": "object", "description": '{"1": n, ..., "5": n}', "additionalProperties": I}
    summary = obj(count=I, average=average, distribution=distribution)
    paths = {"/api/stats/satisfaction": {"get": op(
        "Residents' satisfaction ratings (1–5) answered on the last `days` local days: count, average, "
        "distribution, per day, by subject and the latest with comments",
        obj(days=I, timezone=S, asked={**I, "description": "rating requests sent in the period"},
            count=I, average=average, distribution=distribution,
            per_day={"type": "array", "items": obj(day=S, count=I, average=average)},
            by_subject=obj(ticket=summary, handoff=summary),
            recent={"type": "array", "items": obj(
                rating=I, comment={"type": "string", "nullable": True},
                subject_type={"type": "string", "enum": ["ticket", "handoff"]},
                subject_id={**S, "description": "ticket number or handoff id"}, at=S, language=S)}),
        params=[query("days", "how many days, 1-366 (default 30)", "integer")], errors=(400, 401),
        tag="dashboards")}}
    return paths, {}
