"""Asking for a rating without servers: the resolved-ticket notification carries the prompt once,
and the outbox sends its buttons where the channel shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from sqlalchemy import create_engine

from bot import outbound
from bot.notifications import Notifier
from bot.outbox.store import OutboxStore
from bot.outbox.worker import Worker
from bot.satisfaction.store import SatisfactionStore
from bot.tickets import TicketStore


class TextSender:
    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    async def send_text(self, recipient_id: str, text: str) -> None:
        self.sent.append((recipient_id, text))


class ButtonSender(TextSender):
    def __init__(self) -> None:
        super().__init__()
        self.buttons: List[Tuple[str, str, List[Dict[str, Any]]]] = []

    async def send_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]]) -> None:
        self.buttons.append((recipient_id, text, buttons))


@pytest.fixture
def store(tmp_path: Path) -> TicketStore:
    return TicketStore(create_engine(f"sqlite:///{tmp_path / 'n.db'}", future=True))


async def test_a_resolved_ticket_asks_once_in_its_notification(store: TicketStore) -> None:
    widget, wechat = ButtonSender(), TextSender()
    outbound.register_sender("test-buttons", widget)
    outbound.register_sender("test-text", wechat)
    notifier = Notifier(store.engine)
    on_widget = store.create(ticket_type="repair", channel="test-buttons", sender_id="w1", description="漏水",
                             language="zh")
    on_text = store.create(ticket_type="complaint", channel="test-text", sender_id="t1", description="noise",
                           language="en")
    store.change_status(on_widget.number, "in_progress", actor="staff")
    store.change_status(on_widget.number, "resolved", actor="staff")
    store.change_status(on_text.number, "resolved", actor="staff")
    await notifier.run_once()
    await notifier.run_once()  # nothing queued twice
    await Worker(OutboxStore(store.engine)).run_once()

    # The widget gets the buttons with the notification; a text channel gets the text alone.
    [(recipient, text, buttons)] = widget.buttons
    assert recipient == "w1" and "已解决" in text and "请为本次服务打分：回复 1-5" in text
    assert [b["payload"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert [t for _, t in widget.sent] == [f"您的报修工单 {on_widget.number} 状态已更新为：处理中。"]
    [(_, english)] = wechat.sent
    assert english.startswith(f"Update on your complaint ticket {on_text.number}: it is now resolved.")
    assert english.endswith("Please rate this service: reply 1-5 (5 = very satisfied).")

    ratings = SatisfactionStore(store.engine)
    request = ratings.for_subject("ticket", on_widget.number)
    assert (request.resident, request.channel, request.language) == ("test-buttons:w1", "test-buttons", "zh")
    assert ratings.for_subject("ticket", on_text.number).language == "en"

    # Reopened and resolved again: told again, never asked again.
    store.change_status(on_widget.number, "in_progress", actor="staff")
    store.change_status(on_widget.number, "resolved", actor="staff")
    await notifier.run_once()
    await Worker(OutboxStore(store.engine)).run_once()
    assert len(widget.buttons) == 1 and "请为本次服务打分" not in widget.sent[-1][1] and "已解决" in widget.sent[-1][1]


async def test_no_prompt_when_satisfaction_is_off(store: TicketStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_SATISFACTION", "false")
    sender = ButtonSender()
    outbound.register_sender("test-off", sender)
    notifier = Notifier(store.engine)
    ticket = store.create(ticket_type="repair", channel="test-off", sender_id="o1", description="漏水")
    store.change_status(ticket.number, "resolved", actor="staff")
    await notifier.run_once()
    await Worker(OutboxStore(store.engine)).run_once()
    assert sender.buttons == [] and "请为本次服务打分" not in sender.sent[0][1]
    assert SatisfactionStore(store.engine).for_subject("ticket", ticket.number) is None


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Rasa agent with the project's domain and in-memory trackers; the outbox on a test database."""
    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.outbox import service
    from bot.satisfaction import asking
    from tests.servers import ROOT

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'linli.db'}")
    caches = (service.outbox_store, asking.satisfaction_store)  # (a test may replace the module's names)
    for cache in caches:
        cache.cache_clear()
    domain = Domain.load(str(ROOT / "domain.yml"))
    yield Agent(domain=domain, tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore())
    for cache in caches:
        cache.cache_clear()


def handoff(handoff_id: int, agent_name: Any = "wang", language: str = "en") -> Any:
    import types

    return types.SimpleNamespace(id=handoff_id, sender_id=f"rest:h{handoff_id}", channel="rest", language=language,
                                 agent=agent_name)


async def test_an_ended_handoff_asks_once_with_the_slot_on_the_tracker(agent: Any) -> None:
    from bot.outbox import service
    from bot.satisfaction.asking import ask_after_handoff, satisfaction_store

    outcome = await ask_after_handoff(agent, handoff(41))
    assert outcome["delivery"] == "queued" and outcome["outbox_id"]  # no worker runs in this test
    tracker = await agent.tracker_store.retrieve("rest:h41")
    [prompt] = [e for e in tracker.events if getattr(e, "type_name", "") == "bot"]
    assert prompt.text == "Please rate this service: reply 1-5 (5 = very satisfied)."
    assert [b["title"] for b in prompt.data["buttons"]] == ["1", "2", "3", "4", "5"]
    request = satisfaction_store().for_subject("handoff", "41")
    assert tracker.get_slot("rating_request") == {"id": request.id, "stage": "rating", "subject": "handoff:41",
                                                  "expires_at": request.expires_at}
    queued = service.outbox_store().get(outcome["outbox_id"])
    assert queued.kind == "rating_request" and queued.payload["buttons"][4]["payload"] == "5"
    assert queued.transcript is None  # recorded above, never twice

    assert await ask_after_handoff(agent, handoff(41)) is None  # asked once
    assert await ask_after_handoff(agent, handoff(42, agent_name=None)) is None  # nobody served the resident
    assert satisfaction_store().for_subject("handoff", "42") is None


async def test_asking_never_fails_the_close(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.satisfaction import asking

    def broken() -> Any:
        raise RuntimeError("database down")

    monkeypatch.setattr(asking, "satisfaction_store", broken)
    assert await asking.ask_after_handoff(agent, handoff(43)) is None


async def test_on_wechat_a_numbered_reply_is_the_score_not_an_older_choice(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """WeChat maps a reply "2" onto the second of the last buttons shown: after the prompt that is 2."""
    from bot.channels import common, state
    from bot.satisfaction.asking import remember

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'kv.db'}")
    monkeypatch.setenv("REDIS_URL", "")
    state.kv_store.cache_clear()
    try:
        common.remember_buttons("wechat", "o-1", [{"buttons": [{"title": "水电", "payload": "electrical"},
                                                             {"title": "门窗", "payload": "doors_locks"}]}])
        assert common.resolve_choice("wechat", "o-1", "2") == "doors_locks"
        request, _ = SatisfactionStore(create_engine(f"sqlite:///{tmp_path / 'r.db'}", future=True)).ask(
            "ticket", "BX-1", "wechat:o-1", "wechat", "zh", "t", 3600)
        await remember(None, request)
        assert [common.resolve_choice("wechat", "o-1", n) for n in ("2", "5")] == ["2", "5"]
    finally:
        state.kv_store.cache_clear()
