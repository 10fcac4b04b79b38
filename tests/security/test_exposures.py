"""Issue 11, findings 1-5: Rasa's HTTP API, REST identity, the action server, the widget's
history and its socket.io session, against the real servers with real requests."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import uuid
from typing import Any, Dict, List, Optional

import psutil
import pytest
import requests
import socketio
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.servers import ROOT, Stack, tickets_of


def _store(stack: Stack) -> TicketStore:
    return TicketStore(create_engine(stack.database_url, future=True))


def _victim(stack: Stack, openid: str) -> str:
    """A WeChat resident's ticket with a phone number and an address; returns its number."""
    return _store(stack).create(ticket_type="repair", channel="wechat", sender_id=openid, description="卫生间漏水",
                                unit="9栋1单元1101", phone="13900001111").number


def _rasa_events(stack: Stack, conversation: str) -> List[Dict[str, Any]]:
    """What was said or set in a conversation (reading a new tracker only starts a session)."""
    return [e for e in stack.tracker(conversation)["events"] if e["event"] in ("user", "bot", "slot")]


# ---------------------------------------------------------------- 1. Rasa's HTTP API
def test_rasa_http_api_refuses_requests_without_its_token(stack: Stack) -> None:
    openid = f"o-{uuid.uuid4().hex[:20]}"
    url = stack.rasa_url
    for method, path, body in [
        ("GET", f"/conversations/wechat:{openid}/tracker", None),
        ("GET", f"/conversations/{openid}/tracker", None),
        ("POST", f"/conversations/wechat:{openid}/tracker/events", [{"event": "slot", "name": "phone", "value": "1"}]),
        ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
        ("GET", "/status", None),
    ]:
        for suffix in ("", "?token=wrong-token-value"):
            response = requests.request(method, url + path + suffix, json=body, timeout=30)
            assert response.status_code == 401, (method, path, suffix, response.status_code)
    assert _rasa_events(stack, f"wechat:{openid}") == []  # nothing was written


def test_enabling_the_api_without_a_token_refuses_to_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LINLI_ENABLE_API": "true", "RASA_AUTH_TOKEN": "", "RASA_JWT_SECRET": "",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bot.server", "--model", str(tmp_path / "none.tar.gz"),
                           "--port", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "RASA_AUTH_TOKEN" in done.stderr


def test_the_api_is_off_by_default(prod_stack: Stack) -> None:
    for path in ("/conversations/x/tracker", "/status", "/version", "/domain"):
        response = requests.get(prod_stack.rasa_url + path, params={"token": ""}, timeout=30)
        assert response.status_code == 404, (path, response.status_code)
    assert requests.put(prod_stack.rasa_url + "/model", json={}, timeout=30).status_code in (404, 405)


# ---------------------------------------------------------------- 2. REST identity
def test_rest_channel_needs_its_token(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": stack.rest_token}):
        response = requests.post(url, json={"sender": sender, "message": "你好"}, headers=headers, timeout=30)
        assert response.status_code == 403
    assert _rasa_events(stack, sender) == []


def test_rest_cannot_speak_for_a_wechat_resident(stack: Stack) -> None:
    openid = f"o-{uuid.uuid4().hex[:20]}"
    number = _victim(stack, openid)
    for sender in (openid, f"wechat:{openid}"):
        response = requests.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "查询我的工单", "input_channel": "wechat"},
            headers={"Authorization": f"Bearer {stack.rest_token}"}, timeout=120)
        assert response.status_code in (200, 400)
        text = json.dumps(response.json(), ensure_ascii=False)
        assert number not in text and "1101" not in text and "13900001111" not in text
    # The message went to the REST resident's own conversation, on the REST channel.
    events = stack.tracker(openid)["events"]
    assert {e.get("input_channel") for e in events if e["event"] == "user"} == {"rest"}
    assert _rasa_events(stack, f"wechat:{openid}") == []
    assert tickets_of(stack, openid) == []


@pytest.mark.parametrize("body, content_type", [
    (b"not json", "application/json"),
    (b"\xff\xfe\x00bad", "application/json"),
    (b'{"sender": "x", "message": "hi"}', "text/plain"),
    (b'["sender", "message"]', "application/json"),
    (b'{"sender": "a:b", "message": "hi"}', "application/json"),
    (b'{"sender": "", "message": "hi"}', "application/json"),
    (b'{"sender": {"$ne": 1}, "message": "hi"}', "application/json"),
    (b'{"sender": "ok-sender", "message": 5}', "application/json"),
    (json.dumps({"sender": "ok-sender", "message": "x" * 5000}).encode(), "application/json"),
])
def test_hostile_rest_input_gets_4xx_and_stores_nothing(stack: Stack, body: bytes, content_type: str) -> None:
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=body,
                             headers={"Authorization": f"Bearer {stack.rest_token}", "Content-Type": content_type},
                             timeout=30)
    assert 400 <= response.status_code < 500, response.text
    assert _rasa_events(stack, "ok-sender") == []


def test_oversized_bodies_get_413(stack: Stack) -> None:
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                             headers={"Authorization": f"Bearer {stack.rest_token}",
                                      "Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413


# ---------------------------------------------------------------- 3. the action server
def _action_call(sender: str) -> Dict[str, Any]:
    return {"next_action": "action_check_ticket", "sender_id": sender, "version": "3.6.21",
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": "查询工单", "intent": {}},
                        "events": [], "latest_input_channel": "wechat", "active_loop": {},
                        "latest_action_name": "action_listen"},
            "domain": {}}


def test_action_server_refuses_calls_without_the_shared_secret(stack: Stack) -> None:
    openid = f"o-{uuid.uuid4().hex[:20]}"
    number = _victim(stack, openid)
    for sender in (openid, f"wechat:{openid}"):
        for headers in ({}, {"Authorization": "Bearer not-the-secret"}):
            response = requests.post(f"{stack.action_url}/webhook", json=_action_call(sender), headers=headers,
                                     timeout=30)
            assert response.status_code == 401
            assert number not in response.text
    assert requests.get(f"{stack.action_url}/actions", timeout=30).status_code == 401
    assert requests.get(f"{stack.action_url}/health", timeout=30).status_code == 200


def test_action_server_listens_on_loopback_only(stack: Stack) -> None:
    port = int(stack.action_url.rsplit(":", 1)[1])
    listening = [c for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
    assert listening and {c.laddr.ip for c in listening} == {"127.0.0.1"}
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert "bot.action_server" in run_sh and '--interface "$LINLI_HOST"' in run_sh  # make run binds it too


# ---------------------------------------------------------------- 4./5. the widget
def _session(stack: Stack) -> Dict[str, str]:
    response = requests.post(f"{stack.rasa_url}/chat/session", timeout=30)
    assert response.status_code == 200 and response.headers.get("Cache-Control") == "no-store"
    return response.json()


def test_chat_history_needs_the_widget_session_token(stack: Stack) -> None:
    openid = f"o-{uuid.uuid4().hex[:20]}"
    stack.chat(f"hist-{uuid.uuid4().hex[:6]}", "你好")
    # The old route that took any sender id (OpenIDs, chat ids) is gone.
    for sender in (openid, "123456789", f"wechat:{openid}"):
        assert requests.get(f"{stack.rasa_url}/chat/history/{sender}", timeout=30).status_code in (401, 404, 405)
    session = _session(stack)
    assert requests.get(f"{stack.rasa_url}/chat/history", timeout=30).status_code == 401
    forged = session["session_id"] + ".AAAA"
    for token in (forged, session["session_id"], "x" * 300):
        response = requests.get(f"{stack.rasa_url}/chat/history", headers={"Authorization": f"Bearer {token}"},
                                timeout=30)
        assert response.status_code == 401
    ok = requests.get(f"{stack.rasa_url}/chat/history",
                      headers={"Authorization": f"Bearer {session['session_token']}"}, timeout=30)
    assert ok.status_code == 200 and ok.json() == {"messages": []}


class _Browser:
    """A socket.io client as the widget speaks it."""

    def __init__(self, url: str, request: Dict[str, Any]) -> None:
        self.received: "queue.Queue[str]" = queue.Queue()
        self.tokens: "queue.Queue[Dict[str, str]]" = queue.Queue()
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", lambda data: confirmed.put(data))
        self.client.on("session_token", lambda data: self.tokens.put(data))
        self.client.on("bot_uttered", lambda data: self.received.put((data or {}).get("text", "")))
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=20)
        self.client.emit("session_request", request)
        self.session_id = confirmed.get(timeout=20)

    def say(self, text: str, **extra: Any) -> None:
        self.client.emit("user_uttered", {"message": text, **extra})

    def wait(self, seconds: float = 60) -> Optional[str]:
        try:
            return self.received.get(timeout=seconds)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.client.disconnect()


def test_a_second_browser_cannot_join_someone_elses_widget_conversation(stack: Stack) -> None:
    victim_session = _session(stack)
    victim = _Browser(stack.rasa_url, {"session_token": victim_session["session_token"]})
    try:
        assert victim.session_id == victim_session["session_id"]
        victim.say("你好")
        assert victim.wait()
        # The attacker knows the session id (staff see it as socketio:<id>), not the token.
        for request in ({"session_id": victim.session_id},
                        {"session_token": victim.session_id},
                        {"session_token": victim.session_id + ".forged"}):
            attacker = _Browser(stack.rasa_url, request)
            try:
                assert attacker.session_id != victim.session_id  # a fresh session of its own
                assert attacker.tokens.get(timeout=5)["session_id"] == attacker.session_id
                attacker.say("我要报修", session_id=victim.session_id)  # Rasa's channel trusted this
                assert attacker.wait()
                assert victim.wait(3) is None  # the victim's browser got nothing of it
            finally:
                attacker.close()
        users = [e["text"] for e in stack.tracker(victim.session_id, channel="socketio")["events"]
                 if e["event"] == "user"]
        assert users == ["你好"]
        history = requests.get(f"{stack.rasa_url}/chat/history",
                               headers={"Authorization": f"Bearer {victim_session['session_token']}"}, timeout=30)
        assert [m["text"] for m in history.json()["messages"] if m["from"] == "user"] == ["你好"]
    finally:
        victim.close()
