"""Metrics, readiness and log format without a Rasa model: the counting functions with real
Rasa events, the database gauges on SQLite and PostgreSQL (with the real outbox table),
/ready and /metrics on a real server without a model, and JSON logs with secrets in them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from tests.ops.promtext import value
from tests.servers import PYTHON, ROOT, free_port


def sample(name: str, labels: Optional[Dict[str, str]] = None) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


# ------------------------------------------------------------------ counting
def test_user_events_are_counted_per_channel_with_confidence_and_fallbacks() -> None:
    from rasa.shared.core.events import ActionExecuted, UserUttered

    from bot import metrics

    before = (sample("linli_messages_total", {"channel": "wechat"}),
              sample("linli_nlu_fallbacks_total", {"channel": "wechat"}),
              sample("linli_nlu_confidence_count"), sample("linli_nlu_confidence_bucket", {"le": "0.3"}))
    understood = UserUttered("楼道灯坏了", intent={"name": "report_repair", "confidence": 0.93},
                             input_channel="wechat")
    misunderstood = UserUttered("嗯嗯啊", intent={"name": "nlu_fallback", "confidence": 0.22}, input_channel="wechat")
    for event in (understood, misunderstood):
        metrics.observe_user_event(event.as_dict())
    metrics.observe_user_event(ActionExecuted("action_listen").as_dict())  # not a message
    metrics.observe_user_event({"event": "user", "parse_data": None})  # malformed: counted, never raises
    after = (sample("linli_messages_total", {"channel": "wechat"}),
             sample("linli_nlu_fallbacks_total", {"channel": "wechat"}),
             sample("linli_nlu_confidence_count"), sample("linli_nlu_confidence_bucket", {"le": "0.3"}))
    assert after[0] - before[0] == 2
    assert after[1] - before[1] == 1
    assert after[2] - before[2] == 2
    assert after[3] - before[3] == 1  # 0.22 ≤ 0.3, 0.93 is not
    assert sample("linli_messages_total", {"channel": "unknown"}) >= 1


async def test_the_broker_handler_counts_user_events_only() -> None:
    from bot import metrics

    before = sample("linli_messages_total", {"channel": "telegram"})
    await metrics.observe_event({"event": "bot", "text": "hi"})
    await metrics.observe_event({"event": "user", "input_channel": "telegram", "sender_id": "telegram:1",
                                 "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}})
    assert sample("linli_messages_total", {"channel": "telegram"}) - before == 1


def test_labels_stay_few() -> None:
    from bot import metrics

    metrics.delivery_failed("wechat", "Agent Reply")
    metrics.delivery_failed("made-up-channel", "x" * 100)
    metrics.observe_turn("../../etc", 0.5)
    assert sample("linli_delivery_failures_total", {"channel": "wechat", "kind": "agent_reply"}) >= 1
    assert sample("linli_delivery_failures_total", {"channel": "other", "kind": "x" * 32}) >= 1
    assert sample("linli_turn_seconds_count", {"channel": "other"}) >= 1


# ------------------------------------------------------------------ database gauges
@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL database of its own."""
    from sqlalchemy import create_engine, text

    if request.param == "sqlite":
        db = create_engine(f"sqlite:///{tmp_path / 'ops.db'}", future=True)
        yield db
        db.dispose()
        return
    server = os.environ.get("LINLI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"linli_ops_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(server, future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable at {server}: {exc}")
    db = create_engine(server.rsplit("/", 1)[0] + f"/{name}", future=True)
    yield db
    db.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def test_database_figures(engine) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone

    from bot.handoff.store import HandoffStore
    from bot.metrics import DatabaseCollector, database_figures
    from bot.outbox.models import metadata as outbox_metadata, outbox_table
    from bot.tickets import TicketStore

    # Nothing there yet: no tables, no errors, nothing made up.
    assert database_figures(engine) == {"handoffs": {}, "oldest_queued": None, "tickets": {}, "outbox": None}

    tickets, handoffs = TicketStore(engine), HandoffStore(engine)
    first = tickets.create(ticket_type="repair", channel="wechat", sender_id="o-1", description="水管爆了")
    tickets.create(ticket_type="repair", channel="wechat", sender_id="o-2", description="电梯坏了")
    tickets.create(ticket_type="complaint", channel="rest", sender_id="r-1", description="噪音")
    tickets.change_status(first.number, "in_progress", actor="tester")
    handoffs.open("wechat:o-3", "wechat")
    taken = handoffs.open("wechat:o-4", "wechat")
    handoffs.take(taken.id, "agent", "Agent")
    handoffs.close(handoffs.open("wechat:o-5", "wechat").id, "agent")
    outbox_metadata.create_all(engine)
    now = time.time()
    with engine.begin() as connection:
        for status in ("pending", "sent", "dead", "dead", "undeliverable"):
            connection.execute(outbox_table.insert().values(
                channel="wechat", sender_id="o-1", conversation_id="wechat:o-1", kind="notification", text="t",
                status=status, attempts=1, next_attempt_at=now, created_at=now))

    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    figures = database_figures(engine, now=later)
    assert figures["handoffs"] == {"queued": 1, "active": 1}
    assert 90 <= figures["oldest_queued"] < 120  # the one still queued, seen 90 s later
    assert figures["tickets"][("repair", "open")] == 1 and figures["tickets"][("repair", "in_progress")] == 1
    assert figures["tickets"][("complaint", "open")] == 1
    assert figures["tickets"][("complaint", "closed")] == 0  # every status is reported, zero included
    assert figures["outbox"] == {"by_status": {"pending": 1, "sent": 1, "dead": 2, "undeliverable": 1}, "dead": 2}

    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(DatabaseCollector(lambda: engine))
    text = generate_latest(registry).decode()
    assert value(text, "linli_outbox_dead_letters") == 2
    assert value(text, "linli_outbox_messages", {"status": "undeliverable"}) == 1
    assert value(text, "linli_handoffs_waiting", {"status": "queued"}) == 1
    assert value(text, "linli_database_up") == 1


def test_an_unreachable_database_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from prometheus_client import CollectorRegistry, generate_latest
    from sqlalchemy import create_engine

    from bot.metrics import DatabaseCollector

    monkeypatch.setenv("LINLI_METRICS_CACHE_SECONDS", "60")
    calls = []

    def unreachable():  # type: ignore[no-untyped-def]
        calls.append(1)
        return create_engine("postgresql://postgres@127.0.0.1:1/nowhere", future=True)

    registry = CollectorRegistry()
    registry.register(DatabaseCollector(unreachable))
    for _ in range(3):
        text = generate_latest(registry).decode()
    assert value(text, "linli_database_up") == 0
    assert "linli_tickets" not in text
    assert len(calls) == 1  # cached: three scrapes, one attempt


# ------------------------------------------------------------------ a server without a model
def _outside_address() -> Optional[str]:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _get(url: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Linli's health and metrics routes on a real server with no model and an unreachable database."""
    port = free_port()
    log = tmp_path_factory.mktemp("bare") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
           "LINLI_METRICS_TOKEN": "bare-metrics-token-0123456789"}
    process = subprocess.Popen([PYTHON, "-m", "tests.ops.bare_app", "0.0.0.0", str(port)], cwd=ROOT, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the bare server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_ready_is_503_with_what_is_missing(bare_server: int) -> None:
    status, body = _get(f"http://127.0.0.1:{bare_server}/ready")
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "not ready"
    assert answer["missing"] == ["model", "database"]
    assert "DATABASE_URL" in answer["hints"]["database"]


def test_metrics_refuse_a_client_on_another_address(bare_server: int) -> None:
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")
    status, body = _get(f"http://{outside}:{bare_server}/metrics")  # the peer is `outside`, not loopback
    assert status == 403 and "linli_" not in body
    status, body = _get(f"http://{outside}:{bare_server}/metrics",
                        {"Authorization": "Bearer bare-metrics-token-0123456789"})
    assert status == 200
    assert value(body, "linli_database_up") == 0  # scraped, and the database is reported down
    assert _get(f"http://127.0.0.1:{bare_server}/metrics")[0] == 200


# ------------------------------------------------------------------ JSON logs
LOGGING_SCRIPT = r"""
import logging, structlog
import rasa.utils.common
from rasa.utils.log_utils import configure_structlog
from bot.logs import install_log_format
from bot.settings import install_log_redaction

# As bot.server.main configures logging.
rasa.utils.common.configure_logging_and_warnings(logging.INFO)
configure_structlog(logging.INFO)
install_log_redaction()
install_log_format()
log = logging.getLogger("bot.test")
secret = "{secret}"
log.info("Telegram answered https://api.telegram.org/bot123:%s/sendMessage for 住户", secret)
log.warning("calling", extra={{"url": "https://example.com/?access_token=" + secret, "attempt": 2}})
try:
    raise RuntimeError("WeChat refused appsecret " + secret)
except RuntimeError:
    log.exception("delivery failed")
structlog.get_logger().info("linli.test.event", user_text="my token is " + secret)
"""


def test_json_logs_are_valid_json_and_redacted() -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LINLI_LOG_FORMAT": "json", "TELEGRAM_TOKEN": f"123:{secret}",
           "WECHAT_APP_SECRET": secret}
    result = subprocess.run([PYTHON, "-c", LOGGING_SCRIPT.format(secret=secret)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    by_message = {record["message"]: record for record in records}
    assert set(by_message) >= {"delivery failed", "calling", "linli.test.event"}
    assert "住户" in next(m for m in by_message if m.startswith("Telegram answered"))  # readable, not \\u escapes
    assert by_message["calling"]["url"].endswith("access_token=***") and by_message["calling"]["attempt"] == 2
    assert "RuntimeError: WeChat refused appsecret ***" in by_message["delivery failed"]["exc_info"]
    assert by_message["delivery failed"]["level"] == "ERROR"
    assert by_message["linli.test.event"]["rasa"]["user_text"] == "my token is ***"
    for record in records:
        assert {"timestamp", "level", "logger", "message"} <= set(record)


def test_an_unknown_log_format_is_refused() -> None:
    from bot.logs import log_format
    from bot.settings import ConfigurationError

    assert log_format("JSON") == "json" and log_format("") == "text"
    with pytest.raises(ConfigurationError, match="LINLI_LOG_FORMAT"):
        log_format("xml")


@pytest.mark.parametrize("address, local", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("::ffff:127.0.0.1", True), ("192.0.2.2", False),
                                            ("::ffff:10.0.0.1", False), ("", False), ("fe80::1%eth0", False)])
def test_what_counts_as_this_machine(address: str, local: bool) -> None:
    from bot.web.metrics import _loopback

    assert _loopback(address) is local
