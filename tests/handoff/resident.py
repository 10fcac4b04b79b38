"""A resident on the web widget's socket.io channel, as the widget talks to Rasa."""

from __future__ import annotations

import queue
import time
from typing import List

import requests
import socketio


class WidgetResident:
    """Connects like the chat widget (session persistence) and collects every bot message it receives."""

    def __init__(self, base_url: str) -> None:
        # The server issues (and signs) widget sessions; the token is what proves one.
        issued = requests.post(f"{base_url}/chat/session", timeout=20).json()
        self.session_id, self.session_token = issued["session_id"], issued["session_token"]
        self.received: "queue.Queue[str]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.client.on("session_confirm", lambda data: confirmed.put(data))
        self.client.on("bot_uttered", lambda data: self.received.put((data or {}).get("text", "")))
        self.client.connect(base_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=20)
        self.client.emit("session_request", {"session_token": self.session_token})
        assert confirmed.get(timeout=20) == self.session_id

    def say(self, text: str) -> None:
        """Send a message as the resident."""
        self.client.emit("user_uttered", {"message": text})

    def wait_for(self, needle: str, timeout: float = 60.0) -> List[str]:
        """Messages received until one contains ``needle`` (fails after ``timeout``)."""
        seen: List[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.received.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(message)
            if needle in message:
                return seen
        raise AssertionError(f"no message containing {needle!r} within {timeout}s; got {seen}")

    def drain(self, seconds: float) -> List[str]:
        """Everything received in the next ``seconds``."""
        seen: List[str] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                seen.append(self.received.get(timeout=max(0.05, deadline - time.monotonic())))
            except queue.Empty:
                break
        return seen

    def close(self) -> None:
        self.client.disconnect()
