"""validate_repair_form on tracker fixtures: answers, corrections, interruptions, retries."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.repair_form import ValidateRepairForm
from tests.actions.conftest import make_tracker, responses, slot_events

FORM = ValidateRepairForm()
FILLED = {
    "repair_description": "厨房水管漏水", "repair_category": "plumbing", "urgency": "normal",
    "unit": "3栋2单元502", "phone": "13812345678", "visit_time": "随时",
}


async def run(dispatcher: CollectingDispatcher, domain: Dict[str, Any], *args: Any, **kwargs: Any) -> list:
    return await FORM.run(dispatcher, make_tracker(*args, **kwargs), domain)


def rejected(events: list) -> bool:
    return any(e.get("event") == "action_execution_rejected" for e in events)


async def test_first_message_prefills_everything_it_says(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "5号楼1单元1203室卫生间漏水，不太急，电话13812345678，明天下午都在家",
                       intent="report_repair")
    slots = slot_events(events)
    assert slots["unit"] == "5栋1单元1203"
    assert json.loads(slots["location"])["building"] == "5"
    assert slots["phone"] == "13812345678"
    assert slots["urgency"] == "normal"
    assert slots["repair_category"] == "plumbing"
    assert "明天下午" in slots["visit_time"]
    assert "1203" not in slots["repair_description"] and "138" not in slots["repair_description"]
    assert slots["requested_slot"] == "repair_confirmed"


async def test_a_public_place_needs_no_flat_and_no_visit_time(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "5号楼电梯按钮坏了", intent="report_repair")
    slots = slot_events(events)
    place = json.loads(slots["location"])
    assert (place["kind"], place["building"], place["area"]) == ("public", "5", "电梯")
    assert slots["requested_slot"] == "urgency"
    events = await run(CollectingDispatcher(), domain, "不急", requested="urgency",
                       slots={**FILLED, "unit": slots["unit"], "location": slots["location"], "urgency": None,
                              "repair_category": "elevator", "phone": None})
    assert slot_events(events)["requested_slot"] == "phone"
    events = await run(CollectingDispatcher(), domain, "13812345678", requested="phone",
                       slots={**FILLED, "unit": slots["unit"], "location": slots["location"], "phone": None})
    assert slot_events(events)["requested_slot"] == "repair_confirmed"  # no visit time for a lift


async def test_an_ambiguous_place_asks_only_for_what_is_missing(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "楼道灯不亮了", intent="report_repair")
    slots = slot_events(events)
    assert slots["unit"] is None and json.loads(slots["location_partial"])["missing"] == "building"
    assert slots["requested_slot"] == "unit"
    answer = await run(CollectingDispatcher(), domain, "3号楼1单元", requested="unit",
                       slots={"repair_description": "楼道灯不亮了", "location_partial": slots["location_partial"]})
    filled = slot_events(answer)
    assert filled["unit"] == "3号楼1单元楼道" and filled["location_partial"] is None


async def test_a_correction_changes_the_value_and_keeps_the_pending_question(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "不对，电话是13900001111", requested="urgency",
                       slots={**FILLED, "urgency": None})
    slots = slot_events(events)
    assert slots["phone"] == "13900001111" and slots["requested_slot"] == "urgency"
    assert "utter_value_updated" in responses(dispatcher)
    assert not rejected(events)


async def test_urgency_can_change_after_it_was_given(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "actually it's urgent after all", requested="phone",
                       slots={**FILLED, "phone": None, "language": "en"})
    assert slot_events(events)["urgency"] == "urgent"


@pytest.mark.parametrize("text, intent", [("算了", "stop"), ("never mind", "deny"), ("不报了", "inform"),
                                          ("转人工", "request_human"), ("家里好大煤气味", "emergency")])
async def test_leaving_the_form_is_a_rejection_for_the_rules(dispatcher, domain, text: str, intent: str) -> None:
    events = await run(dispatcher, domain, text, intent=intent, requested="unit",
                       slots={"repair_description": "马桶堵了"})
    assert rejected(events)


async def test_not_urgent_is_an_answer_not_a_cancel(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "不用急", intent="deny", requested="urgency", slots=FILLED)
    assert not rejected(events) and slot_events(events)["urgency"] == "normal"


async def test_a_question_is_answered_and_the_question_asked_again(dispatcher, domain, monkeypatch) -> None:
    class Answer:
        abstained = False

        def reply_text(self) -> str:
            return "物业24小时值班电话0571-8765 4300"

    import actions.answer_question as answer_question

    monkeypatch.setattr(answer_question, "knowledge_answer", lambda text, lang=None: Answer())
    events = await run(dispatcher, domain, "物业电话多少？", intent="ask_question", requested="urgency",
                       slots={**FILLED, "urgency": None})
    assert "物业24小时值班电话0571-8765 4300" in responses(dispatcher)
    assert not rejected(events) and slot_events(events)["requested_slot"] == "urgency"


async def test_two_invalid_answers_never_loop(dispatcher, domain) -> None:
    first = await run(dispatcher, domain, "就在那边", requested="unit", slots={"repair_description": "马桶堵了"})
    assert responses(dispatcher) == ["utter_invalid_unit"]
    assert slot_events(first)["form_retries"] == "unit:1"
    second_dispatcher = CollectingDispatcher()
    second = await run(second_dispatcher, domain, "就在那边", requested="unit",
                       slots={"repair_description": "马桶堵了", "form_retries": "unit:1"})
    assert responses(second_dispatcher) == ["utter_free_text_accepted"]
    assert slot_events(second)["unit"] == "就在那边"


async def test_no_at_the_confirmation_asks_what_to_change(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "不对", intent="deny", requested="repair_confirmed", slots=FILLED)
    assert slot_events(events)["confirm_edit"] is True and not rejected(events)
    fix = await run(CollectingDispatcher(), domain, "地址是5栋1203", requested="repair_confirmed",
                    slots={**FILLED, "confirm_edit": True})
    slots = slot_events(fix)
    assert slots["unit"] == "5栋1203" and slots["confirm_edit"] is False
    assert slots["requested_slot"] == "repair_confirmed"


async def test_naming_a_field_asks_it_again(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "改一下电话", requested="repair_confirmed", slots=FILLED)
    slots = slot_events(events)
    assert slots["phone"] is None and slots["requested_slot"] == "phone"


async def test_yes_confirms(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "确认", intent="affirm", requested="repair_confirmed",
                       slots={**FILLED, "visit_time": "随时"})
    assert slot_events(events)["repair_confirmed"] is True


async def test_coming_back_after_an_interruption_reads_nothing_again(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "查一下我的工单", intent="check_ticket", requested="urgency",
                       slots={**FILLED, "urgency": None},
                       after=[{"event": "action", "name": "action_check_ticket"}, {"event": "bot", "text": "…"}])
    assert slot_events(events) == {"requested_slot": "urgency"} and not dispatcher.messages


async def test_the_last_number_is_the_one_meant(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "电话是13812345678不对是13912345678", requested="phone",
                       slots={**FILLED, "phone": None})
    assert slot_events(events)["phone"] == "13912345678"


async def test_another_room_in_the_same_building(dispatcher, domain) -> None:
    place = json.dumps({"kind": "flat", "building": "7", "entrance": "2", "room": "803", "area": None, "missing": None})
    events = await run(dispatcher, domain, "等下房号说错了，是804", requested="phone",
                       slots={**FILLED, "unit": "7栋2单元803", "location": place, "phone": None})
    assert slot_events(events)["unit"] == "7栋2单元804"


async def test_a_question_naming_a_place_is_not_the_place(dispatcher, domain, monkeypatch) -> None:
    import actions.answer_question as answer_question

    class Answer:
        abstained = True

    monkeypatch.setattr(answer_question, "knowledge_answer", lambda text, lang=None: Answer())
    events = await run(dispatcher, domain, "快递柜在哪儿来着", intent="ask_question", requested="unit",
                       slots={"repair_description": "洗衣机下水管漏水"})
    slots = slot_events(events)
    assert "unit" not in slots and slots["requested_slot"] == "unit"
    assert "utter_kb_no_answer_in_form" in responses(dispatcher)


async def test_i_dont_know_counts_as_an_invalid_answer(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "不知道几号", requested="unit", slots={"repair_description": "表箱门关不上"})
    assert slot_events(events)["form_retries"] == "unit:1" and not rejected(events)


async def test_a_greeting_guess_without_greeting_words_is_no_aside(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "就在我家啊", intent="greet", requested="unit",
                       slots={"repair_description": "厨房水槽堵了"})
    assert not rejected(events) and slot_events(events)["form_retries"] == "unit:1"


async def test_a_report_without_a_problem_asks_for_it(dispatcher, domain) -> None:
    events = await run(dispatcher, domain, "i wnat to report a repiar", intent="report_repair",
                       slots={"language": "en"})
    assert slot_events(events)["requested_slot"] == "repair_description"


@pytest.mark.parametrize("text, language, expected", [
    ("不对，是4楼", "zh", "2号楼4层楼道"),
    ("不是3楼，是5层", "zh", "2号楼5层楼道"),
    ("sorry, it's the 4th floor", "en", "2号楼4层楼道"),
])
async def test_a_corrected_floor_moves_a_floor_s_public_place(dispatcher, domain, text, language, expected) -> None:
    place = json.dumps({"kind": "public", "building": "2", "entrance": None, "room": None, "area": "3层楼道",
                        "missing": None})
    events = await run(dispatcher, domain, text, requested="urgency",
                       slots={**FILLED, "unit": "2号楼3层楼道", "location": place, "urgency": None,
                              "repair_category": "public_area", "language": language})
    slots = slot_events(events)
    assert slots["unit"] == expected and json.loads(slots["location"])["area"] == expected[3:]
    assert not rejected(events) and slots.get("requested_slot", "urgency") == "urgency"  # the question stays


@pytest.mark.parametrize("text, area, expected", [
    ("不对，是4号楼", "电梯", "4号楼电梯"),   # "4号楼" is a building, not a floor
    ("我在4楼等", "3层楼道", None),           # a floor mentioned without a correction changes nothing
    ("4楼", "电梯", None),                    # a lift is not on one floor
    ("3rd floor", "楼道", "2号楼3层楼道"),     # a floor added to a stairwell named without one
    ("在5楼", "楼梯间", "2号楼5层楼梯间"),
])
async def test_a_floor_is_not_taken_where_it_means_something_else(dispatcher, domain, text, area, expected) -> None:
    place = json.dumps({"kind": "public", "building": "2", "entrance": None, "room": None, "area": area,
                        "missing": None})
    events = await run(dispatcher, domain, text, requested="phone",
                       slots={**FILLED, "unit": f"2号楼{area}", "location": place, "phone": None,
                              "repair_category": "public_area"})
    assert slot_events(events).get("unit") == expected
