"""``GET /health``: liveness of the Linli server and its model."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

blueprint = Blueprint("linli_health")


@blueprint.get("/health")
async def health(request: Request) -> response.HTTPResponse:
    """200 once the Rasa model is loaded, 503 before."""
    agent = getattr(request.app.ctx, "agent", None)
    ready = bool(agent and agent.is_ready())
    return response.json({"status": "ok" if ready else "loading", "model_ready": ready}, status=200 if ready else 503)
