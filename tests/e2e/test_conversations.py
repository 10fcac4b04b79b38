"""Whole conversations against the real Rasa server and action server (REST channel)."""

from __future__ import annotations

import re

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.servers import Stack

TICKET = re.compile(r"\b(BX|TS)-\d{8}-\d{4}\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def is_chinese(text: str) -> bool:
    return len(HAN.findall(text)) > len(re.findall(r"[A-Za-z]{2,}", text))


def store_of(stack: Stack) -> TicketStore:
    return TicketStore(create_engine(stack.database_url, future=True))


def test_repair_report_in_chinese_is_filed_and_visible_only_to_its_reporter(stack: Stack, sender: str) -> None:
    assert "邻里" in stack.say(sender, "你好")
    assert "描述" in stack.say(sender, "我要报修")
    assert "楼栋和房号" in stack.say(sender, "厨房水管漏水了")
    # A room number alone is not an address: the resident is asked for the building.
    assert "几号楼" in stack.say(sender, "502")
    assert "紧急" in stack.say(sender, "3栋2单元")
    assert "联系电话" in stack.say(sender, "紧急")
    assert "号码好像不对" in stack.say(sender, "12345")
    summary = stack.say(sender, "138 1234 5678")
    assert "3栋2单元502" in summary and "13812345678" in summary and "水管" in summary
    answer = stack.say(sender, "是的")
    number = TICKET.search(answer).group(0)
    assert number.startswith("BX-") and "工单号" in answer

    ticket = store_of(stack).get(number)
    assert (ticket.unit, ticket.phone, ticket.category, ticket.urgency, ticket.type) == (
        "3栋2单元502", "13812345678", "plumbing", "urgent", "repair")
    assert ticket.description == "厨房水管漏水了"
    assert (ticket.channel, ticket.sender_id, ticket.language) == ("rest", sender, "zh")

    listing = stack.say(sender, "查一下我的工单")
    assert number in listing and "待处理" in listing
    detail = stack.say(sender, f"工单{number}进度怎么样")
    assert number in detail and "3栋2单元502" in detail

    stranger = sender + "-other"
    refused = stack.say(stranger, f"查一下{number}")
    assert "没有找到" in refused and "3栋2单元502" not in refused
    assert number not in stack.say(stranger, "查询工单")


def test_first_message_prefills_unit_phone_and_category(stack: Stack, sender: str) -> None:
    answer = stack.say(sender, "5号楼1203厨房下水道堵了，电话13912345678")
    # Unit, phone and category were in the message: only urgency is asked.
    assert "紧急" in answer and "楼栋和房号" not in answer and "联系电话" not in answer
    assert "上门时间" in stack.say(sender, "不急")
    summary = stack.say(sender, "周末都在家")
    assert "5栋1203" in summary and "13912345678" in summary and "周末" in summary
    number = TICKET.search(stack.say(sender, "确认")).group(0)
    ticket = store_of(stack).get(number)
    assert (ticket.unit, ticket.phone, ticket.category, ticket.urgency) == (
        "5栋1203", "13912345678", "plumbing", "normal")
    assert (ticket.building, ticket.room) == ("5", "1203") and "周末" in ticket.visit_time


def test_repair_report_in_english(stack: Stack, sender: str) -> None:
    assert "describe" in stack.say(sender, "I want to report a repair")
    assert "Where is the problem" in stack.say(sender, "the kitchen sink is leaking")
    assert "urgent" in stack.say(sender, "Building 3 Unit 502")
    assert "phone" in stack.say(sender, "not urgent")
    assert "visit" in stack.say(sender, "+86 138 1234 5678")
    summary = stack.say(sender, "after 6pm on weekdays")
    assert "Building 3, Room 502" in summary and "plumbing" in summary
    answer = stack.say(sender, "yes")
    assert "Ticket number" in answer
    number = TICKET.search(answer).group(0)
    ticket = store_of(stack).get(number)
    assert (ticket.unit, ticket.phone, ticket.language) == ("3栋502", "13812345678", "en")
    listing = stack.say(sender, "check my ticket")
    assert number in listing and "open" in listing


def test_cancelled_report_creates_no_ticket(stack: Stack, sender: str) -> None:
    stack.say(sender, "6栋1单元302的门锁坏了，联系电话15800001111")
    stack.say(sender, "不紧急")
    assert "已取消" in stack.say(sender, "不对，取消")
    assert store_of(stack).list_for_sender("rest", sender) == []


def test_complaint_is_recorded(stack: Stack, sender: str) -> None:
    assert "发生了什么" in stack.say(sender, "我要投诉")
    assert "哪里" in stack.say(sender, "楼上装修太吵了，每天早上七点就开始")
    answer = stack.say(sender, "3栋2单元502")
    number = TICKET.search(answer).group(0)
    assert number.startswith("TS-") and "投诉已记录" in answer
    ticket = store_of(stack).get(number)
    assert ticket.type == "complaint" and ticket.location == "3栋2单元502"
    assert "装修" in ticket.description


def test_mixed_language_message_is_answered_in_its_main_language(stack: Stack, sender: str) -> None:
    answer = stack.say(sender, "我家的 toilet 堵了，在3栋2单元502")
    assert is_chinese(answer) and "紧急" in answer


def test_out_of_scope_gets_a_polite_refusal_in_the_users_language(stack: Stack, sender: str) -> None:
    zh = stack.say(sender, "帮我订一张去上海的高铁票")
    assert "抱歉" in zh and "报修" in zh
    en = stack.say(sender + "-en", "can you book me a flight to Paris")
    assert "Sorry" in en and "repair" in en and not is_chinese(en)


def test_language_follows_the_resident(stack: Stack, sender: str) -> None:
    assert "Hello" in stack.say(sender, "hello")
    assert "您好" in stack.say(sender, "你好")


def test_button_payloads_do_not_switch_the_language(stack: Stack, sender: str) -> None:
    stack.say(sender, "我要报修")
    stack.say(sender, "家里有东西坏了，需要师傅上门看看")
    category_question = stack.chat(sender, "3栋2单元502")
    payloads = [b["payload"] for m in category_question for b in m.get("buttons", [])]
    assert "appliance" in payloads
    # Clicking the button sends its English payload; the conversation stays Chinese.
    answer = stack.say(sender, "appliance")
    assert is_chinese(answer) and "紧急" in answer
