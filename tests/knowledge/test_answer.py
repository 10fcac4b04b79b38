"""Answering: extractive FAQ answers, abstention, and the grounding check."""

from __future__ import annotations

import json

from knowledge.grounding import is_grounded, support_ratio, unsupported_facts


def test_faq_question_gets_the_curated_answer_with_citation(answerer) -> None:
    result = answerer.ask("电动自行车可以推回家里充电吗？")
    assert not result.abstained and result.language == "zh"
    assert "非机动车棚" in result.answer
    assert "来源：常见问题 — 停车" in result.reply_text()


def test_english_answer_is_in_english(answerer) -> None:
    result = answerer.ask("I lost my access card, what now?")
    assert not result.abstained and result.language == "en"
    assert "20 yuan" in result.answer and "Source: FAQ — Visitors and access cards" in result.reply_text()


def test_nonsense_question_abstains_and_is_logged(answerer) -> None:
    for question, lang in (("量子猫咪在火星上弹钢琴的颜色是什么味道？", "zh"), ("What is the airspeed velocity of an unladen swallow?", "en")):
        result = answerer.ask(question)
        assert result.abstained, (question, result.confidence)
        assert result.language == lang and result.citations == []
        assert ("人工" in result.answer) if lang == "zh" else ("staff member" in result.answer)
    logged = [json.loads(x) for x in answerer.cfg.path(answerer.cfg.unanswered_log).read_text().splitlines()]
    assert logged[-1]["question"].startswith("What is the airspeed")


def test_grounding_rejects_an_invented_phone_number() -> None:
    passages = ["物业服务中心电话0571-8765 4321；24小时值班电话0571-8765 4300。"]
    assert is_grounded("请拨打物业服务中心电话0571-8765 4321。", passages)
    assert unsupported_facts("请拨打物业电话0571-8888 1234。", passages) == ["0571-8888 1234"]
    assert not is_grounded("Call 400-820-8820 for help.", ["Call the duty line 0571-8765 4300."])


def test_grounding_checks_numbers_names_and_titles() -> None:
    passages = ["第十四条 召开业主大会会议，应当于会议召开15日以前通知全体业主。"]
    assert is_grounded("应当提前十五日通知全体业主。", passages)
    assert unsupported_facts("应当提前30日通知。", passages) == ["30"]
    assert unsupported_facts("Ask Mr Wang at the Service Centre.", ["Ask at the Service Centre."]) == ["Wang"]
    assert unsupported_facts("依据《民法典》规定", passages) == ["《民法典》"]


def test_answerer_falls_back_to_the_passage_when_generation_is_off(answerer) -> None:
    # A regulation (not an FAQ) cannot be answered verbatim as an FAQ: the passage itself is returned.
    result = answerer.ask("物业管理用房归谁所有？")
    assert result.mode == "fallback" and "第三十七条" in result.answer
    assert "《物业管理条例》第三十七条" in result.reply_text()


def test_support_ratio_flags_answers_that_drift_from_the_passage() -> None:
    passage = ["物业费按季度预缴，每季度第一个月的15日前缴清。"]
    assert support_ratio("物业费按季度预缴。", passage) == 1.0
    assert support_ratio("按月交，按季度交。", passage) < 0.8
