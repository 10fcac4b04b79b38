"""``GET /health`` (liveness) and ``GET /ready`` (readiness) of the Linli server and its model.

``/health`` says the process answers and the model is loaded; ``/ready`` also checks that
the database (``DATABASE_URL``) answers, so a load balancer or ``systemctl start`` waits
until the replica can really serve (deploy/systemd). Both answer 503 with what is missing.
The action server has the same ``/ready`` (:func:`install_action_server_readiness`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List, Optional, Sequence

from sanic import Blueprint, Sanic, response
from sanic.request import Request

logger = logging.getLogger(__name__)

blueprint = Blueprint("linli_health")

#: Seconds the database may take to answer ``SELECT 1`` before the replica counts as not ready.
DATABASE_TIMEOUT = 3.0


@blueprint.get("/health")
async def health(request: Request) -> response.HTTPResponse:
    """200 once the Rasa model is loaded, 503 before."""
    agent = getattr(request.app.ctx, "agent", None)
    ready = bool(agent and agent.is_ready())
    return response.json({"status": "ok" if ready else "loading", "model_ready": ready}, status=200 if ready else 503)


def _select_one() -> None:
    from sqlalchemy import text

    from bot.db import get_engine

    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


async def database_reachable(timeout: float = DATABASE_TIMEOUT) -> bool:
    """True when ``DATABASE_URL`` answers ``SELECT 1`` within ``timeout`` seconds."""
    try:
        await asyncio.wait_for(asyncio.to_thread(_select_one), timeout)
        return True
    except Exception as exc:  # unreachable, wrong password, timeout: not ready, and say why in the log
        logger.warning("Readiness: the database did not answer (%s: %s); check DATABASE_URL",
                       type(exc).__name__, exc)
        return False


def readiness(checks: Dict[str, bool], hints: Dict[str, str],
              details: Optional[Dict[str, Any]] = None) -> response.HTTPResponse:
    """200 ``{"status": "ready"}`` when every check passed, else 503 listing what is missing and what to do."""
    missing: List[str] = [name for name, ok in checks.items() if not ok]
    body: Dict[str, Any] = {"status": "ready" if not missing else "not ready", "checks": checks, **(details or {})}
    if missing:
        body["missing"] = missing
        body["hints"] = {name: hints[name] for name in missing if name in hints}
    return response.json(body, status=503 if missing else 200, headers={"Cache-Control": "no-store"})


SERVER_HINTS = {
    "model": "the Rasa model is not loaded yet (or failed to load: see the server log; `make train`)",
    "database": "DATABASE_URL does not answer: is PostgreSQL running and the URL right?",
}
ACTION_HINTS = {
    "actions": "no custom actions are registered: check --actions (the `actions` package) and the log",
    "knowledge": "the knowledge base is still loading (KNOWLEDGE_WARM_UP); it answers at full speed once done",
    "database": SERVER_HINTS["database"],
}


@blueprint.get("/ready")
async def ready(request: Request) -> response.HTTPResponse:
    """200 when the model is loaded and the database answers; 503 with ``missing`` otherwise."""
    agent = getattr(request.app.ctx, "agent", None)
    checks = {"model": bool(agent and agent.is_ready()), "database": await database_reachable()}
    return readiness(checks, SERVER_HINTS)


def install_action_server_readiness(app: Sanic, actions: Callable[[], Sequence[str]]) -> None:
    """``GET /ready`` on the action server: ``actions()`` is not empty, the database answers and the
    knowledge base's start-up load (:mod:`knowledge.warmup`) is over. A failed load does not keep the
    replica out (tickets and handoffs still work; questions retry the load): ``knowledge_warm_up``
    in the answer says what happened."""

    @app.get("/ready", name="linli_ready")
    async def _ready(_: Request) -> response.HTTPResponse:
        from knowledge import warmup

        warm = warmup.state()
        checks = {"actions": bool(actions()), "database": await database_reachable(),
                  "knowledge": warm.status != "loading"}
        return readiness(checks, ACTION_HINTS, {"knowledge_warm_up": {
            "status": warm.status, "mode": warm.mode, "seconds": warm.seconds, "error": warm.error}})
