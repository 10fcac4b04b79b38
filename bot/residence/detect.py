"""Pattern-based reading of residence statements, yes/no answers and notice commands.

No classifier is involved (no retraining): a residence statement is a cue ("我住", "我家是",
"I live in", "my flat is") plus a complete flat (:func:`bot.nlu.patterns.find_units`, the
parser the NLU and the repair form use) and **nothing else** but politeness. "我住3栋2单元502，
厨房漏水" has more (a repair report): it is not a statement, the repair form takes it.
"""

from __future__ import annotations

import re
from typing import Optional

from bot.nlu.patterns import Unit, find_units, parse_unit
from bot.nlu.questions import is_question

_CUE = re.compile(
    r"(?:我们?家?|本人|我们家)?(?:现在|目前|就)?(?:家住|住在|住的是|住|家是|家在|是)(?:在)?"
    r"|(?i:\b(?:i|we)\s+(?:now\s+|currently\s+)?(?:live|stay|reside)\s+(?:in|at)\b)"
    r"|(?i:\bmy\s+(?:home|flat|apartment|unit|address|place)\s+is(?:\s+(?:in|at))?\b)"
    r"|(?i:\b(?:i'?m|i am|we'?re|we are)\s+(?:in|at|the owner of|a resident of)\b)"
)
#: What may surround a statement without making it something else.
_FILLER = re.compile(
    r"(?:的|业主|住户|房主|那户|这户|房子|房间|室|号|户|您好|你好|谢谢|请记一下|麻烦记一下|记一下|麻烦|登记一下|请登记|"
    r"(?i:\b(?:hi|hello|thanks|thank you|please note|please|note|the owner|owner|resident|of|by the way|fyi)\b)|"
    r"[\s,，。.!！~、;；:：])+"
)
_YES = re.compile(r"^(?:(?:是的?|对的?|对啊|没错|正确|嗯+|好的?|确认|是我家|(?i:y|yes|yeah|yep|correct|right|that'?s right|sure|ok|okay))"
                  r"(?:的|呢|啊)?[\s,，。.!！~]*)+$")
_NO = re.compile(r"^(?:不是|不对|错了|不|没有|否|(?i:n|no|nope|wrong|not (?:right|correct)|incorrect))(?:的|呢|啊)?"
                 r"[\s,，。.!！~]*$")
_UNSUBSCRIBE = re.compile(
    r"^(?:请|麻烦)?(?:帮我)?(?:退订|取消订阅|取消(?:物业)?通知|不要再?发(?:物业)?通知|不再接收(?:物业)?通知|关闭(?:物业)?通知|别再?发(?:物业)?通知)"
    r"(?:物业)?(?:通知|消息|公告)?(?:了|吧)?[\s,，。.!！~]*$"
    r"|^(?i:(?:please\s+)?(?:unsubscribe(?:\s+(?:me|from\s+(?:the\s+)?notices))?|stop\s+(?:sending\s+(?:me\s+)?)?(?:the\s+)?notices|"
    r"no\s+more\s+notices|opt\s+out(?:\s+of\s+notices)?))[\s,.!]*$")
_SUBSCRIBE = re.compile(
    r"^(?:请|麻烦)?(?:帮我)?(?:订阅|重新订阅|恢复(?:接收)?|开启|接收)(?:物业)?(?:通知|消息|公告)?(?:吧)?[\s,，。.!！~]*$"
    r"|^(?i:(?:please\s+)?(?:subscribe(?:\s+(?:me|to\s+(?:the\s+)?notices))?|resume\s+(?:the\s+)?notices|"
    r"start\s+(?:sending\s+(?:me\s+)?)?(?:the\s+)?notices|opt\s+in))[\s,.!]*$")


def stated_unit(text: str) -> Optional[Unit]:
    """The flat a message states as the resident's home, or ``None`` when it is anything else."""
    text = (text or "").strip()
    if not text or text.startswith("/") or is_question(text):
        return None
    units = list(find_units(text))
    if len(units) != 1:
        return None
    match = units[0]
    before, after = text[: match.start], text[match.end:]
    cue = None
    for found in _CUE.finditer(before):
        cue = found
    if cue is None or _FILLER.sub("", before[: cue.start()]) or _FILLER.sub("", before[cue.end():]):
        return None
    if _FILLER.sub("", after):
        return None  # more than the statement: a report, a question, a correction...
    return parse_unit(match.text)


_CORRECTION_BEFORE = re.compile(
    r"^(?:不对|不是|错了|应该是|其实是|是|在|(?i:no|nope|not quite|actually|it'?s|it is|sorry)|[\s,，。.!！、:：])*$")


def corrected_unit(text: str) -> Optional[Unit]:
    """The unit of an answer to "您住在…，对吗？" that names another one ("不对，是3栋2单元503",
    "no, 3-2-503", or a statement), else ``None``."""
    text = (text or "").strip()
    stated = stated_unit(text)
    if stated is not None:
        return stated
    if not text or is_question(text):
        return None
    units = list(find_units(text))
    if len(units) != 1:
        return None
    match = units[0]
    if not _CORRECTION_BEFORE.match(text[: match.start]) or _FILLER.sub("", text[match.end:]):
        return None
    return parse_unit(match.text)


def confirmation(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """``True`` for yes, ``False`` for no, ``None`` when the message is neither (words first, then the intent)."""
    value = (text or "").strip()
    if _NO.match(value):
        return False
    if _YES.match(value):
        return True
    if len(value) <= 12 and intent in ("affirm", "deny"):
        return intent == "affirm"
    return None


def subscription_command(text: str) -> Optional[bool]:
    """``False`` for "退订通知" / "unsubscribe", ``True`` for "订阅通知" / "subscribe", else ``None``."""
    value = (text or "").strip()
    if _UNSUBSCRIBE.match(value):
        return False
    if _SUBSCRIBE.match(value):
        return True
    return None
