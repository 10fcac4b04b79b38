"""`make run`'s last step (scripts/run.sh): both servers start, answer, and stop on Ctrl-C."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.servers import ROOT, free_port, post_json


def _read_until(fd: int, pattern: str, timeout: float) -> str:
    """Read the terminal until ``pattern`` appears; fail with what was printed."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if re.search(pattern, seen.decode(errors="replace")):
                return seen.decode(errors="replace")
    raise AssertionError(f"{pattern!r} not printed within {timeout:.0f}s; output:\n{seen.decode(errors='replace')[-3000:]}")


def _port_open(port: int) -> bool:
    return subprocess.run(
        ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True
    ).returncode == 0


def test_run_script_serves_a_conversation_and_ctrl_c_stops_both_servers(tmp_path: Path, trained_model: Path) -> None:
    rasa_port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'linli.db'}",
        "TRACKER_STORE_URL": "",
        "TRACKER_STORE_DB": str(tmp_path / "tracker.db"),
        "MODEL": str(trained_model),
    }
    # A real terminal, so that Ctrl-C is delivered the way a person sends it.
    pid, fd = pty.fork()
    if pid == 0:  # child: the shell a person would type `make run` into
        os.chdir(ROOT)
        os.execvpe("bash", ["bash", "-c", "source scripts/env.sh && PY=.venv/bin/python exec scripts/run.sh"], env)
    try:
        banner = _read_until(fd, r"Ctrl-C stops both", timeout=300)
        assert "Linli is running" in banner and "make shell" in banner and "/chat" in banner
        # REST needs a token: LINLI_REST_TOKEN, else the local one run.sh keeps in var/rest_token.
        token = env.get("LINLI_REST_TOKEN") or (ROOT / "var" / "rest_token").read_text().strip()
        answers = post_json(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", {"sender": "run", "message": "你好"},
                            headers={"Authorization": f"Bearer {token}"})
        assert any("邻里" in a.get("text", "") for a in answers)

        os.write(fd, b"\x03")  # Ctrl-C
        _read_until(fd, r"Stopping", timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (_port_open(rasa_port) or _port_open(action_port)):
            time.sleep(0.5)
        assert not _port_open(rasa_port) and not _port_open(action_port)
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
        os.close(fd)
