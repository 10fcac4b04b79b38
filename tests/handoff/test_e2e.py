"""End-to-end handoff: resident on the web widget (socket.io), agent on the desk API."""

from __future__ import annotations

from typing import Any, Dict, List

from tests.handoff.conftest import Desk, handoff_of
from tests.handoff.resident import WidgetResident
from tests.servers import Stack


def events_of(stack: Stack, sender: str) -> List[Dict[str, Any]]:
    return stack.tracker(sender)["events"]


def test_resident_asks_for_a_human_agent_replies_and_closes_then_the_bot_answers(stack: Stack, agent: Desk) -> None:
    resident = WidgetResident(stack.rasa_url)
    try:
        resident.say("你好")
        resident.wait_for("邻里小助手")
        resident.say("我要转人工")
        resident.wait_for("转接人工客服")

        # The agent sees the conversation in the queue, with its transcript so far.
        handoff = handoff_of(agent, resident.session_id)
        assert handoff["channel"] == "socketio" and handoff["status"] == "queued"
        assert handoff["waiting_seconds"] >= 0
        view = agent.get(f"/api/handoffs/{handoff['id']}").json()
        said = [(m["from"], m.get("text")) for m in view["messages"]]
        assert ("resident", "你好") in said and ("resident", "我要转人工") in said
        assert any(who == "bot" and "邻里小助手" in (text or "") for who, text in said)

        # While handed off the bot is silent; the message is relayed to the desk.
        resident.say("我家门锁坏了，进不去")
        assert resident.drain(4) == []
        relayed = agent.get(f"/api/handoffs/{handoff['id']}/messages?after=0&wait=10").json()["messages"]
        assert ("resident", "我家门锁坏了，进不去") in [(m["from"], m.get("text")) for m in relayed]

        reply = agent.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "您好，我是物业客服，马上安排锁匠上门。"})
        assert reply.status_code == 200 and reply.json()["delivered"] is True, reply.text
        assert reply.json()["handoff"]["agent"] == agent.user["username"]  # replying took it
        resident.wait_for("马上安排锁匠上门")

        closed = agent.post(f"/api/handoffs/{handoff['id']}/close")
        assert closed.status_code == 200 and closed.json()["handoff"]["status"] == "closed"
        resident.wait_for("小助手回来")

        resident.say("你好")
        resident.wait_for("邻里小助手")
    finally:
        resident.close()

    # The Rasa tracker keeps the whole transcript, agent messages included, with pause and resume.
    events = events_of(stack, f"socketio:{resident.session_id}")
    kinds = [e["event"] for e in events]
    assert "pause" in kinds and "resume" in kinds and kinds.index("pause") < kinds.index("resume")
    agent_messages = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")]
    assert [e["text"] for e in agent_messages][-1] == "您好，我是物业客服，马上安排锁匠上门。"
    users = [e["text"] for e in events if e["event"] == "user"]
    assert "我家门锁坏了，进不去" in users
    # Recorded once: the sender delivers, the desk records (with the agent's name).
    replies = [e for e in events if e["event"] == "bot" and e.get("text") == "您好，我是物业客服，马上安排锁匠上门。"]
    assert len(replies) == 1
    predicted_while_paused = [
        e for e in events[kinds.index("pause"):kinds.index("resume")]
        if e["event"] == "action" and e["name"] != "action_listen"
    ]
    assert predicted_while_paused == []


def test_accepting_the_offer_after_the_knowledge_base_abstains_hands_off(stack: Stack, agent: Desk,
                                                                        sender: str) -> None:
    answer = stack.say(sender, "小区里的火星基地什么时候开放参观？")
    if "人工" not in answer:  # the knowledge base answered: then it offered nothing
        answer = stack.say(sender, "/nlu_fallback")
    assert "人工" in answer, answer
    assert "请稍候" in stack.say(sender, "好的")
    handoff = handoff_of(agent, sender)
    assert handoff["reason"] == "offer_accepted"
    agent.post(f"/api/handoffs/{handoff['id']}/close")


def test_yes_without_a_pending_offer_does_not_hand_off(stack: Stack, agent: Desk, sender: str) -> None:
    stack.say(sender, "你好")
    answer = stack.say(sender, "好的")
    assert "请稍候" not in answer
    assert all(h["sender_id"] != f"rest:{sender}" for h in agent.get("/api/handoffs").json()["handoffs"])


def test_two_misunderstood_messages_in_a_row_hand_off(stack: Stack, agent: Desk, sender: str) -> None:
    first = stack.say(sender, "/nlu_fallback")
    assert "请稍候" not in first
    second = stack.say(sender, "/nlu_fallback")
    assert "请稍候" in second, second
    handoff = handoff_of(agent, sender)
    assert handoff["reason"] == "fallback"
    agent.post(f"/api/handoffs/{handoff['id']}/close")


def test_an_emergency_during_a_handoff_is_answered_at_once(stack: Stack, agent: Desk) -> None:
    """The bot stays silent while staff have the conversation, except for safety advice."""
    resident = WidgetResident(stack.rasa_url)
    try:
        resident.say("我要转人工")
        resident.wait_for("转接人工客服")
        handoff = handoff_of(agent, resident.session_id)
        assert handoff["priority"] != "urgent"
        resident.say("等一下，厨房里煤气味很重")
        # Delivered proactively on the widget (the conversation is paused, so not as a reply).
        resident.wait_for("燃气泄漏", timeout=30)
        resident.wait_for("119")
        resident.wait_for("紧急工单")
        resident.drain(3)  # the rest of the advice (where exactly?)
        raised = handoff_of(agent, resident.session_id)
        assert raised["id"] == handoff["id"] and raised["priority"] == "urgent"
        resident.say("好的我出来了")
        assert resident.drain(4) == []  # still with staff afterwards: the bot is silent again
    finally:
        resident.close()
    events = events_of(stack, f"socketio:{resident.session_id}")
    actions = [e["name"] for e in events if e["event"] == "action" and e["name"] != "action_listen"]
    assert actions.count("action_emergency") == 1 and actions[-1] == "action_emergency"


def test_the_place_given_after_an_emergency_reaches_its_ticket_and_the_resident_hears_so(
        stack: Stack, agent: Desk) -> None:
    """The emergency reply asks where it is; the answer arrives while staff have the conversation."""
    from tests.servers import tickets_of

    resident = WidgetResident(stack.rasa_url)
    conversation = f"socketio:{resident.session_id}"
    try:
        resident.say("厨房的水管爆了，水一直往外喷")
        resident.wait_for("紧急工单")
        resident.wait_for("具体位置")
        handoff = handoff_of(agent, resident.session_id)
        assert handoff["reason"] == "emergency" and handoff["priority"] == "urgent"
        (ticket,) = tickets_of(stack, conversation)
        assert ticket.location is None and ticket.urgency == "urgent"
        resident.say("3号楼1单元502")
        told = resident.wait_for("补充到紧急工单", timeout=30)
        assert "3栋1单元502" in told[-1] and ticket.number in told[-1]
        (ticket,) = tickets_of(stack, conversation)
        assert (ticket.location, ticket.building, ticket.room) == ("3栋1单元502", "3", "502")
        resident.say("好的谢谢")
        assert resident.drain(4) == []  # staff's conversation: nothing more from the bot
    finally:
        resident.close()
    assert handoff_of(agent, resident.session_id)["id"] == handoff["id"]  # still with staff
    agent.post(f"/api/handoffs/{handoff['id']}/close")
