"""A real nginx for tests: the main configuration around a site, started in the foreground."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence

TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_nginx(binary: str, work: Path, site: str, ports: Sequence[int], worker_connections: int = 256,
              timeout: float = 20.0) -> subprocess.Popen:
    """Write ``work/nginx.conf`` around ``site``, check it (``nginx -t``), start nginx, wait for ``ports``.

    Raises RuntimeError with nginx's own message when the configuration is refused or nginx does
    not start listening in time.
    """
    for name in TEMP_DIRS:
        (work / name).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log {work}/logs/access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    default_type application/octet-stream;
{site}
}}
""")
    args = ["-p", str(work), "-c", str(conf)]
    check = subprocess.run([binary, "-t", *args], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused {conf}:\n{check.stderr}")
    process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL,
                               stderr=(work / "logs" / "stderr.log").open("w"))
    deadline = time.monotonic() + timeout
    while not all(_listening(port) for port in ports):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"nginx did not start: {(work / 'logs' / 'error.log').read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def stop_nginx(process: subprocess.Popen) -> None:
    """Stop nginx, killing it if it does not stop within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
