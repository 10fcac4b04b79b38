"""Start a Linli cluster for tests and benchmarks: N server replicas and N action servers
behind a real nginx running the production site (deploy/nginx/linli-cluster.conf.template,
rendered by deploy/render_nginx.py).

Two back ends:

* ``postgres`` (production, ``deploy/endpoints.cluster.yml``): conversations and Linli's data
  in two fresh PostgreSQL databases made for this cluster (dropped by :meth:`Cluster.stop`),
  one conversation at a time across replicas through Redis (Rasa's ``RedisLockStore``), tracker
  events through RabbitMQ (Rasa's Pika broker). Any number of replicas.
* ``sqlite`` (the embedded defaults of ``make run``, ``endpoints.yml``): one replica only,
  SQLite files under the work directory, in-memory lock store.

As in production, residents reach the replicas through nginx over HTTPS (self-signed here;
``least_conn``, a replica that refuses connections is skipped) and the replicas reach the
action servers through nginx's internal port. The one addition to the production site is the
REST channel's location (production keeps it private), which :meth:`Cluster.chat` uses. Every
replica shares the tokens and the secret key; processes and readiness checks come from
:mod:`tests.servers`.

Usage::

    with start_cluster(tmp / "c", model, replicas=2) as cluster:
        cluster.say("alice", "你好")            # through nginx
        cluster.kill(0)                         # SIGKILL replica 0's server; nginx moves on
        cluster.revive(0)                       # start it again on its port
        tickets_of(cluster, "alice")            # Cluster has the Stack attributes tickets_of needs

:func:`require_services` raises :class:`ServiceUnavailable` (tests skip on it) when PostgreSQL,
Redis, RabbitMQ or nginx is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from tests.nginx import run_nginx, stop_nginx
from tests.servers import PYTHON, ROOT, conversation_id, free_port, get_json, service_env, wait_for

BACKENDS = ("postgres", "sqlite")
CLUSTER_ENDPOINTS = "deploy/endpoints.cluster.yml"
EMBEDDED_ENDPOINTS = "endpoints.yml"
#: The PostgreSQL server the cluster makes its databases on (trust auth, user postgres).
PG_ADMIN_URL = os.environ.get("LINLI_CLUSTER_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = (os.environ.get("LINLI_CLUSTER_REDIS_HOST", "127.0.0.1"), int(os.environ.get("LINLI_CLUSTER_REDIS_PORT", "6379")))
RABBITMQ = (os.environ.get("LINLI_CLUSTER_RABBITMQ_HOST", "127.0.0.1"),
            int(os.environ.get("LINLI_CLUSTER_RABBITMQ_PORT", "5672")))
#: Redis database for the lock store and the channels' key/value records (keys are per conversation).
REDIS_DB = os.environ.get("LINLI_CLUSTER_REDIS_DB", "3")
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "linli-cluster.conf.template"
RENDERER = ROOT / "deploy" / "render_nginx.py"


class ServiceUnavailable(RuntimeError):
    """A service the cluster needs (PostgreSQL, Redis, RabbitMQ, nginx) is not there."""


# --------------------------------------------------------------------------- services


def nginx_binary() -> Optional[str]:
    """The nginx executable (scripts/install_nginx.sh installs it), or ``None``."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx")
                                          if os.path.exists(p)), None)


def _reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def require_services(backend: str = "postgres") -> None:
    """Raise :class:`ServiceUnavailable` naming what is missing for ``backend``."""
    missing = [] if nginx_binary() else ["nginx (run scripts/install_nginx.sh)"]
    if backend == "postgres":
        pg = urllib.parse.urlsplit(PG_ADMIN_URL)
        for name, (host, port) in (("PostgreSQL", (pg.hostname or "127.0.0.1", pg.port or 5432)),
                                   ("Redis", REDIS), ("RabbitMQ", RABBITMQ)):
            if not _reachable(host, port):
                missing.append(f"{name} on {host}:{port}")
    if missing:
        raise ServiceUnavailable("not available: " + ", ".join(missing))


def _pg_url(database: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(PG_ADMIN_URL)._replace(path=f"/{database}"))


def _pg_admin(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def create_database(name: str) -> str:
    """A new, empty PostgreSQL database; returns its SQLAlchemy URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"unsafe database name {name!r}")
    _pg_admin(f'CREATE DATABASE "{name}"')
    return _pg_url(name)


def drop_database(name: str) -> None:
    """Drop ``name`` even while something is still connected (PostgreSQL 13+)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"unsafe database name {name!r}")
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- processes


def delete_rabbitmq(exchange: str, queue: str) -> None:
    """Delete a test cluster's exchange and queue (a durable queue would otherwise collect events)."""
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(host=RABBITMQ[0], port=RABBITMQ[1],
                                            login=os.environ.get("RABBITMQ_USERNAME", "guest"),
                                            password=os.environ.get("RABBITMQ_PASSWORD", "guest"))
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(delete())


@dataclass
class Replica:
    """One Linli server and one action server (behind nginx, not paired with each other)."""

    index: int
    rasa_port: int
    action_port: int
    env: Dict[str, str]
    workdir: Path
    rasa: Optional[subprocess.Popen] = None
    actions: Optional[subprocess.Popen] = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def rasa_log(self) -> Path:
        return self.workdir / f"rasa-{self.index}.log"

    @property
    def action_log(self) -> Path:
        return self.workdir / f"actions-{self.index}.log"

    def alive(self) -> bool:
        """Both processes are running."""
        return all(p is not None and p.poll() is None for p in (self.rasa, self.actions))

    def start_actions(self) -> None:
        self.actions = subprocess.Popen(
            [PYTHON, "-m", "bot.action_server", "--actions", "actions", "--interface", "127.0.0.1",
             "--port", str(self.action_port)],
            cwd=ROOT, env=self.env, stdout=self.action_log.open("a"), stderr=subprocess.STDOUT,
        )

    def start_rasa(self, model: Path, endpoints: str) -> None:
        self.rasa = subprocess.Popen(
            [PYTHON, "-m", "bot.server", "--model", str(model), "--interface", "127.0.0.1",
             "--port", str(self.rasa_port), "--endpoints", endpoints,
             "--credentials", self.env.get("LINLI_CREDENTIALS", "credentials.yml")],
            cwd=ROOT, env=self.env, stdout=self.rasa_log.open("a"), stderr=subprocess.STDOUT,
        )

    def wait_actions(self, timeout: float = 300.0) -> None:
        assert self.actions is not None
        wait_for(f"{self.action_url}/health", self.actions, self.action_log, timeout)

    def wait_rasa(self, timeout: float = 300.0) -> None:
        assert self.rasa is not None
        wait_for(f"{self.rasa_url}/health", self.rasa, self.rasa_log, timeout)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal both processes and wait for them (SIGKILL after 20 s)."""
        running = [p for p in (self.rasa, self.actions) if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(sig)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Cluster:
    """Running replicas behind nginx, with the attributes of :class:`tests.servers.Stack` that
    :func:`tests.servers.tickets_of` and :func:`tests.servers.handoff_of` use."""

    backend: str
    workdir: Path
    model: Path
    endpoints: str
    replicas: List[Replica]
    database_url: str
    tracker_store_url: str
    env: Dict[str, str]
    rest_token: str
    api_token: str
    action_token: str
    proxy: Optional["Proxy"] = None
    databases: List[str] = field(default_factory=list)

    @property
    def proxy_url(self) -> str:
        """nginx's public (HTTPS) address; trust it with :meth:`ssl_context`."""
        assert self.proxy is not None, "nginx is not running"
        return f"https://127.0.0.1:{self.proxy.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts nginx's self-signed certificate."""
        assert self.proxy is not None, "nginx is not running"
        return self.proxy.ssl_context()

    def chat(self, sender: str, message: str, timeout: float = 120.0) -> List[Dict[str, Any]]:
        """One message over the REST channel through nginx; the bot's messages."""
        request = urllib.request.Request(
            f"{self.proxy_url}/webhooks/rest/webhook", json.dumps({"sender": sender, "message": message}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.rest_token}"})
        with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context()) as response:
            body = response.read()
        return json.loads(body) if body else []

    def say(self, sender: str, message: str) -> str:
        """One message; the bot's answers joined into one text."""
        return "\n".join(m.get("text", "") for m in self.chat(sender, message))

    def tracker(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        """The conversation tracker from the HTTP API of a running replica (any: they share it)."""
        replica = next(r for r in self.replicas if r.rasa is not None and r.rasa.poll() is None)
        conversation = urllib.parse.quote(conversation_id(sender, channel), safe=":")
        return get_json(f"{replica.rasa_url}/conversations/{conversation}/tracker?token={self.api_token}")

    def kill(self, index: int, sig: int = signal.SIGKILL, actions: bool = False) -> None:
        """Stop replica ``index``'s server abruptly (a crash); its action server too with ``actions``."""
        replica = self.replicas[index]
        for process in (replica.rasa, replica.actions if actions else None):
            if process is not None and process.poll() is None:
                process.send_signal(sig)
                process.wait(timeout=30)

    def revive(self, index: int, timeout: float = 300.0) -> None:
        """Start replica ``index`` again on its ports (after :meth:`kill`) and wait until it answers."""
        replica = self.replicas[index]
        if replica.actions is None or replica.actions.poll() is not None:
            replica.start_actions()
            replica.wait_actions(timeout)
        if replica.rasa is None or replica.rasa.poll() is not None:
            replica.start_rasa(self.model, self.endpoints)
            replica.wait_rasa(timeout)

    def stop(self) -> None:
        """Stop nginx and every replica, then drop this cluster's databases."""
        if self.proxy is not None:
            self.proxy.stop()
        for replica in self.replicas:
            replica.stop()
        if self.env.get("RABBITMQ_QUEUE", "").startswith("linli_test_"):
            try:
                delete_rabbitmq(self.env["RABBITMQ_EXCHANGE"], self.env["RABBITMQ_QUEUE"])
            except Exception as exc:  # a leftover queue is harmless here; say so
                print(f"cluster: could not delete RabbitMQ queue {self.env['RABBITMQ_QUEUE']}: {exc}")
        for name in self.databases:
            try:
                drop_database(name)
            except Exception as exc:  # keep dropping the others; say which one stays
                print(f"cluster: could not drop database {name}: {exc}")
        self.databases = []

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------- nginx


#: Added to the rendered production site: the REST channel, which production keeps private (404),
#: is how tests and the load benchmark talk to the cluster.
REST_LOCATION = "    location = /webhooks/rest/webhook { proxy_pass http://linli; include %s; }\n"


@dataclass
class Proxy:
    """nginx in front of the cluster: HTTPS for residents, plain HTTP inside for the action servers."""

    process: subprocess.Popen
    https_port: int
    action_port: int
    cert: Path
    conf: Path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this proxy's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def stop(self) -> None:
        if self.process.poll() is None:
            stop_nginx(self.process)


def _renderer() -> Any:
    """deploy/render_nginx.py as a module (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("linli_render_nginx", RENDERER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render_site(replica_ports: Sequence[int], action_ports: Sequence[int], https_port: int, http_port: int,
                action_port: int, cert: Path, key: Path, proxy_include: Path, expose_rest: bool = True) -> str:
    """deploy/nginx/linli-cluster.conf.template for these ports (deploy/render_nginx.py), plus the
    REST channel location when ``expose_rest``."""
    render = _renderer()
    site = render.render(render.cluster_values(
        "linli.test", [f"127.0.0.1:{p}" for p in replica_ports], [f"127.0.0.1:{p}" for p in action_ports],
        listen=f"127.0.0.1:{https_port}", listen_http=f"127.0.0.1:{http_port}",
        action_listen=f"127.0.0.1:{action_port}", certificate=str(cert), key=str(key),
        proxy_include=str(proxy_include)))
    if expose_rest:
        anchor = "    location / { return 404; }\n"
        if anchor not in site:
            raise RuntimeError(f"{NGINX_TEMPLATE} no longer has {anchor.strip()!r}: update tests/cluster.py")
        site = site.replace(anchor, anchor + REST_LOCATION % proxy_include, 1)
    return site


def start_nginx(replica_ports: Sequence[int], action_ports: Sequence[int], workdir: Path,
                expose_rest: bool = True, timeout: float = 20.0) -> Proxy:
    """nginx in the foreground with the cluster site on free ports (self-signed certificate)."""
    from tests.security.conftest import _self_signed

    binary = nginx_binary()
    if binary is None:
        raise ServiceUnavailable("nginx is not installed: run scripts/install_nginx.sh")
    work = workdir / "nginx"
    work.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed(work)
    proxy_include = work / "linli_proxy.conf"
    proxy_include.write_text((ROOT / "deploy" / "nginx" / "linli_proxy.conf").read_text())
    https_port, http_port, action_port = free_port(), free_port(), free_port()
    site = render_site(replica_ports, action_ports, https_port, http_port, action_port, cert, key, proxy_include,
                       expose_rest)
    process = run_nginx(binary, work, site, [https_port, action_port], worker_connections=4096, timeout=timeout)
    conf = work / "nginx.conf"
    return Proxy(process, https_port, action_port, cert, conf)


# --------------------------------------------------------------------------- start


def cluster_env(backend: str, tokens: Mapping[str, str], database_url: str, tracker_store_url: str,
                tracker_db: str, action_endpoint: str, workdir: Path,
                extra_env: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment every replica and action server shares."""
    run_id = uuid.uuid4().hex[:12]
    env = service_env(tokens, database_url, tracker_store_url, tracker_db, action_endpoint, workdir)
    env["LINLI_PROXIES_COUNT"] = "1"  # behind exactly one proxy: nginx
    if backend == "postgres":
        env.update({
            "REDIS_HOST": REDIS[0], "REDIS_PORT": str(REDIS[1]), "REDIS_LOCK_DB": REDIS_DB,
            "REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
            "RABBITMQ_HOST": RABBITMQ[0], "RABBITMQ_PORT": str(RABBITMQ[1]),
            "RABBITMQ_USERNAME": os.environ.get("RABBITMQ_USERNAME", "guest"),
            "RABBITMQ_PASSWORD": os.environ.get("RABBITMQ_PASSWORD", "guest"),
            # an exchange and queue of its own: clusters running at once never see each other's
            # events (Cluster.stop deletes them)
            "RABBITMQ_EXCHANGE": f"linli_test_{run_id}", "RABBITMQ_QUEUE": f"linli_test_{run_id}",
        })
    else:
        env.pop("REDIS_URL", None)
    env.update(extra_env or {})
    return env


def start_cluster(workdir: Path, model: Path, replicas: int = 2, backend: str = "postgres",
                  extra_env: Optional[Mapping[str, str]] = None, timeout: float = 300.0) -> Cluster:
    """Start ``replicas`` Linli servers and as many action servers behind nginx; state under ``workdir``.

    The action servers and replica 0 start first (replica 0 brings the new databases to the
    current schema); the other replicas start once it answers. On failure everything started
    is stopped and the databases are dropped.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    if backend == "sqlite" and replicas != 1:
        raise ValueError("the embedded defaults (SQLite, in-memory locks) serve one replica only")
    require_services(backend)
    workdir.mkdir(parents=True, exist_ok=True)
    tokens = {name: secrets.token_urlsafe(24) for name in ("rest", "api", "action")}
    databases: List[str] = []
    if backend == "postgres":
        run = f"{time.strftime('%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
        names = (f"linli_cluster_{run}", f"linli_cluster_{run}_rasa")
        try:
            for name in names:
                create_database(name)
                databases.append(name)
        except Exception:
            for name in databases:
                drop_database(name)
            raise
        database_url, tracker_url, tracker_db = _pg_url(names[0]), _pg_url(names[1]), names[1]
        endpoints = CLUSTER_ENDPOINTS
    else:
        database_url, tracker_url, tracker_db = f"sqlite:///{workdir / 'linli.db'}", "", str(workdir / "tracker.db")
        endpoints = EMBEDDED_ENDPOINTS
    members = [Replica(i, free_port(), free_port(), {}, workdir) for i in range(replicas)]
    cluster = Cluster(backend=backend, workdir=workdir, model=model, endpoints=endpoints, replicas=members,
                      database_url=database_url, tracker_store_url=tracker_url, env={},
                      rest_token=tokens["rest"], api_token=tokens["api"], action_token=tokens["action"],
                      databases=databases)
    try:
        cluster.proxy = start_nginx([r.rasa_port for r in members], [r.action_port for r in members], workdir)
        cluster.env = cluster_env(backend, tokens, database_url, tracker_url, tracker_db,
                                  f"http://127.0.0.1:{cluster.proxy.action_port}/webhook", workdir, extra_env)
        for replica in members:
            replica.env = cluster.env
            replica.start_actions()
        members[0].start_rasa(model, endpoints)
        for replica in members:
            replica.wait_actions(timeout)
        members[0].wait_rasa(timeout)
        for replica in members[1:]:
            replica.start_rasa(model, endpoints)
        for replica in members[1:]:
            replica.wait_rasa(timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster
