"""``FollowupPolicy.decide`` on Rasa trackers: which messages after a knowledge-base answer go back to it."""

from __future__ import annotations

from functools import lru_cache
from typing import List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.followup.policy import ACTION, decide, follows_up
from knowledge.followup import KBContext
from tests.servers import ROOT

ZH_CONTEXT = KBContext("物业几点下班？", "zh", faq_id="contacts-office-hours", turn=1).to_json()
EN_CONTEXT = KBContext("Where are the parcel lockers?", "en", faq_id="delivery-lockers", turn=1).to_json()


@lru_cache(maxsize=1)
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def user(text: str, intent: str, confidence: float = 0.45) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": confidence})


def after_answer(*events: Event, context: str = ZH_CONTEXT, answered_by: str = ACTION) -> DialogueStateTracker:
    """A conversation whose previous turn ``answered_by`` answered, then ``events``."""
    first = "物业几点下班？" if context == ZH_CONTEXT else "Where are the parcel lockers?"
    history: List[Event] = [ActionExecuted("action_listen"), user(first, "ask_question", 0.95),
                            ActionExecuted(answered_by), BotUttered("…"), SlotSet("kb_context", context),
                            ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("rest:r1", [*history, *events], rasa_domain().slots)


@pytest.mark.parametrize("text, intent, confidence", [
    ("周末呢？", "greet", 0.41), ("那访客呢", "greet", 0.28), ("收费不", "deny", 0.55), ("要预约不", "deny", 0.42),
    ("错过了咋办", "stop", 0.55), ("多久回复", "check_ticket", 0.30), ("晚上呢", "greet", 0.60)])
def test_a_misread_follow_up_goes_back_to_the_knowledge_base(text: str, intent: str, confidence: float) -> None:
    assert decide(after_answer(user(text, intent, confidence))) == ACTION


@pytest.mark.parametrize("text, intent", [("and the gym?", "affirm"), ("where?", "greet"),
                                          ("and if I miss it?", "stop")])
def test_english_follow_ups(text: str, intent: str) -> None:
    assert decide(after_answer(user(text, intent), context=EN_CONTEXT)) == ACTION


@pytest.mark.parametrize("text, intent, confidence", [
    ("你好", "greet", 0.45), ("谢谢", "thank", 0.5), ("好的", "affirm", 0.5), ("不用了", "deny", 0.6),
    ("thanks", "thank", 0.5), ("no", "deny", 0.5),                    # short, but they ask nothing
    ("中午呢", "greet", 0.85),                                         # the classifier is sure enough
    ("那我要报修", "report_repair", 0.6),                              # a task, and not unsure of it
    ("那怎么办，有人被困在电梯里", "emergency", 0.3), ("找人工呢", "request_human", 0.3),
    ("是机器人吗", "bot_challenge", 0.5),
    ("周末呢？", "ask_question", 0.5), ("周末呢？", "nlu_fallback", 0.2),  # the rules already route these
    ("箱子太大塞不进去咋办", "report_repair", 0.47)])                  # says too much to lean on the answer
def test_other_messages_are_left_to_the_rules(text: str, intent: str, confidence: float) -> None:
    assert decide(after_answer(user(text, intent, confidence))) is None


def test_only_right_after_a_knowledge_base_answer_and_outside_forms() -> None:
    follow_up = user("周末呢？", "greet", 0.41)
    assert decide(after_answer(follow_up, answered_by="utter_greet")) is None
    assert decide(after_answer(ActiveLoop("repair_form"), follow_up)) is None
    no_context = DialogueStateTracker.from_events("rest:r1", [
        ActionExecuted("action_listen"), user("物业几点下班？", "ask_question", 0.95), ActionExecuted(ACTION),
        ActionExecuted("action_listen"), follow_up], rasa_domain().slots)
    assert decide(no_context) is None


def test_after_its_own_answer_it_listens_and_otherwise_abstains() -> None:
    taken = after_answer(user("周末呢？", "greet", 0.41), ActionExecuted(ACTION), SlotSet("kb_context", ZH_CONTEXT))
    assert decide(taken) == "action_listen"
    # A turn the rules took (ask_question → action_answer_question) is theirs to finish
    # (the repeated-misunderstanding rule may hand off after it).
    ruled = after_answer(user("周末呢？", "nlu_fallback", 0.2), ActionExecuted(ACTION))
    assert decide(ruled) is None


def test_follows_up_reads_the_message_in_its_own_language() -> None:
    assert follows_up(user("and the gym?", "affirm"), "en")
    assert not follows_up(user("/greet", "greet"), "zh")
    assert not follows_up(user("", "greet"), "zh")
