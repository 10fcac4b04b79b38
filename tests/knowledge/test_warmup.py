"""The start-up load of the knowledge base (knowledge.warmup) and the action server's /ready."""

from __future__ import annotations

import threading

from knowledge import warmup


def test_loading_until_the_load_returns_then_ready() -> None:
    release = threading.Event()
    calls = []

    def warm(generator: bool) -> None:
        calls.append(generator)
        release.wait(10)

    thread = warmup.start("full", warm)
    assert thread is not None
    assert warmup.state().status == "loading" and not warmup.state().ready
    release.set()
    thread.join(10)
    assert calls == [True]  # full: the generator too
    assert warmup.state().status == "ready" and warmup.state().ready and warmup.state().seconds is not None


def test_index_mode_skips_the_generator_and_off_loads_nothing() -> None:
    calls = []
    thread = warmup.start("index", calls.append)
    assert thread is not None
    thread.join(10)
    assert calls == [False]
    assert warmup.start("0", calls.append) is None
    assert warmup.state().status == "off" and warmup.state().ready and calls == [False]


def test_a_failed_load_is_reported_not_raised() -> None:
    def broken(generator: bool) -> None:
        raise FileNotFoundError("no index in var/knowledge_index")

    thread = warmup.start("index", broken)
    assert thread is not None
    thread.join(10)
    state = warmup.state()
    assert state.status == "failed" and "no index" in (state.error or "")
