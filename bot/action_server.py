"""The action server (rasa-sdk) with a shared secret and the configured bind address.

``python -m rasa_sdk`` listens on 0.0.0.0 and runs any action for anyone who can
reach it (e.g. ``action_check_ticket`` with a victim's sender id). This entry
point builds the same app with rasa-sdk's public ``create_app`` and:

- binds to ``--interface`` (``LINLI_HOST``, default 127.0.0.1);
- refuses every call except ``GET /health``, ``/ready`` and ``/metrics`` (which checks
  its own access, :mod:`bot.web.metrics`) without ``Authorization: Bearer
  <ACTION_SERVER_TOKEN>`` (401; compared in constant time). Rasa sends it from
  ``endpoints.yml`` (``action_endpoint.headers``). An empty token refuses
  everything: the server logs why;
- answers errors without echoing the request (rasa-sdk's default handler returns
  the whole tracker in its 500 response);
- adds ``POST /kb/hit-test`` (:mod:`bot.web.hit_test`): the desk's hit testing runs on the
  process and knowledge-base version that answer residents.

Usage: ``python -m bot.action_server --actions actions [--interface 127.0.0.1] [--port 5055]``
"""

from __future__ import annotations

import argparse
import logging
from typing import List, Optional, Tuple

from sanic import Sanic, response
from sanic.request import Request

from bot.logs import install_log_format
from bot.settings import Knowledge, Settings, exit_on_refusal, install_log_redaction, redact
from bot.settings import settings as all_settings
from bot.web.health import install_action_server_readiness
from bot.web.hit_test import install_hit_test
from bot.web.metrics import install_action_server_metrics
from bot.web.http import bearer_token, error, secret_matches

logger = logging.getLogger(__name__)

#: Open without the action token: liveness, readiness, and metrics (which check their own access).
OPEN_PATHS = ("/health", "/ready", "/metrics")


def create_action_app(actions: str = "actions", token: Optional[str] = None, max_body: int = 4 * 1024 * 1024) -> Sanic:
    """rasa-sdk's app behind the shared secret."""
    from rasa_sdk.endpoint import create_app

    token = (Settings.from_env().action_token if token is None else token).strip()
    if not token:
        logger.error("ACTION_SERVER_TOKEN is empty: the action server refuses every call")
    app = create_app(actions, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = max_body
    names = _registered_actions(actions)

    @app.middleware("request")
    async def _require_token(request: Request):  # type: ignore[no-untyped-def]
        if request.path in OPEN_PATHS and request.method == "GET":
            return None
        if not secret_matches(bearer_token(request), token):
            return error(401, "unauthorised", "Missing or wrong action server token.")
        return None

    @app.middleware("response")
    async def _no_cors(request: Request, resp):  # type: ignore[no-untyped-def]
        for header in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"):
            if resp is not None and header in resp.headers:
                del resp.headers[header]
        return resp

    @app.exception(Exception)
    async def _error(request: Request, exception: Exception):  # type: ignore[no-untyped-def]
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error("Action server error on %s: %s", request.path, redact(exception), exc_info=exception)
        return response.json({"error": "action server error" if status >= 500 else redact(exception)},
                             status=status)

    # After the token check, so that only authorised calls are timed (bot.web.metrics).
    install_action_server_readiness(app, lambda: names)
    install_action_server_metrics(app, lambda: names)
    install_hit_test(app)  # POST /kb/hit-test: the desk's hit testing, behind the token like every action call
    return app


def _registered_actions(actions: str) -> Tuple[str, ...]:
    """The custom actions rasa-sdk registers from the ``actions`` package (its public executor)."""
    from rasa_sdk.executor import ActionExecutor

    executor_log = logging.getLogger("rasa_sdk.executor")
    level = executor_log.level
    executor_log.setLevel(logging.WARNING)  # create_app has just logged every registration once
    try:
        executor = ActionExecutor()
        executor.register_package(actions)
    finally:
        executor_log.setLevel(level)
    return tuple(sorted(executor.actions))


def main(argv: Optional[List[str]] = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Run Linli's action server (rasa-sdk) behind a shared secret.")
    parser.add_argument("--actions", default="actions")
    network = all_settings().network  # every setting parsed and checked: a bad one refuses to start
    parser.add_argument("--interface", default=network.host)
    parser.add_argument("--port", type=int, default=network.action_port)
    args = parser.parse_args(argv)

    from rasa_sdk import utils

    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    install_log_redaction()
    install_log_format()  # LINLI_LOG_FORMAT=json|text (bot.logs)
    from bot.schema import ensure_current

    ensure_current()  # an empty database is created; an out-of-date one refuses to start (make migrate)
    app = create_action_app(args.actions)
    from knowledge import warmup

    # The knowledge base loads now, not on the first resident's question; /ready waits for it.
    warmup.start(Knowledge.read("warm_up"))
    logger.info("Action server on http://%s:%s", args.interface, args.port)
    app.run(args.interface, args.port, workers=1, access_log=False)


def run(argv: Optional[List[str]] = None) -> None:
    """``main``; a refusal goes to stderr with exit status 2 (:func:`bot.settings.exit_on_refusal`)."""
    exit_on_refusal(main, argv)


if __name__ == "__main__":
    run()
