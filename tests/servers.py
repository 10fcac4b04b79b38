"""Start the real Rasa server and action server as subprocesses for tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


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


def get_json(url: str, timeout: float = 30.0) -> Any:
    """GET and decode a JSON answer."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class Stack:
    """A running Linli service: Rasa server + action server + their databases."""

    rasa_url: str
    action_url: str
    database_url: str
    tracker_db: Path
    env: Dict[str, str]
    processes: List[subprocess.Popen] = field(default_factory=list)

    def chat(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Send one message over the REST channel; return the bot's messages."""
        return post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message})

    def say(self, sender: str, message: str) -> str:
        """Send one message; return the bot's answers joined into one text."""
        return "\n".join(m.get("text", "") for m in self.chat(sender, message))

    def tracker(self, sender: str) -> Dict[str, Any]:
        """The conversation tracker from Rasa's HTTP API."""
        return get_json(f"{self.rasa_url}/conversations/{sender}/tracker")

    def stop(self) -> None:
        """Terminate both servers."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def start_stack(workdir: Path, model: Path, extra_env: Optional[Mapping[str, str]] = None) -> Stack:
    """Start an action server and a Rasa server on free ports, state under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, action_port = free_port(), free_port()
    database_url = f"sqlite:///{workdir / 'linli.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_STORE_URL": "",
        "TRACKER_STORE_DB": str(workdir / "tracker.db"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = subprocess.Popen(
        [PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
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
    )
    try:
        wait_for(f"{stack.action_url}/health", actions, action_log)
        wait_for(f"{stack.rasa_url}/health", rasa, rasa_log)
    except Exception:
        stack.stop()
        raise
    return stack
