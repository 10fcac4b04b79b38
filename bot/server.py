"""Linli's server process: the Rasa server plus Linli's own web routes.

``rasa run`` cannot mount routes outside ``/webhooks/``, so this module builds
the same Sanic application Rasa builds (REST API, input channels from
``credentials.yml``, tracker store and action endpoint from ``endpoints.yml``)
and adds the blueprints from :mod:`bot.web` (chat widget, staff desk) to it.

Usage: ``python -m bot.server --model models/rasa/current.tar.gz [--port 5005]``
"""

from __future__ import annotations

import argparse
import logging
import os
from functools import partial
from typing import List, Optional

from sanic import Sanic

logger = logging.getLogger(__name__)


def build_app(
    model: str,
    endpoints_path: str = "endpoints.yml",
    credentials_path: str = "credentials.yml",
    cors: Optional[str] = "*",
    port: int = 5005,
    enable_api: bool = True,
    auth_token: Optional[str] = None,
) -> Sanic:
    """The Rasa server app with Linli's routes; the model loads when it starts."""
    from rasa.core.run import close_resources, configure_app, create_http_input_channels, load_agent_on_start
    from rasa.core.utils import AvailableEndpoints

    from bot.web import blueprints

    endpoints = AvailableEndpoints.read_endpoints(endpoints_path)
    channels = create_http_input_channels(None, credentials_path)
    app = configure_app(
        channels, cors=cors, auth_token=auth_token, enable_api=enable_api, port=port, endpoints=endpoints
    )
    for blueprint in blueprints():
        app.blueprint(blueprint)
    app.ctx.endpoints = endpoints
    app.register_listener(partial(load_agent_on_start, model, endpoints, None), "before_server_start")
    app.register_listener(close_resources, "after_server_stop")
    return app


def main(argv: Optional[List[str]] = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Run the Linli server (Rasa + web routes).")
    parser.add_argument("--model", default=os.environ.get("LINLI_MODEL", "models/rasa/current.tar.gz"))
    parser.add_argument("--interface", default=os.environ.get("LINLI_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default=os.environ.get("LINLI_CREDENTIALS", "credentials.yml"))
    parser.add_argument("--cors", default=os.environ.get("LINLI_CORS", "*"))
    parser.add_argument("--auth-token", default=os.environ.get("RASA_AUTH_TOKEN") or None,
                        help="token required by Rasa's HTTP API (?token=...)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)

    import rasa.utils.common
    from rasa.utils.log_utils import configure_structlog

    level = logging.DEBUG if args.debug else logging.INFO
    rasa.utils.common.configure_logging_and_warnings(level)
    configure_structlog(level)
    if not os.path.exists(args.model):
        raise SystemExit(f"No trained model at {args.model}: run `make train` (or `make run`, which trains).")
    app = build_app(args.model, args.endpoints, args.credentials, args.cors, args.port, auth_token=args.auth_token)
    logger.info("Starting Linli on http://%s:%s", args.interface, args.port)
    # One worker: the tracker lock store is in memory unless a Redis lock store is configured.
    app.run(host=args.interface, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
