"""Warm start: the action server loads the knowledge base when it starts and /ready waits for it."""

from __future__ import annotations

import time

import requests

from tests.servers import Stack


def test_the_action_server_is_ready_once_the_knowledge_base_is_loaded(kb_stack: Stack) -> None:
    """KNOWLEDGE_WARM_UP=full (the default): /ready waits for the load, then the first question is quick."""
    deadline = time.monotonic() + 180
    while True:
        body = requests.get(f"{kb_stack.action_url}/ready", timeout=10).json()
        if body["knowledge_warm_up"]["status"] != "loading" or time.monotonic() > deadline:
            break
        assert body["checks"]["knowledge"] is False and body["status"] == "not ready"
        time.sleep(0.5)
    assert body["knowledge_warm_up"]["status"] == "ready", body
    assert body["knowledge_warm_up"]["mode"] == "full"
    assert body["status"] == "ready" and body["checks"]["knowledge"] is True
