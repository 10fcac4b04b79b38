"""Residence statements and notice commands without retraining: the detector, the policy's
``decide`` on Rasa trackers, and ``action_residence`` / ``action_notice_subscription`` on
tracker fixtures with a real database."""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

import actions.notices as notice_actions
import actions.residence as residence_actions
from bot.nlu.patterns import Unit
from bot.notices.store import NoticeStore
from bot.residence.detect import confirmation, stated_unit, subscription_command
from bot.residence.policy import decide
from bot.residence.store import ResidenceStore
from tests.actions.conftest import make_tracker, slot_events
from tests.servers import ROOT

PENDING = json.dumps({"building": "3", "entrance": "2", "room": "502"})


# ---------------------------------------------------------------- detector
@pytest.mark.parametrize("text, unit", [
    ("我住3栋2单元502", Unit("3", "502", "2")), ("I live in building 3 unit 2 room 502", Unit("3", "502", "2")),
    ("我家是5号楼1203", Unit("5", "1203")), ("我住在三号楼二单元五零二", Unit("3", "502", "2")),
    ("您好，我住3栋2单元502，谢谢", Unit("3", "502", "2")), ("my flat is 5-1-1203", Unit("5", "1203", "1")),
    ("我是5栋1203的业主", Unit("5", "1203")),
])
def test_statements_are_read(text: str, unit: Unit) -> None:
    assert stated_unit(text) == unit


@pytest.mark.parametrize("text", ["我住3栋2单元502，厨房漏水", "我住3栋2单元502，电梯坏了", "5栋1203卫生间漏水",
                                  "我住3栋2单元502吗？", "我住3栋", "3栋2单元502", "我住3栋2单元502和5栋1203",
                                  "我住3栋2单元502，楼上噪音很大"])
def test_anything_more_than_a_statement_is_not_one(text: str) -> None:
    assert stated_unit(text) is None


def test_yes_no_and_subscription_words() -> None:
    assert [confirmation(t) for t in ("是", "对的", "是的，没错", "yes", "嗯")] == [True] * 5
    assert [confirmation(t) for t in ("不是", "不对", "no", "错了")] == [False] * 4
    assert confirmation("对不起，我再想想") is None and confirmation("ok", "affirm") is True
    assert [subscription_command(t) for t in ("退订通知", "取消订阅通知", "unsubscribe", "stop notices", "退订")] == [False] * 5
    assert [subscription_command(t) for t in ("订阅通知", "subscribe", "恢复通知")] == [True] * 3
    assert [subscription_command(t) for t in ("取消", "我要退订宽带", "算了")] == [None] * 3


# ---------------------------------------------------------------- policy
@lru_cache(maxsize=1)
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def user(text: str, intent: str = "inform", confidence: float = 0.9) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": confidence})


def tracker(*events: Event, pending: Optional[str] = None) -> DialogueStateTracker:
    history: List[Event] = [ActionExecuted("action_listen"), user("你好", "greet"), ActionExecuted("utter_greet"),
                            ActionExecuted("action_listen")]
    if pending:
        history = [*history, user("我住3栋2单元502"), ActionExecuted("action_residence"),
                   BotUttered("您住在3栋2单元502，对吗？"), SlotSet("pending_residence", pending),
                   ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("rest:r1", [*history, *events], rasa_domain().slots)


@pytest.mark.parametrize("text, intent", [("我住3栋2单元502", "report_repair"), ("I live in building 3 unit 2 room 502", "inform"),
                                          ("我家是5号楼1203", "inform")])
def test_a_statement_goes_to_action_residence(text: str, intent: str) -> None:
    assert decide(tracker(user(text, intent))) == "action_residence"


@pytest.mark.parametrize("text, intent", [("我住3栋2单元502，厨房漏水", "report_repair"), ("是", "affirm"),
                                          ("你好", "greet"), ("物业电话多少？", "ask_question"), ("/affirm", "affirm")])
def test_other_messages_are_left_to_the_normal_dialogue(text: str, intent: str) -> None:
    assert decide(tracker(user(text, intent))) is None


def test_never_in_a_form_for_an_emergency_or_mid_turn() -> None:
    assert decide(tracker(ActiveLoop("repair_form"), user("我住3栋2单元502"))) is None
    assert decide(tracker(ActiveLoop("repair_form"), user("退订通知"))) is None
    assert decide(tracker(user("我住3栋2单元502", "emergency"))) is None
    assert decide(tracker(user("退订通知", "request_human"))) is None
    assert decide(tracker(user("我住3栋2单元502"), ActionExecuted("repair_form"))) is None


def test_the_answer_after_the_question_goes_to_action_residence_then_it_listens() -> None:
    for text, intent in [("是", "affirm"), ("不对", "deny"), ("yes", "affirm"), ("对的", "inform"),
                         ("不对，是3栋2单元503", "deny"), ("好", "affirm")]:
        assert decide(tracker(user(text, intent), pending=PENDING)) == "action_residence", text
    for text, intent in [("我家厨房漏水了", "report_repair"), ("物业几点下班？", "ask_question"), ("转人工", "request_human")]:
        assert decide(tracker(user(text, intent), pending=PENDING)) is None, text
    # Only the message right after the question: a later "是" is something else.
    later = [user("你好", "greet"), ActionExecuted("utter_greet"), ActionExecuted("action_listen")]
    assert decide(tracker(*later, user("是", "affirm"), pending=PENDING)) is None
    assert decide(tracker(user("是", "affirm"), ActionExecuted("action_residence"), pending=PENDING)) == "action_listen"


def test_subscription_commands_go_to_their_action_then_it_listens() -> None:
    for text in ("退订通知", "unsubscribe", "订阅通知", "stop notices"):
        assert decide(tracker(user(text, "stop"))) == "action_notice_subscription", text
    assert decide(tracker(user("退订通知"), ActionExecuted("action_notice_subscription"))) == "action_listen"


# ---------------------------------------------------------------- actions
@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tuple[ResidenceStore, NoticeStore]:
    engine = create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True)
    residence, notices = ResidenceStore(engine), NoticeStore(engine)
    monkeypatch.setattr(residence_actions, "residence_store", lambda: residence)
    monkeypatch.setattr(notice_actions, "notice_store", lambda: notices)
    return residence, notices


def run(action: Any, text: str, domain: Dict[str, Any], pending: Optional[str] = None, intent: str = "inform",
        sender: str = "wechat:o-1") -> Tuple[List[str], Dict[str, Any]]:
    tracker_ = make_tracker(text, intent=intent, slots={"pending_residence": pending}, sender=sender)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, domain))
    return [m["text"] for m in dispatcher.messages], slot_events(events)


def test_statement_confirmation_stores_the_unit(stores: Tuple[ResidenceStore, NoticeStore],
                                                domain: Dict[str, Any]) -> None:
    residence, _ = stores
    action = residence_actions.ActionResidence()
    said, slots = run(action, "我住3栋2单元502", domain)
    assert said == ["您住在3栋2单元502，对吗？请回复“是”或“不是”。"] and json.loads(slots["pending_residence"]) == \
        {"building": "3", "entrance": "2", "room": "502"}
    assert residence.units_of("wechat", "o-1") == []  # nothing stored before the yes
    said, slots = run(action, "是", domain, pending=slots["pending_residence"], intent="affirm")
    assert "已记下您住在3栋2单元502" in said[0] and slots["pending_residence"] is None
    assert [(u.key, u.source) for u in residence.units_of("wechat", "o-1")] == [("3-2-502", "stated")]
    said, _ = run(action, "我住3栋2单元502", domain)
    assert said == ["您的住址3栋2单元502已经登记过了，谢谢。"]


def test_deny_stores_nothing_and_a_correction_is_asked_again(stores: Tuple[ResidenceStore, NoticeStore],
                                                             domain: Dict[str, Any]) -> None:
    residence, _ = stores
    action = residence_actions.ActionResidence()
    said, slots = run(action, "不对", domain, pending=PENDING, intent="deny", sender="telegram:7")
    assert "没有记录" in said[0] and slots["pending_residence"] is None
    said, slots = run(action, "不对，是3栋2单元503", domain, pending=PENDING, intent="deny", sender="telegram:7")
    assert said == ["您住在3栋2单元503，对吗？请回复“是”或“不是”。"]
    said, slots = run(action, "yes", domain, pending=slots["pending_residence"], intent="affirm", sender="telegram:7")
    assert said[0].startswith("Thank you, we've noted that you live at Building 3, Unit 2, Room 503.")
    assert [u.key for u in residence.units_of("telegram", "7")] == ["3-2-503"]


def test_english_statement_is_confirmed_in_english(stores: Tuple[ResidenceStore, NoticeStore],
                                                   domain: Dict[str, Any]) -> None:
    said, _ = run(residence_actions.ActionResidence(), "I live in building 3 unit 2 room 502", domain)
    assert said == ["You live at Building 3, Unit 2, Room 502, is that right? Please reply yes or no."]


def test_unsubscribe_and_subscribe(stores: Tuple[ResidenceStore, NoticeStore], domain: Dict[str, Any]) -> None:
    _, notices = stores
    action = notice_actions.ActionNoticeSubscription()
    assert notices.subscribed("wechat", "o-1")
    said, _ = run(action, "退订通知", domain)
    assert "已为您退订非紧急的物业通知" in said[0] and not notices.subscribed("wechat", "o-1")
    said, _ = run(action, "subscribe", domain)
    assert said[0].startswith("You're subscribed") and notices.subscribed("wechat", "o-1")
