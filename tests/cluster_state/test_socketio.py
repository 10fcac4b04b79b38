"""The widget's socket.io rooms across replicas (bot/channels/webchat.py).

Two pairs of replicas (tests/cluster_state/socketio_app.py, each a Sanic app with
the widget's channel) run as subprocesses: one pair with ``REDIS_URL``, one
without. A python-socketio client plays the widget on replica A (it connects,
sends ``session_request`` and is put in its conversation's room); replica B then
sends to that conversation as the desk sends a staff reply.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List

import pytest

from tests.servers import PYTHON, ROOT, free_port, wait_for


@dataclass
class Replica:
    url: str
    process: subprocess.Popen
    log: Path

    def emit(self, session_id: str, text: str) -> None:
        """Send ``text`` to the widget conversation from this replica (``POST /emit``)."""
        request = urllib.request.Request(f"{self.url}/emit", json.dumps({"session_id": session_id, "text": text}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response) == {"sent": True}


def _start(name: str, redis_url: str, tmp: Path) -> Replica:
    port, log = free_port(), tmp / f"replica-{name}.log"
    env = {**os.environ, "REDIS_URL": redis_url, "LINLI_SECRET_KEY": SECRET}
    with open(log, "wb") as out:
        process = subprocess.Popen([PYTHON, "-m", "tests.cluster_state.socketio_app", "--port", str(port),
                                    "--name", name], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Replica(f"http://127.0.0.1:{port}", process, log)


SECRET = secrets.token_hex(16)


@pytest.fixture(scope="module")
def replicas(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Replica]]:
    """``shared_a``/``shared_b`` on Redis, ``local_a``/``local_b`` without; all started in parallel."""
    tmp = tmp_path_factory.mktemp("socketio")
    started = {name: _start(name, redis_url if name.startswith("shared") else "", tmp)
               for name in ("shared_a", "shared_b", "local_a", "local_b")}
    try:
        for name, replica in started.items():
            wait_for(f"{replica.url}/ready", replica.process, replica.log, timeout=60)
            with urllib.request.urlopen(f"{replica.url}/ready", timeout=5) as response:
                manager = json.load(response)["manager"]
            assert manager == ("AsyncRedisManager" if name.startswith("shared") else "AsyncManager"), name
        _wait_for_subscribers(redis_url, 2)
        yield started
    finally:
        for replica in started.values():
            replica.process.terminate()
        for replica in started.values():
            try:
                replica.process.wait(10)
            except subprocess.TimeoutExpired:
                replica.process.kill()


def _wait_for_subscribers(redis_url: str, count: int) -> None:
    """Both shared replicas subscribe at start-up (not on their first browser): wait for it."""
    import redis

    from bot.channels.state import redis_channel

    channel = redis_channel("socketio", redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replicas did not subscribe to {channel}")
    finally:
        client.close()


class Widget:
    """A python-socketio client doing what bot/web/static/chat.js does."""

    def __init__(self) -> None:
        import socketio

        self.client = socketio.AsyncClient(reconnection=False)
        self.messages: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.session_id = ""
        confirmed: "asyncio.Future[str]" = asyncio.get_running_loop().create_future()
        self.confirmed = confirmed

        @self.client.on("session_confirm")
        async def _confirm(session_id: str) -> None:
            if not confirmed.done():
                confirmed.set_result(session_id)

        @self.client.on("bot_uttered")
        async def _message(data: Dict[str, Any]) -> None:
            await self.messages.put(data)

    async def open(self, url: str) -> str:
        """Connect and join the room, as the widget does on a first visit.

        Long polling only, the widget's first transport: python-engineio's asyncio client
        needs aiohttp 3.10+ for websockets and Rasa pins 3.9. Rooms and emits do not
        depend on the transport."""
        await self.client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
        await self.client.emit("session_request", {"session_token": None})  # a first visit: a new session
        self.session_id = await asyncio.wait_for(self.confirmed, 10)
        return self.session_id

    async def close(self) -> None:
        """Drop the connection without waiting out the pending long poll (~30 s otherwise)."""
        eio = self.client.eio
        loops = [task for task in (eio.read_loop_task, eio.write_loop_task) if task is not None]
        await eio.disconnect(abort=True)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    async def texts(self, count: int, timeout: float) -> List[str]:
        """The next ``count`` messages' texts; fewer if they do not come within ``timeout`` s."""
        texts: List[str] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(texts) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                texts.append((await asyncio.wait_for(self.messages.get(), remaining))["text"])
            except asyncio.TimeoutError:
                break
        return texts


@pytest.fixture
async def widget() -> AsyncIterator[Widget]:
    client = Widget()
    yield client
    await client.close()


async def test_a_staff_reply_sent_through_replica_b_reaches_the_widget_on_replica_a(replicas, widget: Widget) -> None:
    session_id = await widget.open(replicas["shared_a"].url)
    started = time.perf_counter()
    await asyncio.to_thread(replicas["shared_b"].emit, session_id, "from B")
    assert await widget.texts(1, 10) == ["from B"]
    print(f"cross-replica socket.io delivery after {(time.perf_counter() - started) * 1000:.1f} ms")
    # The replica the widget is on still delivers, and each message arrives once.
    await asyncio.to_thread(replicas["shared_a"].emit, session_id, "from A")
    await asyncio.to_thread(replicas["shared_b"].emit, session_id, "from B again")
    assert sorted(await widget.texts(3, 1.0)) == ["from A", "from B again"]


async def test_without_redis_the_reply_from_replica_b_is_lost(replicas, widget: Widget) -> None:
    """The situation before: proves the test above would fail without the shared rooms."""
    session_id = await widget.open(replicas["local_a"].url)
    await asyncio.to_thread(replicas["local_b"].emit, session_id, "from B")
    await asyncio.to_thread(replicas["local_a"].emit, session_id, "from A")
    # A's own message arrives (the widget is listening); B's never does.
    assert await widget.texts(2, 1.5) == ["from A"]
