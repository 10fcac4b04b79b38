"""RatingPolicy on Rasa trackers: it predicts the rating actions only for the answer to a prompt."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.satisfaction.policy import decide
from tests.servers import ROOT


@lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def request(stage: str = "rating", expires_in: float = 3600) -> Dict[str, Any]:
    return {"id": 1, "stage": stage, "subject": "handoff:1", "expires_at": time.time() + expires_in}


def user(text: str, intent: str = "inform", confidence: float = 0.9) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": confidence})


def tracker(*events: Event, slot: Optional[Dict[str, Any]] = None) -> DialogueStateTracker:
    history: List[Event] = [ActionExecuted("action_listen"), user("我要转人工", "request_human"),
                            ActionExecuted("action_handoff"), ActionExecuted("action_listen"),
                            BotUttered("请为本次服务打分：回复 1-5（5 = 非常满意）。"), SlotSet("rating_request", slot)]
    return DialogueStateTracker.from_events("rest:r1", [*history, *events], domain().slots)


@pytest.mark.parametrize("text, intent", [("5", "inform"), ("4分", "nlu_fallback"), ("五星", "inform"),
                                          ("⭐⭐⭐", "nlu_fallback"), ("非常满意", "thank"), ("very good", "affirm"),
                                          ("3 - slow but fixed", "complaint")])
def test_the_answer_goes_to_action_rating(text: str, intent: str) -> None:
    assert decide(tracker(user(text, intent), slot=request())) == "action_rating"


def test_then_it_listens_also_when_the_action_cleared_the_slot() -> None:
    assert decide(tracker(user("5"), ActionExecuted("action_rating"), slot=request("comment"))) == "action_listen"
    done = [user("4"), ActionExecuted("action_rating"), SlotSet("rating_request", request("comment")),
            ActionExecuted("action_listen"), user("师傅很好"), ActionExecuted("action_rating_comment"),
            SlotSet("rating_request", None)]
    assert decide(tracker(*done, slot=request())) == "action_listen"
    assert decide(tracker(user("3 - slow"), ActionExecuted("action_rating"), SlotSet("rating_request", None),
                          slot=request())) == "action_listen"


@pytest.mark.parametrize("text, intent", [
    ("我家厨房水管漏水了", "report_repair"), ("物业电话多少？", "ask_question"), ("转人工", "request_human"),
    ("5楼着火了", "emergency"), ("查询工单", "check_ticket"), ("你好", "greet"), ("算了", "stop"),
    ("很好，我家又漏水了", "report_repair"), ("/affirm", "affirm"),
])
def test_a_real_request_is_left_to_the_normal_dialogue(text: str, intent: str) -> None:
    assert decide(tracker(user(text, intent), slot=request())) is None


def test_an_emergency_is_never_a_rating_even_when_it_reads_like_one() -> None:
    assert decide(tracker(user("5 - smoke in the stairwell", "emergency"), slot=request())) is None


def test_no_request_an_expired_one_or_a_form_in_progress_means_no_prediction() -> None:
    assert decide(tracker(user("5"), slot=None)) is None
    assert decide(tracker(user("5"), slot=request(expires_in=-1))) is None
    assert decide(tracker(ActiveLoop("repair_form"), user("5"), slot=request())) is None
    # mid-turn, after another action (e.g. the form that a repair report started)
    assert decide(tracker(user("5"), ActionExecuted("repair_form"), slot=request())) is None


def test_the_message_right_after_the_invitation_is_the_comment() -> None:
    invited = [user("4"), ActionExecuted("action_rating"), BotUttered("还有什么意见或建议吗？"),
               SlotSet("rating_request", request("comment")), ActionExecuted("action_listen")]
    for text, intent in [("师傅很耐心", "inform"), ("没有", "deny"), ("来得有点慢", "complaint"), ("谢谢", "thank"),
                         ("不用了", "stop")]:
        assert decide(tracker(*invited, user(text, intent), slot=request())) == "action_rating_comment", text
    for text, intent in [("我家又漏水了", "report_repair"), ("物业几点下班？", "ask_question"),
                         ("我要投诉楼下噪音", "complaint"), ("转人工", "request_human"), ("5楼着火了", "emergency")]:
        assert decide(tracker(*invited, user(text, intent), slot=request())) is None, text
    # A comment the classifier half-recognises as something else is still the comment.
    assert decide(tracker(*invited, user("师傅很耐心 110479", "check_ticket", 0.55), slot=request())) == \
        "action_rating_comment"
    # Invited once: a later message is not taken as the comment.
    later = [*invited, user("你好", "greet"), ActionExecuted("utter_greet"), ActionExecuted("action_listen")]
    assert decide(tracker(*later, user("师傅很耐心"), slot=request())) is None


def test_a_score_given_as_a_number_counts_even_when_the_comment_sounds_like_a_request() -> None:
    assert decide(tracker(user("3 - slow but fixed", "report_repair"), slot=request())) == "action_rating"
    assert decide(tracker(user("3 - slow but fixed", "stop", 0.6), slot=request())) == "action_rating"  # seen live
    assert decide(tracker(user("4分，师傅修得很好", "report_repair"), slot=request())) == "action_rating"
    assert decide(tracker(user("我要投诉，5分都不想给", "complaint"), slot=request())) is None
