"""What a resident's message means in the middle of a form.

A message sent while a form waits for an answer is one of three things: the
answer to the pending question, a change of something said before ("电话改成…",
"actually it's urgent"), or something else entirely — a cancel, an emergency, a
request for a human, a question. These helpers tell them apart; the form
validation actions decide what to do.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Set, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.questions import dont_know, is_question

logger = logging.getLogger(__name__)

#: Intents that leave the form through a rule (data/rules.yml): the form rejects the turn.
LEAVING_INTENTS = {"emergency", "stop", "request_human", "goodbye"}
#: Intents answered by a rule before the form asks its question again.
ASIDE_INTENTS = {"check_ticket", "bot_challenge", "greet", "thank"}
#: Intents that are questions for the knowledge base.
QUESTION_INTENTS = {"ask_question", "out_of_scope", "nlu_fallback"}

# Saying "stop" in so many words; short messages only, so "取消门禁卡怎么办" stays a question.
_CANCEL = re.compile(
    r"(算了|不用了|不用报了|不用修了|不用麻烦了|取消|不报了|不修了|不弄了|不要了|别报了|不投诉了|撤销|退出|不需要了|先不报|不想报了"
    r"|\bnever ?mind\b|\bcancel\b|\bforget (it|about it|the \w+)\b|\bscrap (it|that)\b|\bdrop it\b|\babort\b|\bquit\b"
    r"|\bdon'?t (file|bother|submit)\b|\bno need( any ?more)?\b|\bchanged my mind\b|^\W*stop\W*$)",
    re.IGNORECASE,
)
_CANCEL_MAX_CHARS = 24


# "no", "不对", "修改", "change" at the confirmation: the resident wants to change something.
_EDIT_REQUEST = re.compile(
    r"^\W*(不对|不是|错了|有误|修改|改一下|要改|改|更改|change( something)?|edit|wrong|not (right|correct)|incorrect|no|nope|deny)\W*$"
    r"|^\W*(不对|不是|错了|no|nope|wrong)\W*[，,]?\s*(要|需要)?(改|修改)",
    re.IGNORECASE,
)
# A confirmation is a yes when it says nothing but yes-words and politeness: "确认", "是的，提交吧",
# "yes, submit it", "ok please go ahead". Anything else left over ("yes but the phone is wrong",
# "不对") makes it something other than a plain yes.
_YES_WORDS = ("确认提交", "确认无误", "没问题", "是的", "对的", "好的", "确认", "提交", "正确", "可以", "没错", "无误",
              "是", "对", "好", "行", "嗯", "go ahead", "looks good", "all good", "that's right", "okay", "yes",
              "yep", "yeah", "sure", "correct", "confirm", "submit", "right", "ok", "y")
_POLITE = ("谢谢", "麻烦了", "吧", "了", "啊", "呀", "哈", "please", "thanks", "thank you", "do it", "it", "now",
           "that", "is", "all", "send")


def _alternatives(words: Tuple[str, ...]) -> str:
    # Longest first; English words must end at a word boundary ("y" is not the start of "yesterday").
    return "|".join(re.escape(w) + (r"(?![a-z'])" if w.isascii() else "") for w in sorted(words, key=len, reverse=True))


_YES_PART = re.compile(rf"[\W_]*(?:(?P<yes>{_alternatives(_YES_WORDS)})|{_alternatives(_POLITE)}|嗯+)[\W_]*",
                       re.IGNORECASE)


def _plain_yes(text: str) -> bool:
    position, said_yes = 0, False
    while position < len(text):
        match = _YES_PART.match(text, position)
        if match is None or match.end() == position:
            return False
        said_yes = said_yes or bool(match.group("yes")) or "嗯" in match.group(0)
        position = match.end()
    return said_yes


# A field named without a new value, after "修改": ask that question again.
FIELD_WORDS = {
    "unit": re.compile(r"地址|位置|房号|门牌|地点|\b(address|place|location|flat|unit|room)\b", re.IGNORECASE),
    "phone": re.compile(r"电话|手机|号码|\b(phone|number|mobile)\b", re.IGNORECASE),
    "repair_description": re.compile(r"问题|描述|情况|\b(problem|description|issue)\b", re.IGNORECASE),
    "repair_category": re.compile(r"类别|分类|类型|\b(category|kind|type)\b", re.IGNORECASE),
    "urgency": re.compile(r"紧急程度|急不急|\burgency\b", re.IGNORECASE),
    "visit_time": re.compile(r"时间|上门|\b(time|visit)\b", re.IGNORECASE),
}

# "问题是…" / "描述改成…" / "the problem is …": a new description.
_DESCRIPTION_CHANGE = re.compile(
    r"(?:问题|描述|情况)(?:应该)?(?:是|改成|改为|换成)[:：，,\s]*(?P<zh>.+)"
    r"|\b(?:the )?(?:problem|issue|description) (?:is|should be)(?: actually)?[:,\s]+(?P<en>.+)",
    re.IGNORECASE,
)


def latest_text(tracker: Tracker) -> str:
    """The latest message's text, stripped."""
    return ((tracker.latest_message or {}).get("text") or "").strip()


def latest_intent(tracker: Tracker) -> Dict[str, Any]:
    """The latest message's top intent (``{"name": ..., "confidence": ...}``)."""
    return (tracker.latest_message or {}).get("intent") or {}


def entities(tracker: Tracker, entity: str) -> List[str]:
    """Values of ``entity`` in the latest message."""
    return [str(e.get("value")) for e in (tracker.latest_message or {}).get("entities", [])
            if e.get("entity") == entity and e.get("value") is not None]


def is_cancel(text: str, intent: Dict[str, Any]) -> bool:
    """The resident wants to stop what they started (said in so many words, or a very confident ``stop``).

    A wrong cancel loses the resident's report, so the classifier alone must be sure.
    """
    if intent.get("name") == "stop" and float(intent.get("confidence") or 0) >= 0.9 and len(text) <= _CANCEL_MAX_CHARS:
        return True
    asks = "?" in text or "？" in text  # "取消门禁卡要怎么办？" is a question, not a cancel
    return text.startswith("/stop") or (_short(text) and not asks and bool(_CANCEL.search(text)))


def _short(text: str) -> bool:
    """Short enough to be about the conversation itself (24 characters, or 10 English words)."""
    return len(text) <= _CANCEL_MAX_CHARS or (text.isascii() and len(text.split()) <= 10)


_GREETING = re.compile(r"你好|您好|嗨|哈喽|哈罗|早上好|下午好|晚上好|在吗|在不在|\b(hi|hello|hey|hiya|good (morning|afternoon|evening))\b",
                       re.IGNORECASE)
_THANKS = re.compile(r"谢|感谢|辛苦|\b(thanks?|thx|ty|cheers)\b", re.IGNORECASE)


def asks_something(text: str, intent: Dict[str, Any]) -> bool:
    """A question for the knowledge base: question words, or a confident question intent.

    "不知道几号" (I don't know) and "啥？" (say again?) are not.
    """
    if not text or text.startswith("/") or dont_know(text) or len(re.sub(r"[\W_]+", "", text)) <= 2:
        return False
    confident = intent.get("name") in QUESTION_INTENTS and float(intent.get("confidence") or 0) >= 0.8
    return is_question(text) or confident


_FILLER_ONLY = re.compile(r"^\W*(啊|嗯|哦|噢|呃|额|哈|好|行|嗯嗯|huh|hmm+|um+|uh+|what|eh|ok|okay)\W*$", re.IGNORECASE)


def says_nothing(text: str) -> bool:
    """"啊？", "嗯", "huh": no content, whatever is being asked."""
    return bool(_FILLER_ONLY.match(text)) or not re.sub(r"[\W_]+", "", text)


def is_small_talk(text: str, intent: Dict[str, Any]) -> bool:
    """A greeting or thanks that the classifier found and the words confirm ("就在我家啊" is no greeting)."""
    name = intent.get("name")
    if name == "greet":
        return bool(_GREETING.search(text))
    if name == "thank":
        return bool(_THANKS.search(text))
    return name in ASIDE_INTENTS - {"greet", "thank"}


def is_yes(text: str, intent: Dict[str, Any]) -> bool:
    """A plain yes to the confirmation."""
    return text.startswith("/affirm") or _plain_yes(text.strip()) or (
        intent.get("name") == "affirm" and float(intent.get("confidence") or 0) >= 0.6 and len(text) <= 12)


_CHANGE_WORD = re.compile(r"改|错|不对|\b(change|edit|wrong|fix|correct(ion)?)\b", re.IGNORECASE)


def is_edit_request(text: str, intent: Dict[str, Any]) -> bool:
    """A "no"/"change it" at the confirmation, without the new value ("不对", "改一下电话")."""
    return text.startswith("/deny") or bool(_EDIT_REQUEST.search(text)) or (
        intent.get("name") == "deny" and len(text) <= 12) or (len(text) <= 20 and bool(_CHANGE_WORD.search(text)))


def named_fields(text: str) -> Set[str]:
    """The form fields a message names ("改一下电话" → {"phone"})."""
    return {slot for slot, pattern in FIELD_WORDS.items() if pattern.search(text)}


def description_change(text: str) -> Optional[str]:
    """The new description in "问题是…" / "the problem is …", if the message says one."""
    match = _DESCRIPTION_CHANGE.search(text)
    if not match:
        return None
    return (match.group("zh") or match.group("en") or "").strip(" 。.!！") or None


def value_before_turn(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message.

    Rasa's global entity mappings (``unit``, ``phone``) set slots before the form
    runs, so the tracker already holds the new value; a change of mind is
    recognised against the value the slot had before this message.
    """
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    if last_user == len(events):
        return tracker.get_slot(slot)
    # Not set in this conversation's events: a tracker built from slots only (tests, restored sessions).
    set_now = any(e.get("event") == "slot" and e.get("name") == slot for e in events[last_user:])
    return None if set_now else tracker.get_slot(slot)


def user_turn_is_new(tracker: Tracker, form: str) -> bool:
    """True when the form runs right after a resident's message (not after an interruption's answer).

    Rasa calls the validation action both after a new message and when it comes
    back to the form after a rule answered an interruption ("查一下工单"); the
    latter must not read the same message again.
    """
    ignored = {"action_listen", "action_extract_slots", form, None}
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action" and event.get("name") not in ignored:
            return False
    return True


async def answer_in_form(dispatcher: CollectingDispatcher, text: str, lang: str) -> None:
    """Answer a question asked in the middle of a form; the form then asks its question again."""
    from actions.answer_question import knowledge_answer  # heavy imports only when a question comes

    try:
        result = await asyncio.to_thread(knowledge_answer, text, lang)
    except Exception:  # the knowledge base is optional for filing a report
        logger.exception("knowledge base failed during a form: %r", text)
        dispatcher.utter_message(response="utter_kb_no_answer_in_form")
        return
    if getattr(result, "abstained", False):
        dispatcher.utter_message(response="utter_kb_no_answer_in_form")
    else:
        dispatcher.utter_message(text=result.reply_text())
