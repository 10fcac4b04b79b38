"""Operations on the real service (one Rasa server + action server for the whole module):
readiness, Prometheus metrics after real REST turns, who may scrape, JSON logs."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from tests.ops.promtext import families, value
from tests.servers import Stack, start_stack

METRICS_TOKEN = "ops-test-metrics-token-" + uuid.uuid4().hex
MESSAGES = ["你好", "hello", "qzxv blorp wug"]


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Stack]:
    service = start_stack(tmp_path_factory.mktemp("ops"), trained_model, {
        "LINLI_LOG_FORMAT": "json",
        "LINLI_METRICS_TOKEN": METRICS_TOKEN,
        "LINLI_METRICS_CACHE_SECONDS": "0",  # the gauges below must see rows written just before
        "KNOWLEDGE_WARM_UP": "0",
    })
    yield service
    service.stop()


def fetch(url: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def scrape(base_url: str) -> str:
    status, headers, body = fetch(f"{base_url}/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain")
    return body


def test_both_servers_are_ready(ops_stack: Stack) -> None:
    status, _, body = fetch(f"{ops_stack.rasa_url}/ready")
    assert status == 200, body
    assert json.loads(body) == {"status": "ready", "checks": {"model": True, "database": True}}
    status, _, body = fetch(f"{ops_stack.action_url}/ready")  # open, like /health: no action token
    assert status == 200, body
    # KNOWLEDGE_WARM_UP=0 here: nothing to wait for (tests/knowledge_desk/test_warm_start.py has the load)
    assert json.loads(body) == {"status": "ready", "checks": {"actions": True, "database": True, "knowledge": True},
                                "knowledge_warm_up": {"status": "off", "mode": "0", "seconds": None, "error": None}}


def test_metrics_after_rest_messages(ops_stack: Stack) -> None:
    from bot.handoff.store import HandoffStore
    from bot.tickets import TicketStore
    from sqlalchemy import create_engine

    sender = f"ops-{uuid.uuid4().hex[:8]}"
    for text in MESSAGES:
        assert ops_stack.chat(sender, text)  # the bot answers each one
    engine = create_engine(ops_stack.database_url, future=True)
    try:
        TicketStore(engine).create(ticket_type="repair", channel="rest", sender_id="ops-ticket",
                                   description="厨房水龙头漏水")
        HandoffStore(engine).open(f"rest:ops-waiting-{uuid.uuid4().hex[:6]}", "rest", reason="requested")
    finally:
        engine.dispose()

    # Resident messages are counted by the event-broker consumer, just after the turn.
    deadline = time.monotonic() + 15
    while True:
        text = scrape(ops_stack.rasa_url)
        if (value(text, "linli_messages_total", {"channel": "rest"}) or 0) >= len(MESSAGES) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.3)

    assert {"linli_messages", "linli_nlu_confidence", "linli_nlu_fallbacks", "linli_turn_seconds",
            "linli_delivery_failures", "linli_handoffs_waiting", "linli_handoff_oldest_queued_seconds",
            "linli_tickets", "linli_database_up"} <= families(text)
    assert value(text, "linli_messages_total", {"channel": "rest"}) == len(MESSAGES)
    assert value(text, "linli_nlu_confidence_count") == len(MESSAGES)
    assert value(text, "linli_turn_seconds_count", {"channel": "rest"}) == len(MESSAGES)
    assert value(text, "linli_turn_seconds_sum", {"channel": "rest"}) > 0
    assert value(text, "linli_database_up") == 1
    assert value(text, "linli_tickets", {"type": "repair", "status": "open"}) == 1
    assert value(text, "linli_tickets", {"type": "complaint", "status": "closed"}) == 0
    assert value(text, "linli_handoffs_waiting", {"status": "queued"}) == 1
    assert value(text, "linli_handoffs_waiting", {"status": "active"}) == 0

    # The action server ran action_session_start for the new conversation and times it by name.
    actions = scrape(ops_stack.action_url)
    assert (value(actions, "linli_action_seconds_count", {"action": "action_session_start"}) or 0) >= 1
    assert value(actions, "linli_tickets", {"type": "repair", "status": "open"}) == 1


def test_metrics_are_not_for_everyone(ops_stack: Stack) -> None:
    relayed = {"X-Forwarded-For": "203.0.113.7"}  # what the nginx on the same host would add
    for base in (ops_stack.rasa_url, ops_stack.action_url):
        assert fetch(f"{base}/metrics")[0] == 200  # this machine, directly
        status, _, body = fetch(f"{base}/metrics", relayed)
        assert status == 403 and "linli_" not in body
        assert fetch(f"{base}/metrics", {**relayed, "Authorization": "Bearer wrong-token-0123456789"})[0] == 403
        status, _, body = fetch(f"{base}/metrics", {**relayed, "Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200 and "linli_database_up" in body


#: The start of a text log line (Sanic's "[2026-01-02 10:00:00 +0800]", coloredlogs' "2026-01-02 10:00:00").
TEXT_RECORD = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d")


def _json_lines(log: Path) -> list:
    records = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))  # every structured line is one valid JSON object
        else:  # Python warnings and C++ libraries write to stderr directly; log records do not
            assert not TEXT_RECORD.match(line), f"a text log line in {log.name}: {line}"
    return records


def test_logs_are_json_lines_without_secrets(ops_stack: Stack) -> None:
    workdir = ops_stack.tracker_db.parent
    server = _json_lines(workdir / "rasa.log")
    actions = _json_lines(workdir / "actions.log")
    # (`python -m bot.server` logs as __main__)
    assert any(r["message"].startswith("Starting Linli on") for r in server)
    assert sum(r["logger"] == "sanic.root" and r["message"].startswith("Goin' Fast") for r in server) == 1
    assert any(r["logger"] == "rasa.core.processor" for r in server)
    assert any(r["message"].startswith("Action server on") for r in actions)
    assert any(r["logger"] == "rasa_sdk.executor" for r in actions)
    for record in server + actions:
        assert {"timestamp", "level", "logger", "message"} <= set(record)
    for log in ("rasa.log", "actions.log"):
        text = (workdir / log).read_text(errors="replace")
        for secret in (ops_stack.rest_token, ops_stack.api_token, ops_stack.action_token, METRICS_TOKEN):
            assert secret not in text, f"a secret is in {log}"
