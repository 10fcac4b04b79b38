"""A local OpenAI-compatible server (llama-cpp-python's own) for tests and benchmarks of the ``openai`` backend.

Production points ``KNOWLEDGE_LLM_URL`` at the company's own endpoint (vLLM, llama.cpp,
Ollama …; README "Generator"). Here the same code path is exercised against a real
server: ``llama_cpp.server``'s FastAPI app serving the provisioned GGUF model.

Its extras (fastapi, uvicorn, pydantic 2 …) cannot live in ``.venv``: Rasa 3.6 pins
pydantic<1.10.10. They are installed once, offline from the configured mirror, into
``var/llm-server/site`` (``requirements-llm-server.txt``), which goes first on the
server process's ``sys.path`` only; the ``llama_cpp`` package comes from ``.venv``.
The app is served by uvicorn with websockets off because uvicorn would otherwise import
the older ``websockets`` that Rasa pins.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional

from .config import REPO_ROOT

SITE = REPO_ROOT / "var" / "llm-server" / "site"
# What ``python -m llama_cpp.server`` does (its app, served by uvicorn), with the extras' folder
# first on sys.path and uvicorn's websocket support off (no environment variables involved).
_LAUNCH = """
import sys
sys.path.insert(0, sys.argv[1])
import uvicorn
from llama_cpp.server.app import create_app
from llama_cpp.server.settings import ConfigFileSettings, ServerSettings
with open(sys.argv[2], encoding="utf-8") as handle:
    config = ConfigFileSettings.model_validate_json(handle.read())
app = create_app(server_settings=ServerSettings.model_validate(config), model_settings=config.models)
uvicorn.run(app, host=config.host, port=config.port, ws="none", log_level="warning")
"""
REQUIREMENTS = REPO_ROOT / "requirements-llm-server.txt"


def ensure_server_packages(site: Path = SITE) -> Path:
    """Install the server's extras into ``site`` unless already there; returns ``site``."""
    if (site / "pydantic_settings").is_dir() and (site / "fastapi").is_dir() and (site / "sse_starlette").is_dir():
        return site
    site.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    "-r", str(REQUIREMENTS)], check=True)
    return site


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalLLMServer:
    """``llama_cpp.server`` on 127.0.0.1 serving GGUF files under model aliases; a context manager.

    ``models`` maps the name clients send (``KNOWLEDGE_LLM_MODEL``) to a GGUF path.
    """

    def __init__(self, models: Dict[str, Path], n_ctx: int = 1024, n_threads: int = 1,
                 port: Optional[int] = None, log_path: Optional[Path] = None) -> None:
        self.models = {alias: Path(path) for alias, path in models.items()}
        self.n_ctx, self.n_threads = n_ctx, n_threads
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None
        self._tmp: Optional[tempfile.TemporaryDirectory] = None

    @property
    def url(self) -> str:
        """Base URL for ``KNOWLEDGE_LLM_URL``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> "LocalLLMServer":
        """Start the server and wait until ``/v1/models`` answers (models load at start-up)."""
        import json

        import requests

        site = ensure_server_packages()
        self._tmp = tempfile.TemporaryDirectory(prefix="llm-server-")
        config = Path(self._tmp.name) / "config.json"
        config.write_text(json.dumps({"host": "127.0.0.1", "port": self.port, "models": [
            {"model": str(path), "model_alias": alias, "n_ctx": self.n_ctx, "n_threads": self.n_threads,
             "n_threads_batch": self.n_threads, "verbose": False} for alias, path in self.models.items()]}))
        log = open(self.log_path or Path(self._tmp.name) / "server.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, str(site), str(config)],
                                     stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if requests.get(f"{self.url}/models", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        tail = self.log_tail()
        self.stop()
        raise TimeoutError(f"llama_cpp.server not ready within {timeout} s: {tail}")

    def log_tail(self, n: int = 2000) -> str:
        """The end of the server's log (for error messages)."""
        path = self.log_path or (Path(self._tmp.name) / "server.log" if self._tmp else None)
        try:
            return path.read_text(errors="replace")[-n:] if path else ""
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server process this object started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "LocalLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
