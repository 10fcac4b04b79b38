"""deploy/nginx/linli-cluster.conf.template, rendered by deploy/render_nginx.py, in a real nginx
in front of two tiny upstream servers standing in for two replicas (and one action server):
socket.io sticks to one replica, by cookie or by address; websockets upgrade; other routes are
spread; private routes stay private; a replica that is not ready or down is skipped."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from tests.nginx import run_nginx, stop_nginx
from tests.security.conftest import _self_signed, nginx_binary
from tests.servers import PYTHON, ROOT, free_port

POLLING = "/socket.io/?EIO=4&transport=polling"


@dataclass
class Upstream:
    """A stand-in replica: answers its name; ``mode`` "ok" or "not_ready" (503, as a loading replica)."""

    name: str
    server: ThreadingHTTPServer
    mode: str = "ok"
    seen: List[Tuple[str, Dict[str, str]]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


def _start_upstream(name: str) -> Upstream:
    upstream: Optional[Upstream] = None

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:  # type: ignore[no-untyped-def]
            pass

        def _answer(self) -> None:
            assert upstream is not None
            upstream.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            if upstream.mode == "not_ready":
                self._send(503, b"loading")
                return
            if self.path.startswith("/socket.io/") and self.headers.get("upgrade", "").lower() == "websocket":
                accept = base64.b64encode(hashlib.sha1((self.headers["sec-websocket-key"]
                                                        + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 b"Sec-WebSocket-Accept: " + accept + b"\r\nX-Upstream: " + name.encode() + b"\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(200, name.encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Upstream", name)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    upstream = Upstream(name, server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream


@dataclass
class Cluster:
    replicas: Dict[str, Upstream]
    actions: Upstream
    https_port: int
    action_port: int
    cert: Path
    work: Path

    def request(self, path: str, source: str = "127.0.0.1", headers: Optional[Dict[str, str]] = None,
                method: str = "GET", body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], str]:
        context = ssl.create_default_context(cafile=str(self.cert))
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=context, timeout=20,
                                           source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers={"Host": "linli.test", **(headers or {})})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
        finally:
            conn.close()

    def replica_for(self, path: str = POLLING, source: str = "127.0.0.1",
                    headers: Optional[Dict[str, str]] = None) -> str:
        status, answer_headers, body = self.request(path, source, headers)
        assert status == 200, (status, body)
        return answer_headers["x-upstream"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    binary = nginx_binary()
    if binary is None:
        pytest.fail("nginx is not installed: run scripts/install_nginx.sh (make test does)")
    work = tmp_path_factory.mktemp("nginx-cluster")
    cert, key = _self_signed(work)
    replicas = {name: _start_upstream(name) for name in ("A", "B")}
    actions = _start_upstream("actions")
    http_port, https_port, action_port = free_port(), free_port(), free_port()
    rendered = subprocess.run(
        [PYTHON, "deploy/render_nginx.py", "--server-name", "linli.test",
         *[arg for r in replicas.values() for arg in ("--replica", r.address)], "--action", actions.address,
         "--listen", f"127.0.0.1:{https_port}", "--listen-http", f"127.0.0.1:{http_port}",
         "--action-listen", f"127.0.0.1:{action_port}", "--cert", str(cert), "--key", str(key),
         "--proxy-include", str(ROOT / "deploy" / "nginx" / "linli_proxy.conf")],
        cwd=ROOT, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    assert "{{" not in rendered.stdout
    (work / "site.conf").write_text(rendered.stdout)
    process = run_nginx(binary, work, f"    include {work}/site.conf;", [https_port])
    yield Cluster(replicas, actions, https_port, action_port, cert, work)
    stop_nginx(process)
    for upstream in (*replicas.values(), actions):
        upstream.server.shutdown()


def test_the_rendered_configuration_passes_nginx_t(cluster: Cluster) -> None:
    result = subprocess.run([nginx_binary(), "-t", "-p", str(cluster.work), "-c", str(cluster.work / "nginx.conf")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "syntax is ok" in result.stderr, result.stderr
    site = (cluster.work / "site.conf").read_text()
    assert site.count(f"server {cluster.replicas['A'].address} max_fails=2 fail_timeout=10s;") == 2


def test_renderer_refuses_what_nginx_would_misread() -> None:
    bad = subprocess.run([PYTHON, "deploy/render_nginx.py", "--server-name", "linli.test", "--replica", "db;evil",
                          "--action", "127.0.0.1:5055"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "host:port" in bad.stderr and not bad.stdout


def test_socketio_sticks_to_one_replica_per_client_address(cluster: Cluster) -> None:
    assert len({cluster.replica_for(f"{POLLING}&t={i}") for i in range(10)}) == 1
    chosen = {}
    for i in range(2, 26):
        source = f"127.0.0.{i}"
        answers = {cluster.replica_for(f"{POLLING}&t={n}", source) for n in range(3)}
        assert len(answers) == 1, (source, answers)  # every request of this client: the same replica
        chosen[source] = answers.pop()
    assert set(chosen.values()) == {"A", "B"}  # and the clients are spread over both


def test_the_chat_page_cookie_keeps_the_replica_when_the_address_changes(cluster: Cluster) -> None:
    status, headers, _ = cluster.request("/chat")
    assert status == 200
    cookie = headers["set-cookie"]
    assert cookie.startswith("linli_node=") and "Secure" in cookie and "HttpOnly" in cookie
    assert headers["strict-transport-security"] == "max-age=31536000"  # not lost by the location's add_header
    node = cookie.split(";", 1)[0]
    status, headers, _ = cluster.request("/chat", headers={"Cookie": node})
    assert status == 200 and "set-cookie" not in headers  # set once
    assert "set-cookie" not in cluster.request(POLLING)[1]  # socket.io never sets it (the key must not change)
    replicas = {cluster.replica_for(POLLING, f"127.0.1.{i}", {"Cookie": node}) for i in range(1, 9)}
    assert len(replicas) == 1  # eight addresses, one resident, one replica
    cookies = {cluster.replica_for(POLLING, headers={"Cookie": f"linli_node=resident-{i}"}) for i in range(24)}
    assert cookies == {"A", "B"}


def test_websocket_upgrade_reaches_the_replica(cluster: Cluster) -> None:
    context = ssl.create_default_context(cafile=str(cluster.cert))
    with socket.create_connection(("127.0.0.1", cluster.https_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: linli.test\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    head = answer.decode(errors="replace").lower()
    assert head.startswith("http/1.1 101"), head
    assert "upgrade: websocket" in head and "s3pplmbitxaq9kygzzhzrbk+xoo=" in head
    upgraded = [h for r in cluster.replicas.values() for p, h in r.seen if "transport=websocket" in p]
    assert upgraded and upgraded[-1]["connection"] == "upgrade" and upgraded[-1]["upgrade"] == "websocket"
    assert upgraded[-1]["x-forwarded-for"] == "127.0.0.1"  # linli_proxy.conf's headers are sent


def test_other_routes_are_spread_over_the_replicas(cluster: Cluster) -> None:
    assert {cluster.replica_for("/console") for _ in range(6)} == {"A", "B"}
    assert cluster.replica_for("/api/me") in ("A", "B")


def test_private_routes_are_not_forwarded(cluster: Cluster) -> None:
    before = sum(len(r.seen) for r in cluster.replicas.values())
    for path in ("/metrics", "/ready", "/health", "/webhooks/rest/webhook", "/conversations/x/tracker", "/",
                 "/model", "/metricsx", "/chat/../metrics"):
        for method in ("GET", "POST"):
            status, _, _ = cluster.request(path, method=method, body=b"{}" if method == "POST" else None)
            assert status in (400, 404), (method, path, status)
    assert sum(len(r.seen) for r in cluster.replicas.values()) == before


def test_the_action_servers_are_reached_through_the_internal_listener(cluster: Cluster) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", cluster.action_port, timeout=10)
    conn.request("POST", "/webhook", body=b'{"next_action": "action_session_start"}',
                 headers={"Content-Type": "application/json", "Authorization": "Bearer t"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"actions"
    conn.close()
    assert cluster.actions.seen[-1][1]["authorization"] == "Bearer t"  # the shared secret passes through
    conn = http.client.HTTPConnection("127.0.0.1", cluster.action_port, timeout=10)
    conn.request("GET", "/actions")
    assert conn.getresponse().status == 404
    conn.close()


def test_the_desk_hit_test_reaches_an_action_server_through_the_internal_listener(cluster: Cluster) -> None:
    """The desk's hit testing runs on an action server (bot/web/hit_test.py), found through the
    action endpoint's address: nginx's internal listener must forward it."""
    conn = http.client.HTTPConnection("127.0.0.1", cluster.action_port, timeout=10)
    conn.request("POST", "/kb/hit-test", body=b'{"question": "q"}',
                 headers={"Content-Type": "application/json", "Authorization": "Bearer t"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"actions"
    conn.close()
    assert cluster.actions.seen[-1][0] == "/kb/hit-test"


def test_knowledge_base_uploads_may_be_larger_than_other_requests(cluster: Cluster) -> None:
    """A 5 MB document (base64 in JSON) passes; the same body elsewhere in /api is refused by nginx."""
    big = b'{"filename": "a.pdf", "content_base64": "' + b"A" * (5 * 1024 * 1024) + b'"}'
    status, _, _ = cluster.request("/api/kb/documents", method="POST", body=big,
                                   headers={"Content-Type": "application/json"})
    assert status == 200
    status, _, _ = cluster.request("/api/tickets/BX-1/notes", method="POST", body=big,
                                   headers={"Content-Type": "application/json"})
    assert status == 413


# Last: it takes replica A out of the pool for nginx's fail_timeout.
def test_a_replica_that_is_not_ready_or_down_is_skipped(cluster: Cluster) -> None:
    a = cluster.replicas["A"]
    sources = [f"127.0.0.{i}" for i in range(2, 26)]
    on_a = [s for s in sources if cluster.replica_for(POLLING, s) == "A"]
    assert on_a
    a.mode = "not_ready"  # a replica answering 503 (model loading, database gone)
    assert {cluster.replica_for("/console") for _ in range(4)} == {"B"}
    assert {cluster.replica_for(POLLING, s) for s in on_a} == {"B"}
    a.server.shutdown()  # and one that is gone
    a.server.server_close()
    assert {cluster.replica_for("/chat") for _ in range(4)} == {"B"}
    assert {cluster.replica_for(POLLING, s) for s in on_a} == {"B"}
