"""Agent assist over the real servers: suggested replies to a handed-off resident's latest message, and the
usage counters behind the dashboard card."""

from __future__ import annotations

import uuid

import requests

from tests.assist.conftest import Desk, handed_off, suggestions_of
from tests.servers import Stack


def _today(desk: Desk) -> dict:
    data = desk.get("/api/stats/assist?days=3").json()
    assert len(data["days"]) == 3
    return data["days"][-1]


def test_a_question_gets_at_most_three_sourced_suggestions_in_the_residents_language(stack: Stack, agent: Desk) -> None:
    zh = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "物业费是怎么收费的？")
    before = _today(agent)
    data = suggestions_of(agent, zh["id"])
    assert data["reason"] is None and data["language"] == "zh"
    assert 1 <= len(data["suggestions"]) <= 3
    first = data["suggestions"][0]
    assert first["kind"] == "answer" and "2.5" in first["text"] and "来源" not in first["text"]
    for s in data["suggestions"]:
        assert s["language"] == "zh" and s["source"] and 0 < s["confidence"] <= 1 and s["text"]
    assert len({s["text"] for s in data["suggestions"]}) == len(data["suggestions"])
    # Shown once per message, however often the agent opens the conversation.
    suggestions_of(agent, zh["id"])
    assert _today(agent)["shown"] == before["shown"] + 1
    # Nothing was sent to the resident.
    messages = agent.get(f"/api/handoffs/{zh['id']}").json()["messages"]
    assert not [m for m in messages if m["from"] == "agent"]

    en = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "How is the property management fee charged?")
    data = suggestions_of(agent, en["id"])
    assert data["language"] == "en" and 1 <= len(data["suggestions"]) <= 3
    assert all(s["language"] == "en" and s["source"] for s in data["suggestions"])
    assert "2.5" in data["suggestions"][0]["text"]


def test_no_suggestion_for_a_message_that_is_not_a_question(stack: Stack, agent: Desk) -> None:
    handoff = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "好的，我在家等着")
    data = suggestions_of(agent, handoff["id"])
    assert data["suggestions"] == [] and data["reason"] == "not_question"
    assert data["message"]["text"] == "好的，我在家等着"


def test_no_suggestion_when_the_knowledge_base_abstains(stack: Stack, agent: Desk) -> None:
    handoff = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "火星上的量子计算机用什么编程语言？")
    data = suggestions_of(agent, handoff["id"])
    assert data["suggestions"] == [] and data["reason"] == "abstained"


def test_usage_counter_inserted_and_sent(stack: Stack, agent: Desk) -> None:
    handoff = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "物业费可以通过哪些方式缴纳？")
    text = suggestions_of(agent, handoff["id"])["suggestions"][0]["text"]
    before = _today(agent)
    path = f"/api/handoffs/{handoff['id']}/suggestions/used"
    assert agent.post(path, {"event": "inserted", "suggestion": text}).json()["counted"] is True
    edited = "您好！" + text[:-3] + "。还有其他问题吗？"
    assert agent.post(path, {"event": "sent", "suggestion": text, "text": edited}).json()["contained"] is True
    rewritten = agent.post(path, {"event": "sent", "suggestion": text, "text": "请稍等，我帮您问一下。"}).json()
    assert rewritten["counted"] is False
    after = _today(agent)
    assert (after["inserted"], after["sent"]) == (before["inserted"] + 1, before["sent"] + 1)
    for bad in ({"event": "clicked", "suggestion": text}, {"event": "inserted"}, {"event": "sent", "suggestion": text}):
        assert agent.post(path, bad).status_code == 400
    assert _today(agent)["inserted"] == after["inserted"]
    assert agent.post("/api/handoffs/999999/suggestions/used", {"event": "inserted", "suggestion": text}).status_code == 404
    assert agent.get("/api/handoffs/999999/suggestions").status_code == 404


def test_suggestions_need_a_staff_session(stack: Stack, agent: Desk) -> None:
    handoff = handed_off(stack, agent, f"as-{uuid.uuid4().hex[:8]}", "物业费是怎么收费的？")
    widget = requests.post(f"{stack.rasa_url}/chat/session", timeout=20).json()
    for headers in ({}, {"Authorization": f"Bearer {widget['session_token']}"},
                    {"Authorization": f"Bearer {stack.rest_token}"}):
        assert requests.get(f"{stack.rasa_url}/api/handoffs/{handoff['id']}/suggestions", headers=headers,
                            timeout=20).status_code == 401
        assert requests.post(f"{stack.rasa_url}/api/handoffs/{handoff['id']}/suggestions/used", headers=headers,
                             json={"event": "inserted", "suggestion": "x"}, timeout=20).status_code == 401
        assert requests.get(f"{stack.rasa_url}/api/stats/assist", headers=headers, timeout=20).status_code == 401
