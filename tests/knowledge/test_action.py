"""``action_answer_question`` called directly with a rasa_sdk Tracker and dispatcher."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


def _tracker(text: str, language=None) -> Tracker:
    return Tracker(sender_id="test-kb", slots={"language": language, "handoff_offered": None},
                   latest_message={"text": text, "intent": {"name": "ask_question", "confidence": 0.9}},
                   events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None)


def _run(text: str, language=None):
    from actions.answer_question import ActionAnswerQuestion

    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerQuestion().run(dispatcher, _tracker(text, language), {}))
    # Every answer also records its topic for follow-up questions (slot kb_context).
    return dispatcher.messages, [e for e in events if e.get("name") != "kb_context"]


def test_action_answers_faq_with_citation(knowledge_env) -> None:
    messages, events = _run("装修押金要交多少？", "zh")
    assert len(messages) == 1 and "2000元装修押金" in messages[0]["text"]
    assert "来源：常见问题 — 装修" in messages[0]["text"] and events == []


def test_action_detects_language_when_slot_is_empty(knowledge_env) -> None:
    messages, _ = _run("Where can I charge my electric bike?")
    assert "Source: FAQ — Parking" in messages[0]["text"]


def test_action_abstains_and_offers_handoff(knowledge_env) -> None:
    messages, events = _run("帮我订一张明天去北京的高铁票", "zh")
    assert "人工客服" in messages[0]["text"]
    assert events == [SlotSet("handoff_offered", True)]
