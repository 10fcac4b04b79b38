"""deploy/nginx/linli.conf in a real nginx in front of the production-like service:
only the public routes are reachable, and Linli sees the real client and scheme."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.handoff.conftest import AGENT_PASSWORD, create_account
from tests.security.conftest import Nginx
from tests.servers import Stack

PUBLIC = [
    ("GET", "/chat", 200),
    ("GET", "/chat/widget.js", 200),
    ("GET", "/chat/static/chat.js", 200),
    ("GET", "/console", 200),
    ("GET", "/api/me", 401),
    ("GET", "/socket.io/?EIO=4&transport=polling", 200),
    ("GET", "/webhooks/wechat/webhook", 403),  # reachable, and refuses an unsigned request
    ("POST", "/webhooks/telegram/webhook", 403),
]
PRIVATE = ["/", "/version", "/status", "/conversations/wechat:o-1/tracker", "/conversations/x/tracker/events",
           "/model", "/domain", "/webhooks/rest/webhook", "/webhooks/rest/", "/webhooks/socketio/",
           "/webhooks/wechat/", "/webhooks/telegram/", "/health", "/api/../conversations/x/tracker",
           "/chat/../conversations/x/tracker", "/%2e%2e/status", "/apix"]


@pytest.mark.parametrize("method, path, status", PUBLIC)
def test_public_routes_are_proxied(nginx: Nginx, method: str, path: str, status: int) -> None:
    code, _, _ = nginx.request(method, path, b"{}" if method == "POST" else None,
                               {"Content-Type": "application/json"} if method == "POST" else {})
    assert code == status, (method, path, code)


@pytest.mark.parametrize("path", PRIVATE)
def test_everything_else_is_not_exposed(nginx: Nginx, path: str) -> None:
    for method in ("GET", "POST", "PUT"):
        code, _, body = nginx.request(method, path, b"{}", {"Content-Type": "application/json"})
        assert code in (400, 404), (method, path, code)
        assert b"Rasa" not in body and b"tracker" not in body


def test_secure_cookie_and_real_client_addresses_behind_the_proxy(nginx: Nginx, prod_stack: Stack) -> None:
    name = f"px{uuid.uuid4().hex[:6]}"
    create_account(prod_stack, name, AGENT_PASSWORD, "agent")
    # An attacker (127.0.0.2) locks the account for itself, whatever X-Forwarded-For it sends...
    codes = [nginx.post_json("/api/login", {"username": name, "password": f"wrong-{i}-pw"}, source="127.0.0.2",
                             headers={"X-Forwarded-For": f"198.51.100.{i}"})[0] for i in range(6)]
    assert codes == [401] * 5 + [429]
    # ...but not for the agent at another address (before the fix every client was the proxy).
    code, headers, body = nginx.post_json("/api/login", {"username": name, "password": AGENT_PASSWORD},
                                          source="127.0.0.3")
    assert code == 200, body
    cookie = headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert json.loads(body)["user"]["username"] == name


def test_oversized_bodies_are_refused_by_the_proxy(nginx: Nginx) -> None:
    code, _, _ = nginx.request("POST", "/webhooks/telegram/webhook", b"x" * (2 * 1024 * 1024),
                               {"Content-Type": "application/json"})
    assert code == 413
