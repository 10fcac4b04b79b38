"""Linli's server process: the Rasa server plus Linli's own web routes.

``rasa run`` cannot mount routes outside ``/webhooks/``, so this module builds
the same Sanic application Rasa builds (input channels from ``credentials.yml``,
tracker store and action endpoint from ``endpoints.yml``, and Rasa's HTTP API
only when enabled) and adds the blueprints from :mod:`bot.web` (chat widget,
staff desk) to it.

Closed by default (README "Security", :mod:`bot.settings`): Rasa's HTTP API is off
unless ``LINLI_ENABLE_API=true``, which needs ``RASA_AUTH_TOKEN`` or the server
refuses to start; no cross-origin access unless ``LINLI_CORS_ORIGINS`` lists the
site (never with credentials); forwarded headers are trusted only from the
configured proxy; request bodies are limited; secrets are redacted from logs.

Usage: ``python -m bot.server --model models/rasa/current.tar.gz [--port 5005]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from functools import partial
from typing import Any, Awaitable, Callable, List, Optional, Tuple

from sanic import Sanic, response
from sanic.request import Request

from bot.logs import install_log_format
from bot.settings import ConfigurationError, Settings, exit_on_refusal, install_log_redaction
from bot.settings import settings as all_settings

logger = logging.getLogger(__name__)

CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization"


def _configure_cors(app: Sanic, origins: tuple) -> None:
    """Cross-origin access for the listed origins only, without credentials.

    Rasa's own CORS support allows credentials for every allowed origin; Linli
    passes it no origin at all and answers the allow-list itself.
    """
    allowed = set(origins)

    @app.middleware("request")
    async def _preflight(request: Request) -> Any:
        origin = request.headers.get("origin")
        if request.method == "OPTIONS" and origin and request.headers.get("access-control-request-method"):
            if origin.rstrip("/") not in allowed:
                return response.empty(status=403)
            return response.empty(status=204, headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            })
        return None

    @app.middleware("response")
    async def _cors(request: Request, resp: Any) -> Any:
        if resp is None:
            return None
        # Rasa gets no CORS configuration (cors=None), so only this allow-list (and the widget
        # script's own "*", bot/web/chat.py) ever sets the header; credentials are never allowed.
        origin = request.headers.get("origin")
        if origin and origin.rstrip("/") in allowed:
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Vary"] = "Origin"
        return resp


def _security_headers(app: Sanic) -> None:
    @app.middleware("response")
    async def _headers(request: Request, resp: Any) -> Any:
        if resp is None:
            return None
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp


def build_app(
    model: str,
    endpoints_path: str = "endpoints.yml",
    credentials_path: str = "credentials.yml",
    cors: Optional[str] = None,
    port: int = 5005,
    enable_api: Optional[bool] = None,
    auth_token: Optional[str] = None,
    settings: Optional[Settings] = None,
) -> Sanic:
    """The Rasa server app with Linli's routes; the model loads when it starts.

    ``enable_api``/``auth_token``/``cors`` override :class:`~bot.settings.Settings`;
    an enabled API without a token raises :class:`~bot.settings.ConfigurationError`.
    """
    from rasa.core.run import close_resources, configure_app, create_http_input_channels, load_agent_on_start
    from rasa.core.utils import AvailableEndpoints

    from bot.web import blueprints

    settings = settings or Settings.from_env()
    api = settings.enable_api if enable_api is None else enable_api
    token = auth_token or settings.auth_token
    if api and not (token or settings.jwt_secret):
        raise ConfigurationError("the Rasa HTTP API is enabled without RASA_AUTH_TOKEN")
    origins = settings.cors_origins
    if cors:
        origins = tuple(o.strip().rstrip("/") for o in cors.split(",") if o.strip() and o.strip() != "*")

    if not settings.action_token:
        # endpoints.yml sends it and the action server refuses every call without it.
        raise ConfigurationError("ACTION_SERVER_TOKEN is empty: set a shared secret for the action server "
                                 "(make run generates one)")
    endpoints = AvailableEndpoints.read_endpoints(endpoints_path)
    channels = create_http_input_channels(None, credentials_path)
    app = configure_app(
        channels,
        cors=None,
        auth_token=token if api else None,
        enable_api=api,
        jwt_secret=settings.jwt_secret if api else None,
        jwt_method="HS256",
        port=port,
        endpoints=endpoints,
    )
    settings.configure_sanic(app)
    _configure_cors(app, origins)
    _security_headers(app)
    for blueprint in blueprints():
        app.blueprint(blueprint)
    app.ctx.endpoints = endpoints
    app.ctx.linli_security = settings
    app.register_listener(_migrate, "before_server_start")
    app.register_listener(partial(load_agent_on_start, model, endpoints, None), "before_server_start")
    app.register_listener(_start_services, "after_server_start")
    app.register_listener(_stop_services, "before_server_stop")
    app.register_listener(close_resources, "after_server_stop")
    logger.info("Rasa HTTP API %s", "enabled (token required)" if api else "disabled (LINLI_ENABLE_API=false)")
    return app


async def _migrate(app: Sanic, _loop: Any) -> None:
    """Namespace identities of rows written before namespacing (idempotent, see bot.privacy)."""
    from bot.privacy import migrate_identities

    try:
        done = await asyncio.to_thread(migrate_identities)
        if any(done.values()):
            logger.info("Identity migration: %s", done)
    except Exception:
        logger.exception("Identity migration failed; run `python -m bot.privacy migrate` by hand")


async def _start_retention(app: Sanic) -> None:
    """The scheduled retention job (LINLI_RETENTION_DAYS, every LINLI_RETENTION_INTERVAL_SECONDS)."""
    from bot.privacy import retention_loop

    settings = app.ctx.linli_security
    app.ctx.linli_retention = app.add_task(retention_loop(settings.retention_days, settings.retention_interval))


async def _nothing(app: Sanic) -> None:
    return None


async def _register_senders(app: Sanic) -> None:
    """Proactive senders of the channels that need the app (WeChat's and Telegram's register themselves)."""
    from bot.channels.webchat import register_socketio_sender

    if register_socketio_sender(app) is None:
        logger.info("No socketio channel in credentials.yml: the web widget cannot receive proactive messages")


async def _start_stores(app: Sanic) -> None:
    """The stores the desk API and the background jobs share (``app.ctx``)."""
    from bot.handoff.settings import HandoffSettings
    from bot.handoff.store import HandoffStore
    from bot.notifications import register_notifications
    from bot.staff.store import StaffStore
    from bot.staff.throttle import LoginThrottle
    from bot.tickets import TicketStore

    app.ctx.linli_settings = HandoffSettings.from_env()
    app.ctx.staff_store = StaffStore.from_env()
    app.ctx.login_throttle = LoginThrottle()
    app.ctx.handoff_store = HandoffStore.from_env()
    app.ctx.ticket_store = TicketStore.from_env()
    register_notifications(app.ctx.ticket_store)  # a desk status change reaches the resident at once


def _agent(app: Sanic) -> Any:
    """The loaded Rasa agent, or None while the model loads (Rasa may also load a new one)."""
    return getattr(app.ctx, "agent", None)


async def _start_consumers(app: Sanic) -> None:
    """Consume Rasa's event broker: resident messages to the desk, metrics (bot.broker)."""
    from bot.broker.consumer import consume
    from bot.handoff.relay import HandoffRelay

    handlers = [HandoffRelay(app.ctx.handoff_store, partial(_agent, app))]
    try:
        from bot.metrics import observe_event
    except ImportError:
        pass
    else:
        handlers.append(observe_event)
    agent = _agent(app)
    broker = getattr(getattr(agent, "tracker_store", None), "event_broker", None)
    app.ctx.linli_consumer = app.add_task(consume(broker, handlers))


async def _stop_task(app: Sanic, name: str) -> None:
    from bot.tasks import cancel

    await cancel(getattr(app.ctx, name, None))


async def _start_timeouts(app: Sanic) -> None:
    """Handoffs nobody takes in time offer the resident a callback (HANDOFF_TIMEOUT_SECONDS)."""
    from bot.handoff.desk import Desk, run_timeouts

    def current_desk() -> Optional[Desk]:
        agent = _agent(app)
        return Desk(agent, app.ctx.handoff_store) if agent is not None and agent.processor is not None else None

    app.ctx.linli_timeouts = app.add_task(run_timeouts(current_desk, app.ctx.linli_settings))


Step = Callable[[Sanic], Awaitable[None]]


def services() -> List[Tuple[str, Step, Step]]:
    """Everything the server process runs besides Rasa: ``(name, start, stop)``, in start order.

    Started once the model is loaded (``after_server_start``), stopped in reverse order
    before shutdown. Add a background job or shared service here, nowhere else.
    """
    from bot.handoff import hub  # imported here: the stores load only when the server starts
    from bot import notifications
    from bot.incidents import service as incidents
    from bot.outbox import service as outbox

    return [
        ("channel senders", _register_senders, _nothing),
        ("stores", _start_stores, _nothing),
        ("outbox", outbox.start, outbox.stop),  # delivers notifications, agent replies, late answers
        ("ticket notifications", notifications.start, notifications.stop),  # status change → outbox
        ("incidents", incidents.start, incidents.stop),  # early-warning clusters, resolution messages → outbox
        ("desk wake-ups", hub.start, hub.stop),  # over Redis pub/sub when REDIS_URL is set
        ("event consumers", _start_consumers, partial(_stop_task, name="linli_consumer")),
        ("handoff timeouts", _start_timeouts, partial(_stop_task, name="linli_timeouts")),
        ("retention", _start_retention, partial(_stop_task, name="linli_retention")),
    ]


async def _start_services(app: Sanic, _loop: Any) -> None:
    for name, start, _stop in services():
        logger.debug("Starting %s", name)
        await start(app)


async def _stop_services(app: Sanic, _loop: Any) -> None:
    for name, _start, stop in reversed(services()):
        try:
            await stop(app)
        except Exception:  # one failing stop must not keep the others running
            logger.exception("Stopping %s failed", name)


def main(argv: Optional[List[str]] = None) -> None:
    """Parse arguments and serve until interrupted."""
    every = all_settings()  # every setting parsed and checked: a bad one refuses to start, by name
    parser = argparse.ArgumentParser(description="Run the Linli server (Rasa + web routes).")
    parser.add_argument("--model", default=every.paths.model)
    parser.add_argument("--interface", default=every.network.host)
    parser.add_argument("--port", type=int, default=every.network.rasa_port)
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default=every.paths.credentials)
    parser.add_argument("--cors", default=None, help="comma-separated allowed origins (default LINLI_CORS_ORIGINS)")
    parser.add_argument("--auth-token", default=None,
                        help="token required by Rasa's HTTP API (?token=...); default RASA_AUTH_TOKEN")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)

    settings = every.security  # unsafe settings were refused before anything loads
    from bot.schema import ensure_current

    ensure_current()  # an empty database is created; an out-of-date one refuses to start (make migrate)

    import rasa.utils.common
    from rasa.core.utils import number_of_sanic_workers
    from rasa.utils.log_utils import configure_structlog

    level = logging.DEBUG if args.debug else logging.INFO
    rasa.utils.common.configure_logging_and_warnings(level)
    configure_structlog(level)
    if not os.path.exists(args.model):
        raise SystemExit(f"No trained model at {args.model}: run `make train` (or `make run`, which trains).")
    app = build_app(args.model, args.endpoints, args.credentials, args.cors, args.port,
                    auth_token=args.auth_token, settings=settings)
    # After the app exists: with the API on, Rasa's Sanic app reconfigures the sanic.* loggers
    # (dictConfig), which would drop a filter installed earlier; again at start for the same reason.
    install_log_redaction()
    install_log_format()  # LINLI_LOG_FORMAT=json|text (bot.logs); after the filter, same reason
    app.register_listener(lambda *_: install_log_redaction(), "before_server_start")
    app.register_listener(lambda *_: install_log_format(), "before_server_start")
    logger.info("Starting Linli on http://%s:%s", args.interface, args.port)
    # SANIC_WORKERS > 1 only with a shared lock store (Rasa's rule: deploy/endpoints.cluster.yml's
    # Redis lock store); with the embedded in-memory one, one worker.
    workers = number_of_sanic_workers(app.ctx.endpoints.lock_store)
    app.run(host=args.interface, port=args.port, workers=workers, access_log=False)


def run(argv: Optional[List[str]] = None) -> None:
    """``main``; a refusal goes to stderr with exit status 2 (:func:`bot.settings.exit_on_refusal`)."""
    exit_on_refusal(main, argv)


if __name__ == "__main__":
    run()
