"""Issue 11, findings 7, 8 and 10 and the personal-information rules, on the staff desk:
CORS, the login throttle, cookies, password hashing, masking and the audit log."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Dict

import requests
from sqlalchemy import create_engine, select, update

from bot.staff.models import StaffUser
from bot.tickets import TicketStore
from tests.handoff.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, Desk, create_account
from tests.servers import Stack

EVIL = "https://evil.example"


class _Status:
    """The parts of a login response the tests read."""

    def __init__(self, status_code: int, headers: Dict[str, str]) -> None:
        self.status_code = status_code
        self.headers = headers


def _client_address() -> str:
    """A loopback address of its own for each throttle test: the per-address window
    (password spraying) then counts only that test's attempts, whatever ran before."""
    return f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def _login(stack: Stack, username: str, password: str, source: str = "127.0.0.1", **headers: str) -> _Status:
    """POST /api/login from the loopback address ``source``."""
    import http.client
    import json
    from urllib.parse import urlsplit

    url = urlsplit(stack.rasa_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60, source_address=(source, 0))
    try:
        connection.request("POST", "/api/login", json.dumps({"username": username, "password": password}),
                           {"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return _Status(response.status, {k: v for k, v in response.getheaders()})
    finally:
        connection.close()


# ---------------------------------------------------------------- 7. CORS
def test_cors_allows_no_other_origin_and_never_credentials(stack: Stack, agent: Desk) -> None:
    for method, path in [("GET", "/api/me"), ("GET", "/api/tickets"), ("POST", "/api/login"),
                         ("POST", "/webhooks/rest/webhook"), ("GET", "/chat/history"), ("GET", "/health")]:
        response = agent.http.request(method, stack.rasa_url + path, headers={"Origin": EVIL}, json={}, timeout=30)
        assert "access-control-allow-origin" not in {k.lower() for k in response.headers}, (path, response.headers)
        assert "access-control-allow-credentials" not in {k.lower() for k in response.headers}
        preflight = requests.options(stack.rasa_url + path, headers={
            "Origin": EVIL, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"}, timeout=30)
        assert preflight.headers.get("Access-Control-Allow-Origin") in (None, ""), path
        assert preflight.headers.get("Access-Control-Allow-Credentials") in (None, "")


# ---------------------------------------------------------------- 8. login throttle
def test_a_locked_username_stays_locked_whatever_its_spelling(stack: Stack) -> None:
    name, source = f"lock{uuid.uuid4().hex[:6]}", _client_address()
    create_account(stack, name, AGENT_PASSWORD, "agent")
    assert [_login(stack, name, f"wrong-{i}-pass", source).status_code for i in range(5)] == [401] * 5
    for spelling in (name, f" {name}", f"{name} ", name.upper(), f"\t{name.title()}", f"ｌｏｃｋ{name[4:]}"):
        assert _login(stack, spelling, AGENT_PASSWORD, source).status_code == 429, spelling


def test_parallel_guesses_are_counted_before_the_password_check(stack: Stack) -> None:
    name, source = f"par{uuid.uuid4().hex[:6]}", _client_address()
    create_account(stack, name, AGENT_PASSWORD, "agent")
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda i: _login(stack, name, f"guess-{i}-xx", source).status_code, range(20)))
    assert codes.count(401) <= 5 and codes.count(429) >= 15, codes
    assert _login(stack, name, AGENT_PASSWORD, source).status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_throttle(stack: Stack) -> None:
    # This stack trusts no proxy (LINLI_PROXIES_COUNT=0): X-Forwarded-For is ignored.
    name, source = f"xff{uuid.uuid4().hex[:6]}", _client_address()
    codes = [_login(stack, name, "wrong-password", source, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]


def test_session_cookie_is_secure_by_default(prod_stack: Stack) -> None:
    create_account(prod_stack, "secadmin", ADMIN_PASSWORD, "admin")
    response = _login(prod_stack, "secadmin", ADMIN_PASSWORD)
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


# ---------------------------------------------------------------- 10. password hashing
def _old_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_weak_hashes_are_upgraded_on_login_and_passwords_have_a_maximum_length(stack: Stack, admin: Desk) -> None:
    name = f"old{uuid.uuid4().hex[:6]}"
    create_account(stack, name, AGENT_PASSWORD, "agent")
    engine = create_engine(stack.database_url, future=True)
    with engine.begin() as conn:
        conn.execute(update(StaffUser.__table__).where(StaffUser.__table__.c.username == name)
                     .values(password_hash=_old_hash(AGENT_PASSWORD)))
    assert _login(stack, name, AGENT_PASSWORD, _client_address()).status_code == 200
    with engine.connect() as conn:
        stored = conn.scalar(select(StaffUser.__table__.c.password_hash).where(StaffUser.__table__.c.username == name))
    scheme, n, r, p, _, _ = stored.split("$")
    assert scheme == "scrypt" and int(n) >= 2**17 and int(r) >= 8
    assert _login(stack, name, "x" * 100_000).status_code in (400, 401, 413)
    too_long = admin.post("/api/users", {"username": f"long{uuid.uuid4().hex[:6]}", "password": "p" * 300})
    assert too_long.status_code == 400


# ---------------------------------------------------------------- personal information
def test_phone_numbers_are_masked_in_lists_and_queues_but_not_on_the_ticket_page(stack: Stack, agent: Desk,
                                                                                  admin: Desk) -> None:
    store = TicketStore(create_engine(stack.database_url, future=True))
    ticket = store.create(ticket_type="repair", channel="rest", sender_id=f"pii-{uuid.uuid4().hex[:6]}",
                          description="漏水，电话13712345678", unit="2栋301", phone="13712345678")
    listed = [t for t in agent.get("/api/tickets?limit=500").json()["tickets"] if t["number"] == ticket.number][0]
    assert listed["phone"] == "137****5678" and "13712345678" not in listed["description"]
    page = agent.get(f"/api/tickets/{ticket.number}").json()["ticket"]
    assert page["phone"] == "13712345678"

    sender = f"q-{uuid.uuid4().hex[:8]}"
    stack.chat(sender, "转人工，我的电话是13612345678")
    queue = agent.get("/api/handoffs").json()["handoffs"]
    mine = [h for h in queue if h["sender_id"] == f"rest:{sender}"]
    assert mine and all("13612345678" not in (h["last_message"] or "") for h in queue)

    # The audit log says who saw whose data; only admins read it.
    entries = admin.get(f"/api/audit?resident=rest:{ticket.sender_id}").json()["entries"]
    assert any(e["action"] == "view_ticket" and e["subject"] == ticket.number
               and e["actor"] == f"staff:{agent.user['username']}" for e in entries)
    assert agent.get("/api/audit").status_code == 403
    transcript = agent.get(f"/api/handoffs/{mine[0]['id']}")
    assert transcript.status_code == 200
    entries = admin.get(f"/api/audit?resident=rest:{sender}").json()["entries"]
    assert any(e["action"] == "view_transcript" for e in entries)
