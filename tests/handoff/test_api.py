"""The desk's JSON API against the real service: every route, with and without a valid session."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest
import requests
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from bot.web.api import COOKIE, blueprint
from tests.handoff.conftest import AGENT_PASSWORD, Desk, handoff_of
from tests.servers import Stack

PLACEHOLDERS = {"handoff_id:int": "1", "number:str": "BX-20260101-0001", "attachment_id:int": "1",
                "username:str": "nobody"}


def api_routes() -> List[Tuple[str, str]]:
    """(method, path) of every route of the API blueprint, with sample path parameters."""
    routes = []
    for route in blueprint._future_routes:
        path = "/api" + re.sub(r"<([^>]+)>", lambda m: PLACEHOLDERS[m.group(1)], route.uri)
        routes.extend((method, path) for method in route.methods)
    return sorted(routes)


PROTECTED = [r for r in api_routes() if r != ("POST", "/api/login")]


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    if method == "POST":
        kwargs.setdefault("json", {})
    return requests.request(method, url, timeout=30, allow_redirects=False, **kwargs)


def test_the_route_list_is_complete() -> None:
    # Guards the refusal tests below: a new route is covered automatically.
    assert len(PROTECTED) >= 20 and ("GET", "/api/openapi.json") in PROTECTED


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_route_but_login_refuses_without_a_valid_session(stack: Stack, method: str, path: str) -> None:
    url = stack.rasa_url + path
    for kwargs in ({}, {"headers": {"Authorization": "Bearer not-a-token"}},
                   {"cookies": {COOKIE: "forged-session-token"}}):
        response = call(method, url, **kwargs)
        assert response.status_code == 401, (method, path, kwargs, response.text)
        assert response.json()["error"] == "unauthenticated" and "/api/login" in response.json()["message"]


def test_login_sets_a_protected_cookie_and_a_bearer_token(stack: Stack, accounts: Dict[str, str]) -> None:
    desk = Desk(stack.rasa_url)
    assert desk.login(accounts["agent"], "wrong-password").status_code == 401
    assert desk.http.post(f"{stack.rasa_url}/api/login", json={}).status_code == 400
    response = desk.login(accounts["agent"], AGENT_PASSWORD)
    assert response.status_code == 200 and response.json()["user"]["role"] == "agent"
    set_cookie = response.headers["Set-Cookie"]
    assert COOKIE in set_cookie and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert desk.get("/api/me").json()["user"]["username"] == accounts["agent"]
    token = response.json()["token"]
    bearer = requests.get(f"{stack.rasa_url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bearer.status_code == 200
    # A cookie session cannot be used for a cross-site form post (not JSON).
    form = desk.http.post(f"{stack.rasa_url}/api/tickets/BX-20260101-0001/notes", data={"note": "x"})
    assert form.status_code == 415
    assert desk.post("/api/logout").status_code == 200
    assert desk.get("/api/me").status_code == 401
    assert requests.get(f"{stack.rasa_url}/api/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 401


def test_repeated_wrong_passwords_are_throttled(stack: Stack) -> None:
    desk = Desk(stack.rasa_url)
    codes = [desk.login("ghost-user", f"guess-{i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert "try again" in desk.login("ghost-user", "guess-7").json()["message"]


def test_admin_routes_refuse_agents(agent: Desk, admin: Desk, accounts: Dict[str, str]) -> None:
    assert agent.get("/api/users").status_code == 403
    assert agent.post("/api/users", {"username": "x", "password": "12345678"}).status_code == 403
    assert agent.post(f"/api/users/{accounts['agent2']}/active", {"active": False}).status_code == 403
    users = admin.get("/api/users").json()["users"]
    assert {accounts["agent"], accounts["admin"]} <= {u["username"] for u in users}
    assert all("password_hash" not in u for u in users)


def test_admin_creates_and_disables_an_agent(stack: Stack, admin: Desk) -> None:
    name = f"zhao{int(time.time() * 1000) % 100000}"
    created = admin.post("/api/users", {"username": name, "password": "zhao-pass-1", "role": "agent"})
    assert created.status_code == 201 and created.json()["user"]["role"] == "agent"
    assert admin.post("/api/users", {"username": name, "password": "zhao-pass-1"}).status_code == 409
    assert admin.post("/api/users", {"username": "y", "password": "short"}).status_code == 400
    zhao = Desk(stack.rasa_url)
    assert zhao.login(name, "zhao-pass-1").status_code == 200
    assert admin.post(f"/api/users/{name}/active", {"active": False}).json()["user"]["active"] is False
    assert zhao.get("/api/me").status_code == 401
    assert Desk(stack.rasa_url).login(name, "zhao-pass-1").status_code == 401
    assert admin.post("/api/users/nobody-here/active", {"active": True}).status_code == 404


def test_openapi_documents_every_route(agent: Desk) -> None:
    document = agent.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    for route in blueprint._future_routes:
        path = "/api" + re.sub(r"<([^:>]+)(:[^>]+)?>", r"{\1}", route.uri)
        for method in route.methods:
            assert (method, path) in documented, (method, path)
    assert document["paths"]["/api/login"]["post"]["security"] == []


# ---------------------------------------------------------------- tickets
@pytest.fixture(scope="module")
def tickets(stack: Stack) -> Dict[str, str]:
    store = TicketStore(create_engine(stack.database_url, future=True))
    leak = store.create(ticket_type="repair", channel="rest", sender_id="api-r1", description="厨房漏水",
                        unit="3栋2单元502", category="plumbing", urgency="urgent", phone="13812345678")
    lamp = store.create(ticket_type="repair", channel="rest", sender_id="api-r2", description="楼道灯不亮",
                        unit="5号楼1203", category="electrical", urgency="normal")
    noise = store.create(ticket_type="complaint", channel="rest", sender_id="api-r3", description="楼上装修太吵",
                         location="7栋")
    store.add_attachment(leak.number, "https://img.example.com/leak.jpg", "rest:api-r1")
    store.add_attachment(leak.number, "wechat-media-id-123", "wechat:api-r1")
    return {"leak": leak.number, "lamp": lamp.number, "noise": noise.number}


def numbers(desk: Desk, query: str) -> List[str]:
    response = desk.get("/api/tickets" + query)
    assert response.status_code == 200, response.text
    return [t["number"] for t in response.json()["tickets"]]


def test_ticket_list_filters(agent: Desk, tickets: Dict[str, str]) -> None:
    everything = numbers(agent, "?limit=500")
    assert set(tickets.values()) <= set(everything)
    assert tickets["leak"] in numbers(agent, "?category=plumbing") and tickets["lamp"] not in numbers(
        agent, "?category=plumbing")
    assert tickets["lamp"] in numbers(agent, "?unit=5号楼")
    assert tickets["leak"] not in numbers(agent, "?unit=5号楼")
    assert tickets["noise"] in numbers(agent, "?type=complaint") and tickets["leak"] not in numbers(
        agent, "?type=complaint")
    today = datetime.now(timezone.utc).date()
    assert tickets["leak"] in numbers(agent, f"?since={today - timedelta(days=1)}&until={today}")
    assert tickets["leak"] not in numbers(agent, f"?until={today - timedelta(days=2)}")
    assert tickets["leak"] not in numbers(agent, f"?since={today + timedelta(days=2)}")
    assert agent.get("/api/tickets?since=yesterday").status_code == 400


def test_ticket_page_assign_status_note_history_photos(agent: Desk, tickets: Dict[str, str],
                                                       accounts: Dict[str, str]) -> None:
    number = tickets["leak"]
    page = agent.get(f"/api/tickets/{number}").json()["ticket"]
    assert page["unit"] == "3栋2单元502" and page["labels"]["category"] == {"zh": "水管/漏水", "en": "plumbing"}
    assert [a["url"] for a in page["attachments"]][0] == "https://img.example.com/leak.jpg"
    assert agent.get(f"/api/tickets/{number}/attachments/{page['attachments'][0]['id']}",
                     allow_redirects=False).status_code == 302
    assert agent.get(f"/api/tickets/{number}/attachments/{page['attachments'][1]['id']}").status_code == 404

    # The assignee is a staff account's username (tests/desk covers the refusals).
    assigned = agent.post(f"/api/tickets/{number}/assign", {"assignee": accounts["agent2"], "note": "今天下午"}).json()["ticket"]
    assert assigned["status"] == "assigned" and assigned["assignee"] == accounts["agent2"]
    assert agent.post(f"/api/tickets/{number}/assign", {}).status_code == 400
    moved = agent.post(f"/api/tickets/{number}/status", {"status": "in_progress", "note": "师傅已出发"})
    assert moved.status_code == 200 and moved.json()["ticket"]["status"] == "in_progress"
    noted = agent.post(f"/api/tickets/{number}/notes", {"note": "需要更换阀门"}).json()["ticket"]
    history = [(e["action"], e["to_status"], e["note"]) for e in noted["events"]]
    assert ("status", "in_progress", "师傅已出发") in history and ("note", None, "需要更换阀门") in history
    assert any(e["actor"] == f"staff:{accounts['agent']}" for e in noted["events"])
    assert agent.post(f"/api/tickets/{number}/status", {"status": "open"}).status_code == 409
    assert agent.post(f"/api/tickets/{number}/status", {"status": "bogus"}).status_code == 400
    assert agent.post(f"/api/tickets/{number}/notes", {"note": " "}).status_code == 400
    assert agent.get("/api/tickets/BX-19990101-0001").status_code == 404
    assert agent.post("/api/tickets/BX-19990101-0001/status", {"status": "closed"}).status_code == 404


def test_dashboards(agent: Desk, tickets: Dict[str, str]) -> None:
    assert agent.post(f"/api/tickets/{tickets['lamp']}/status", {"status": "resolved", "note": "换了灯泡"}).ok
    per_day = agent.get("/api/stats/tickets-per-day?days=7").json()
    assert len(per_day["days"]) == 7 and per_day["total_opened"] >= 3 and per_day["total_resolved"] >= 1
    assert per_day["days"][-1]["opened"] >= 3 and per_day["days"][-1]["resolved"] >= 1
    by_age = agent.get("/api/stats/open-by-age").json()
    assert by_age["total"] >= 2 and by_age["buckets"][0]["bucket"] == "lt_1d" and by_age["buckets"][0]["count"] >= 2
    assert tickets["lamp"] not in [t["number"] for t in by_age["oldest"]]  # resolved is not open
    assert agent.get("/api/stats/tickets-per-day?days=many").status_code == 400
    assert agent.get("/api/tickets?limit=lots").status_code == 400
    unanswered = agent.get("/api/stats/unanswered").json()
    assert isinstance(unanswered["latest"], list) and isinstance(unanswered["top"], list)


# ---------------------------------------------------------------- handoff routes
def test_handoff_routes_refuse_what_the_state_does_not_allow(stack: Stack, agent: Desk, agent2: Desk,
                                                             admin: Desk, sender: str) -> None:
    assert "转接人工客服" in stack.say(sender, "转人工")
    handoff = handoff_of(agent, sender)
    hid = handoff["id"]
    assert handoff["status"] == "queued" and handoff["reason"] == "requested" and handoff["channel"] == "rest"
    assert agent.get("/api/handoffs/999999").status_code == 404
    assert agent.post("/api/handoffs/999999/reply", {"text": "hi"}).status_code == 404
    assert agent.post(f"/api/handoffs/{hid}/reply", {"text": "  "}).status_code == 400
    assert agent.get(f"/api/handoffs/{hid}/messages?after=abc").status_code == 400

    taken = agent.post(f"/api/handoffs/{hid}/take").json()
    assert taken["handoff"]["status"] == "active" and taken["delivered"] is False  # REST cannot push
    assert "rest" in taken["error"]
    assert agent2.post(f"/api/handoffs/{hid}/take").status_code == 409
    assert agent2.post(f"/api/handoffs/{hid}/reply", {"text": "我来"}).status_code == 409
    assert agent2.post(f"/api/handoffs/{hid}/close").status_code == 409
    # An admin may take over.
    assert admin.post(f"/api/handoffs/{hid}/take", {"force": True}).json()["handoff"]["agent"] == admin.user["username"]
    assert admin.post(f"/api/handoffs/{hid}/close").status_code == 200
    assert admin.post(f"/api/handoffs/{hid}/close").status_code == 409
    assert agent.post(f"/api/handoffs/{hid}/reply", {"text": "还在吗"}).status_code == 409
    closed = agent.get("/api/handoffs?status=closed").json()["handoffs"]
    assert hid in [h["id"] for h in closed] and hid not in [h["id"] for h in agent.get("/api/handoffs").json()["handoffs"]]


def test_resident_messages_reach_the_desk_in_real_time(stack: Stack, agent: Desk, sender: str) -> None:
    stack.say(sender, "我要找人工客服")
    hid = handoff_of(agent, sender)["id"]
    after = max(m["ts"] for m in agent.get(f"/api/handoffs/{hid}").json()["messages"])
    result: Dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        result["body"] = agent.get(f"/api/handoffs/{hid}/messages?after={after}&wait=25").json()
        result["seconds"] = time.monotonic() - started

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(1.0)  # the poll is waiting
    assert stack.chat(sender, "你们还在吗？请尽快回复我") == []  # the bot stays silent
    poller.join(30)
    texts = [m["text"] for m in result["body"]["messages"] if m["from"] == "resident"]
    assert texts == ["你们还在吗？请尽快回复我"]
    assert result["seconds"] < 15, "the long poll should return as soon as the resident writes"
    assert result["body"]["handoff"]["resident_messages"] >= 1
    agent.post(f"/api/handoffs/{hid}/close")
