"""ReportDetector: plain reports misread by the classifier become reports; questions stay questions."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.patterns import find_entities
from bot.nlu.report_detector import ReportDetector


def run(text: str, intent: str, confidence: float = 0.6) -> str:
    entities = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end} for m in find_entities(text)]
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": entities})
    return ReportDetector().process([message])[0].get("intent")["name"]


@pytest.mark.parametrize("text, guess, expected", [
    ("toilet bloked building 6 room 1101 phone 13812345678 urgent", "ask_question", "report_repair"),
    ("3号楼2单元502 厨房水龙头滴水 电话13812345678", "inform", "report_repair"),
    ("the kitchen extractor fan is dead, building 3 room 202", "out_of_scope", "report_repair"),
    ("我要头诉 楼下天天烧烤 油烟太大了", "ask_question", "complaint"),
    ("i want to complian about the barking dog", "out_of_scope", "complaint"),
])
def test_reports_misread_as_something_else(text: str, guess: str, expected: str) -> None:
    assert run(text, guess) == expected


@pytest.mark.parametrize("text, guess", [
    ("停车费多少钱一个月", "ask_question"),          # no place, and a question
    ("投诉电话是多少", "ask_question"),              # asks for the complaint line
    ("5栋的电梯坏了怎么报修？", "ask_question"),      # a question about reporting
    ("今天天气怎么样", "out_of_scope"),
    ("电梯坏了 快来人 5号楼", "emergency"),          # transactional intents are never touched
    ("查一下5栋1203的报修", "check_ticket"),
])
def test_questions_and_other_intents_stay(text: str, guess: str) -> None:
    assert run(text, guess) == guess


def test_a_place_alone_is_no_report() -> None:
    assert run("3号楼下面的花园", "inform") == "inform"


def test_the_fallback_classifier_keeps_the_decision() -> None:
    from bot.nlu.emergency_detector import EmergencyDetector

    message = Message(data={"text": "厨房一股煤气味", "intent": {"name": "complaint", "confidence": 0.97},
                            "intent_ranking": [{"name": "complaint", "confidence": 0.97}], "entities": []})
    ranking = EmergencyDetector().process([message])[0].get("intent_ranking")
    assert ranking[0]["name"] == "emergency" and ranking[0]["confidence"] - ranking[1]["confidence"] > 0.05


@pytest.mark.parametrize("text, guess", [
    ("停水了吗？", "stop"),                        # "停" read as "stop"
    ("3号楼停水了吗？", "report_repair"),           # a place and a fault word, but a question
    ("什么时候来电", "inform"),
    ("is there a power cut in building 3?", "report_repair"),
    ("when will the water be back?", "out_of_scope"),
    ("电梯坏了吗", "deny"),
])
def test_outage_questions_are_questions(text: str, guess: str) -> None:
    assert run(text, guess) == "ask_question"


@pytest.mark.parametrize("text, guess", [
    ("停止", "stop"),                              # a real stop
    ("3号楼停水了 厨房也没水 电话13812345678", "report_repair"),  # a report, not a question
    ("电梯停了 有人被困 5号楼", "emergency"),        # emergencies are never touched
])
def test_outage_words_alone_change_nothing(text: str, guess: str) -> None:
    assert run(text, guess) == guess
