"""EmergencyDetector: the playbook overrides the classifier in both directions."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.emergency_detector import EmergencyDetector


def classified(text: str, intent: str, confidence: float = 0.9, others: List[Dict[str, Any]] = ()) -> Message:
    ranking = [{"name": intent, "confidence": confidence}, *others]
    return Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                         "intent_ranking": ranking, "entities": []})


def run(message: Message) -> Message:
    return EmergencyDetector().process([message])[0]


def test_a_hazard_makes_the_intent_emergency_with_a_hazard_entity() -> None:
    message = run(classified("厨房水管漏水，还有一股煤气味", "report_repair"))
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [e["value"] for e in message.get("entities") if e["entity"] == "hazard"] == ["gas"]
    assert message.get("linli_nlu_intent")["name"] == "report_repair"


def test_an_emergency_guess_without_a_hazard_falls_back_to_the_next_intent() -> None:
    message = run(classified("不是煤气味哈，是卫生间下水道返臭", "emergency", 0.7,
                             [{"name": "report_repair", "confidence": 0.2}]))
    assert message.get("intent")["name"] == "report_repair"
    assert all(r["name"] != "emergency" for r in message.get("intent_ranking"))


def test_an_emergency_said_in_so_many_words_stands() -> None:
    assert run(classified("救命啊 快来人", "emergency")).get("intent")["name"] == "emergency"
    assert run(classified("this is an emergency, come now", "emergency")).get("intent")["name"] == "emergency"


def test_a_hypothetical_question_is_no_emergency() -> None:
    message = run(classified("如果电梯困人怎么办？", "emergency", 0.8, [{"name": "ask_question", "confidence": 0.1}]))
    assert message.get("intent")["name"] == "ask_question"


def test_other_messages_are_left_alone() -> None:
    message = run(classified("物业费怎么交", "ask_question"))
    assert message.get("intent") == {"name": "ask_question", "confidence": 0.9}
    assert not message.get("entities")
