"""The ``openai`` generator backend against real local servers.

* llama-cpp-python's own OpenAI-compatible server (``llama_cpp.server``) serving the
  provisioned Gemma-3-270M GGUF with a small context: one zh and one en question; the
  server must really answer, and what the resident gets must be grounded and cited.
* A local socket that accepts the request and never answers: the answer falls back to
  extraction within the timeout, and the endpoint is skipped during its cool-down.
* A stdlib HTTP server replying with fixed completions: an invented phone number and
  an "I don't know" are rejected and the extractive answer is given instead.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List

import pytest

from knowledge.generation import GeneratorUnavailable, OpenAIGenerator, cited_messages
from knowledge.grounding import unsupported_facts
from knowledge.records import citation


def _answerer(demo_index: Path, url: str, **overrides):
    from knowledge.answer import Answerer
    from knowledge.config import load_config

    cfg = load_config().with_overrides(generator="openai", llm_url=url, unanswered_log=str(demo_index / "u.jsonl"),
                                       **overrides)
    return Answerer(cfg, demo_index, "openai")


def _support(answerer, question: str, lang: str) -> List[str]:
    hits = answerer.retriever.search(question, k=answerer.cfg.top_k, language=lang)
    return [f"{citation(h.chunk, lang)} {h.chunk.title} {h.chunk.text}" for h in hits]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    from knowledge.config import resolve_model
    from knowledge.llm_server import LocalLLMServer

    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (requirements-llama.txt)")
    gguf = next(resolve_model("gemma-3-270m").glob("*.gguf"))
    with LocalLLMServer({"gemma-3-270m": gguf}, n_ctx=1024, n_threads=1) as server:
        yield server.url


@pytest.mark.parametrize("question, lang, cited", [
    ("物业管理用房归谁所有？", "zh", "来源：《物业管理条例》第三十七条"),
    ("How do I pay the management fee?", "en", "Source: FAQ — Fees and payment"),
])
def test_local_llama_cpp_server_answers_grounded_and_cited(demo_index, llama_server, question, lang, cited) -> None:
    answerer = _answerer(demo_index, llama_server, llm_model="gemma-3-270m", llm_timeout_s=90, max_new_tokens=60)
    result = answerer.ask(question, lang, log_unanswered=False, force_generate=True)
    assert result.generated, f"the server gave no answer: {result.unsupported}"  # it really answered
    assert not any(u.startswith("generator failed") for u in result.unsupported), result.unsupported
    assert result.mode in ("generated", "fallback") and not result.abstained
    # whichever answer the resident gets (the model's, or extraction after a rejected one) is grounded and cited
    assert unsupported_facts(result.answer, _support(answerer, question, lang), question) == []
    assert cited in result.reply_text()
    if result.mode == "fallback":
        assert result.unsupported, "a model answer is replaced only for a stated reason"


@pytest.fixture()
def hanging_endpoint() -> Iterator[str]:
    """A TCP socket that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: List[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_a_hanging_server_falls_back_to_extraction_within_the_timeout(demo_index, hanging_endpoint) -> None:
    answerer = _answerer(demo_index, hanging_endpoint, llm_timeout_s=1.5, llm_cooldown_s=60)
    t0 = time.monotonic()
    result = answerer.ask("物业管理用房归谁所有？", "zh", log_unanswered=False, force_generate=True)
    elapsed = time.monotonic() - t0
    assert 1.4 <= elapsed < 6.0, elapsed  # the 1.5 s timeout, then a concise answer (a loaded 2-core machine)
    assert result.mode == "fallback" and result.unsupported[0].startswith("generator failed: GeneratorUnavailable")
    assert result.answer.startswith("根据《物业管理条例》第三十七条：物业管理用房的所有权依法属于业主。")
    # during the cool-down the dead endpoint is not waited on again
    t0 = time.monotonic()
    again = answerer.ask("物业管理用房归谁所有？", "zh", log_unanswered=False, force_generate=True)
    assert time.monotonic() - t0 < 1.0 and again.mode == "fallback" and "cool-down" in again.unsupported[0]


def test_a_refused_connection_fails_fast(demo_index) -> None:
    from knowledge.llm_server import free_port

    generator = OpenAIGenerator(_answerer(demo_index, f"http://127.0.0.1:{free_port()}/v1").cfg)
    t0 = time.monotonic()
    with pytest.raises(GeneratorUnavailable):
        generator.generate("物业费怎么交？", ["物业费按季度预缴。"], "zh")
    assert time.monotonic() - t0 < 2.0


class _FixedReply(BaseHTTPRequestHandler):
    """``/chat/completions`` answering with the class's ``reply``; remembers the last request body."""

    reply = ""
    last: dict = {}

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        type(self).last = {"path": self.path, "auth": self.headers.get("Authorization"),
                           "body": json.loads(self.rfile.read(length))}
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def fixed_endpoint() -> Iterator[type]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FixedReply)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FixedReply.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield _FixedReply
    server.shutdown()
    server.server_close()


def test_what_is_sent_and_an_ungrounded_or_unknowing_reply_falls_back(demo_index, fixed_endpoint, monkeypatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_LLM_API_KEY", "test-key-123")
    answerer = _answerer(demo_index, fixed_endpoint.url, llm_model="qwen2.5-7b-instruct")
    fixed_endpoint.reply = "根据《物业管理条例》第三十七条，物业管理用房属于业主，详询电话13800001111。"
    result = answerer.ask("物业管理用房归谁所有？", "zh", log_unanswered=False, force_generate=True)
    sent = fixed_endpoint.last
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer test-key-123"
    body = sent["body"]
    assert body["model"] == "qwen2.5-7b-instruct" and body["temperature"] == 0
    assert body["messages"][0]["role"] == "system" and "只根据" in body["messages"][0]["content"]
    assert "[1] 《物业管理条例》第三十七条：第三十七条 物业管理用房" in body["messages"][1]["content"]
    assert result.mode == "fallback" and "13800001111" in result.unsupported
    assert "13800001111" not in result.answer

    fixed_endpoint.reply = "资料中没有相关信息。"
    result = answerer.ask("物业管理用房归谁所有？", "zh", log_unanswered=False, force_generate=True)
    assert result.mode == "fallback" and result.unsupported == ["generator: the passages do not answer it"]

    fixed_endpoint.reply = "物业管理用房的所有权依法属于业主[1]。"
    result = answerer.ask("物业管理用房归谁所有？", "zh", log_unanswered=False, force_generate=True)
    assert result.mode == "generated" and result.answer == "物业管理用房的所有权依法属于业主。"
    assert "来源：《物业管理条例》第三十七条" in result.reply_text()


def test_cited_messages_label_every_passage() -> None:
    messages = cited_messages("How much?", ["FAQ — Fees and payment：2.5 yuan per m²", "FAQ — Parking：300 yuan"], "en")
    assert "I don't know" in messages[0]["content"]
    assert messages[1]["content"].splitlines()[1:3] == ["[1] FAQ — Fees and payment：2.5 yuan per m²",
                                                        "[2] FAQ — Parking：300 yuan"]
