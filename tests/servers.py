"""Start the real Rasa server and action server as subprocesses for tests."""

from __future__ import annotations

import functools
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from bot.channels.identity import channel_of, resident_id, split
from knowledge.config import load_config

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def load_default_settings() -> None:
    """Give this process the same defaults as `make` (scripts/env.sh), without overriding the shell's."""
    out = subprocess.run(
        ["bash", "-c", "source scripts/env.sh && env -0"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for item in out.split(b"\0"):
        key, sep, value = item.decode(errors="replace").partition("=")
        if sep and key not in os.environ:
            os.environ[key] = value


@functools.lru_cache(maxsize=None)
def built_index() -> Path:
    """The index `make index` built (``KNOWLEDGE_INDEX``). The first call fixes it: tests/conftest.py
    makes it right after :func:`load_default_settings`, before any fixture points the process
    at another index (tests/knowledge/conftest.py's ``knowledge_env``)."""
    cfg = load_config()
    return cfg.path(cfg.index)


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240.0) -> None:
    """Poll ``url`` until it answers; fail with the server's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; log:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s; log:\n{log.read_text()[-4000:]}")


def post_json(url: str, payload: Any, timeout: float = 120.0, headers: Optional[Mapping[str, str]] = None) -> Any:
    """POST JSON and decode the JSON answer."""
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def get_json(url: str, timeout: float = 30.0, headers: Optional[Mapping[str, str]] = None) -> Any:
    """GET and decode a JSON answer."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=dict(headers or {})), timeout=timeout) as response:
        return json.loads(response.read())


def conversation_id(sender: str, channel: str = "rest") -> str:
    """The Rasa conversation of a resident: ``rest:<sender>`` for a REST test sender;
    an id that already names its channel (``wechat:o-...``) is returned unchanged."""
    return sender if channel_of(sender) else resident_id(channel, sender)


@dataclass
class Stack:
    """A running Linli service: Rasa server + action server + their databases.

    The REST channel and Rasa's HTTP API are closed unless configured; the test
    stack enables both with random tokens, which :meth:`chat` and :meth:`tracker` send.
    """

    rasa_url: str
    action_url: str
    database_url: str
    tracker_db: Path
    env: Dict[str, str]
    processes: List[subprocess.Popen] = field(default_factory=list)
    rest_token: str = ""
    api_token: str = ""
    action_token: str = ""

    def chat(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Send one message over the REST channel (as ``rest:<sender>``); return the bot's messages."""
        return post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message},
                         headers={"Authorization": f"Bearer {self.rest_token}"})

    def say(self, sender: str, message: str) -> str:
        """Send one message; return the bot's answers joined into one text."""
        return "\n".join(m.get("text", "") for m in self.chat(sender, message))

    def tracker(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        """The conversation tracker from Rasa's HTTP API (``sender`` on ``channel``, or a
        full conversation id such as ``wechat:o-123``)."""
        conversation = urllib.parse.quote(conversation_id(sender, channel), safe=":")
        return get_json(f"{self.rasa_url}/conversations/{conversation}/tracker?token={self.api_token}")

    def stop(self) -> None:
        """Terminate both servers."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def tickets_of(stack: Stack, sender: str, channel: str = "rest", limit: int = 100) -> List[Any]:
    """A test resident's tickets, newest first: the one lookup tests use.

    Tickets keep (channel, platform id): a REST test sender's are ``("rest", sender)``.
    """
    from sqlalchemy import create_engine

    from bot.tickets import TicketStore

    channel, platform = split(sender) if channel_of(sender) else (channel, sender)
    engine = create_engine(stack.database_url, future=True)
    try:
        return TicketStore(engine).list_for_sender(channel, platform, limit=limit)
    finally:
        engine.dispose()


def handoff_of(stack: Stack, sender: str, channel: str = "rest") -> Optional[Any]:
    """A test resident's latest handoff (any status), or ``None``; handoffs keep the conversation id."""
    from sqlalchemy import create_engine, inspect, select
    from sqlalchemy.orm import Session

    from bot.handoff.models import Handoff

    engine = create_engine(stack.database_url, future=True)
    try:
        if not inspect(engine).has_table(Handoff.__tablename__):
            return None
        with Session(engine) as session:
            return session.scalar(select(Handoff).where(Handoff.sender_id == conversation_id(sender, channel))
                                  .order_by(Handoff.id.desc()).limit(1))
    finally:
        engine.dispose()


def service_env(tokens: Mapping[str, str], database_url: str, tracker_store_url: str, tracker_db: str,
                action_endpoint: str, workdir: Path) -> Dict[str, str]:
    """The environment a test Linli server and action server run with (stacks and clusters)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ACTION_ENDPOINT_URL": action_endpoint,
        "TRACKER_STORE_URL": tracker_store_url,
        "TRACKER_STORE_DB": tracker_db,
        # a developer's legacy var/knowledge/unanswered.jsonl is never moved into a test database
        "KNOWLEDGE_UNANSWERED_LOG": str(workdir / "unanswered.jsonl"),
        # photos and voice the test servers keep (bot/media) never land in the repository's var/media
        "LINLI_MEDIA_DIR": str(workdir / "media"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        # Closed by default; the tests use REST and the HTTP API with their tokens.
        "LINLI_REST_TOKEN": tokens["rest"],
        "LINLI_ENABLE_API": "true",
        "RASA_AUTH_TOKEN": tokens["api"],
        "ACTION_SERVER_TOKEN": tokens["action"],
        # Every server of a test signs widget and desk sessions with the same key.
        "LINLI_SECRET_KEY": tokens["api"] + "-widget",
        # The desk tests talk plain HTTP with requests (which never sends Secure cookies over it).
        "LINLI_COOKIE_SECURE": "false",
        "LINLI_RETENTION_DAYS": "0",
    }


def start_stack(workdir: Path, model: Path, extra_env: Optional[Mapping[str, str]] = None) -> Stack:
    """Start an action server and a Rasa server on free ports, state under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, action_port = free_port(), free_port()
    database_url = f"sqlite:///{workdir / 'linli.db'}"
    tokens = {name: secrets.token_urlsafe(24) for name in ("rest", "api", "action")}
    env = {**service_env(tokens, database_url, "", str(workdir / "tracker.db"),
                         f"http://127.0.0.1:{action_port}/webhook", workdir), **(extra_env or {})}
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = subprocess.Popen(
        [PYTHON, "-m", "bot.action_server", "--actions", "actions", "--interface", "127.0.0.1",
         "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=action_log.open("w"), stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            PYTHON, "-m", "bot.server", "--model", str(model),
            "--interface", "127.0.0.1", "--port", str(rasa_port),
            "--endpoints", "endpoints.yml", "--credentials", env.get("LINLI_CREDENTIALS", "credentials.yml"),
        ],
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
    )
    stack = Stack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        database_url=database_url,
        tracker_db=workdir / "tracker.db",
        env=env,
        processes=[actions, rasa],
        rest_token=env["LINLI_REST_TOKEN"],
        api_token=env["RASA_AUTH_TOKEN"],
        action_token=env["ACTION_SERVER_TOKEN"],
    )
    try:
        wait_for(f"{stack.action_url}/health", actions, action_log)
        wait_for(f"{stack.rasa_url}/health", rasa, rasa_log)
    except Exception:
        stack.stop()
        raise
    return stack
