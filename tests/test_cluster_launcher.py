"""tests/cluster.py's own pieces, without starting Linli: the production nginx site with the
REST location the launcher adds, and the per-run PostgreSQL databases."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Tuple

import pytest

from tests import cluster


@pytest.fixture(scope="module")
def upstreams() -> Iterator[List[Tuple[ThreadingHTTPServer, List[str]]]]:
    """Two stand-ins (a replica, an action server) that answer their name and log the paths."""
    servers = []
    for name in ("replica", "actions"):
        seen: List[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # type: ignore[no-untyped-def]
                pass

            def do_POST(self, _name=name, _seen=seen) -> None:  # type: ignore[no-untyped-def]
                self.rfile.read(int(self.headers.get("content-length") or 0))
                _seen.append(self.path)
                body = _name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, seen))
    yield servers
    for server, _ in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def proxy(upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[cluster.Proxy]:
    if cluster.nginx_binary() is None:
        pytest.fail("nginx is not installed: run scripts/install_nginx.sh (make test does)")
    (replica, _), (actions, _) = upstreams
    started = cluster.start_nginx([replica.server_address[1]], [actions.server_address[1]],
                                  tmp_path_factory.mktemp("proxy"))
    yield started
    started.stop()


def _post(url: str, proxy: cluster.Proxy) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, b"{}", {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10, context=proxy.ssl_context()) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_rest_channel_reaches_a_replica_through_the_production_site(proxy: cluster.Proxy, upstreams) -> None:
    (_, replica_seen), _ = upstreams
    assert _post(f"https://127.0.0.1:{proxy.https_port}/webhooks/rest/webhook", proxy) == (200, b"replica")
    assert replica_seen[-1] == "/webhooks/rest/webhook"


def test_the_rest_of_the_production_rules_still_hold(proxy: cluster.Proxy, upstreams) -> None:
    (_, replica_seen), _ = upstreams
    before = len(replica_seen)
    for path in ("/webhooks/rest/", "/status", "/conversations/x/tracker", "/metrics"):
        assert _post(f"https://127.0.0.1:{proxy.https_port}{path}", proxy)[0] == 404, path
    assert len(replica_seen) == before


def test_replicas_reach_the_action_servers_through_the_internal_port(proxy: cluster.Proxy, upstreams) -> None:
    _, (_, action_seen) = upstreams
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{proxy.action_port}/webhook", b"{}"),
                                timeout=10) as response:
        assert response.read() == b"actions"
    assert action_seen[-1] == "/webhook"


def test_per_run_databases_are_created_empty_and_dropped() -> None:
    import psycopg2
    from sqlalchemy import create_engine, inspect, text

    name = f"linli_launcher_test_{uuid.uuid4().hex[:8]}"
    try:
        url = cluster.create_database(name)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {cluster.PG_ADMIN_URL}: {exc}")
    engine = create_engine(url, future=True)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    cluster.drop_database(name)
    admin = create_engine(cluster.PG_ADMIN_URL, future=True)
    try:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None
    finally:
        admin.dispose()
    with pytest.raises(ValueError):
        cluster.create_database("x; DROP DATABASE test")
