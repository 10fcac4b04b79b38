"""What a resident's message means in the middle of a form.

A message sent while a form waits for an answer is one of three things: the
answer to the pending question, a change of something said before ("电话改成…",
"actually it's urgent"), or something else entirely — a cancel, an emergency, a
request for a human, a question. These helpers tell them apart; the form
validation actions decide what to do.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set

from rasa_sdk import Tracker

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

_QUESTION_ZH = re.compile(r"(吗|呢|么)[？?。！!\s]*$|多少|几点|几号|什么时候|怎么|如何|哪里|哪儿|在哪|什么|是否|能不能|可不可以|可以.{0,8}吗|有没有|为什么|谁")
_QUESTION_EN = re.compile(
    r"^\W*(what|when|where|how|why|who|which|can|could|is|are|do|does|will|would|should|may)\b", re.IGNORECASE)

# "no", "不对", "修改", "change" at the confirmation: the resident wants to change something.
_EDIT_REQUEST = re.compile(
    r"^\W*(不对|不是|错了|有误|修改|改一下|要改|改|更改|change( something)?|edit|wrong|not (right|correct)|incorrect|no|nope|deny)\W*$"
    r"|^\W*(不对|不是|错了|no|nope|wrong)\W*[，,]?\s*(要|需要)?(改|修改)",
    re.IGNORECASE,
)
_YES = re.compile(
    r"^\W*(是|是的|对|对的|好|好的|确认|确认提交|提交|没问题|正确|可以|行|嗯+|ok|okay|yes|yep|yeah|y|sure|correct|confirm|submit|right|go ahead)\W*$",
    re.IGNORECASE,
)

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
    """The resident wants to stop what they started."""
    if intent.get("name") == "stop" and float(intent.get("confidence") or 0) >= 0.5:
        return True
    asks = "?" in text or "？" in text  # "取消门禁卡要怎么办？" is a question, not a cancel
    return text.startswith("/stop") or (len(text) <= _CANCEL_MAX_CHARS and not asks and bool(_CANCEL.search(text)))


def is_question(text: str) -> bool:
    """The message asks something (a question mark, a question word, a final 吗/呢)."""
    if not text or text.startswith("/"):
        return False
    return "?" in text or "？" in text or bool(_QUESTION_ZH.search(text) or _QUESTION_EN.search(text))


def is_yes(text: str, intent: Dict[str, Any]) -> bool:
    """A plain yes to the confirmation."""
    return text.startswith("/affirm") or bool(_YES.match(text)) or (
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
