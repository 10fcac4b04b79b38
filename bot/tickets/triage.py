"""Reads a resident's free-text problem: what it is, how urgent, in which category.

Keyword rules, checked in order (``电梯`` before ``电``, ``楼道灯`` before ``灯``),
are enough to pre-fill the repair form; the resident can always correct the
category in the confirmation step.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from bot.nlu.patterns import find_entities
from bot.tickets.labels import LABELS
from bot.tickets.models import REPAIR_CATEGORIES

_CATEGORY_KEYWORDS: Sequence[Tuple[str, Sequence[str]]] = (
    ("elevator", ("电梯", "elevator", "lift")),
    ("public_area", ("楼道", "走廊", "公共", "路灯", "大堂", "车库", "草坪", "绿化", "垃圾房", "楼梯间",
                     "hallway", "corridor", "stairwell", "staircase", "lobby", "street light", "garage", "public")),
    ("appliance", ("家电", "电器", "空调", "热水器", "燃气灶", "煤气灶", "冰箱", "洗衣机", "油烟机", "烤箱", "地暖", "暖气",
                   "air conditioner", "air-con", "aircon", "water heater", "boiler", "stove", "fridge",
                   "refrigerator", "washing machine", "range hood", "heating", "radiator", "appliance", "ac", "a/c")),
    # Not a bare "门": "上门" (come over) and "门口" (entrance) are not doors.
    ("doors_locks", ("门禁", "门锁", "锁", "房门", "入户门", "防盗门", "单元门", "大门", "车库门", "卷帘门",
                     "门把", "门关", "门打不开", "门坏", "门框", "窗", "钥匙", "door", "lock", "key", "window", "gate", "access card")),
    ("plumbing", ("漏水", "渗水", "水管", "下水", "堵", "马桶", "水龙头", "地漏", "水压", "没水", "爆管", "滴水",
                  "leak", "pipe", "drain", "clog", "blocked", "toilet", "faucet", "tap", "water", "sink", "flood")),
    ("electrical", ("跳闸", "插座", "开关", "电路", "停电", "没电", "灯", "电", "power", "socket", "outlet",
                    "switch", "breaker", "fuse", "light", "electric", "wiring")),
)

_URGENT_WORDS = ("紧急", "很急", "急", "马上", "立刻", "赶紧", "严重", "大量", "爆管", "困", "着火", "冒烟", "触电",
                 "urgent", "emergency", "asap", "right now", "immediately", "flooding", "stuck", "trapped",
                 "smoke", "fire", "sparks")
_NOT_URGENT = ("不急", "不紧急", "不着急", "not urgent", "no rush", "whenever")

# Words that say "I want to report something" but not what is broken.
_FILLER = re.compile(
    r"(我要|我想|想要|帮我|麻烦|请|你好|您好|报修|报个修|维修|修理|修一下|投诉|一下|电话|手机|联系方式|地址|"
    r"我家|我住|住在|是|的|了|啊|呀|吧|呢|哦|嗯|"
    r"\b(i|want|would|like|to|need|a|an|the|report|repair|request|file|please|hi|hello|my|is|it|there|"
    r"complain|complaint|about|make|fix|phone|number|call|me|at|in|flat|unit|room|building)\b)",
    re.IGNORECASE,
)
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{3,}")


def _keyword_pattern(words: Sequence[str]) -> "re.Pattern[str]":
    # English keywords must match whole words ("ac" is not in "back"); Chinese ones anywhere.
    parts = [rf"\b{re.escape(w)}" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts), re.IGNORECASE)


_CATEGORY_PATTERNS = [(category, _keyword_pattern(words)) for category, words in _CATEGORY_KEYWORDS]
_URGENT_PATTERN = _keyword_pattern(_URGENT_WORDS)
_NOT_URGENT_PATTERN = _keyword_pattern(_NOT_URGENT)
# Words that label a phone number or a unit ("phone: 138…", "房号 3-1202").
_PHONE_LABELS = r"联系电话|电话|手机|phone( number)?|tel|mobile|call me( at)?|contact"
_UNIT_LABELS = r"房号|门牌号?|住址|地址|unit|flat|room|apt|apartment|address"
# The label in front of a unit or number found in the text goes with it.
_LABEL_BEFORE_ENTITY = re.compile(rf"({_PHONE_LABELS}|{_UNIT_LABELS})[：:#\s]*$", re.IGNORECASE)
_REPEATED_SEPARATORS = re.compile(r"\s*([，,;；])(\s*[，,;；])+")
# A phone label left with nothing after it ("…漏水了，联系电话："); unit words are not
# stripped there, since they usually belong to the description ("no power in the living room").
_TRAILING_LABEL = re.compile(rf"[，,。\s]*({_PHONE_LABELS})[：:\s]*$", re.IGNORECASE)


def infer_category(text: str) -> Optional[str]:
    """The repair category suggested by keywords in ``text``, if any."""
    for category, pattern in _CATEGORY_PATTERNS:
        if pattern.search(text):
            return category
    return None


def normalise_category(answer: str) -> Optional[str]:
    """Map a resident's answer ("plumbing", "电梯", "3") onto a category code."""
    cleaned = answer.strip().lower().lstrip("/")
    if cleaned in REPAIR_CATEGORIES:
        return cleaned
    by_label = {
        text.lower(): code for code, texts in LABELS["category"].items() for text in texts.values()
    }
    if cleaned in by_label:  # the button titles themselves ("家电设备", "doors and locks")
        return by_label[cleaned]
    if cleaned.isdigit() and 1 <= int(cleaned) <= len(REPAIR_CATEGORIES):
        return REPAIR_CATEGORIES[int(cleaned) - 1]
    if cleaned in ("其他", "其它", "other", "others"):
        return "other"
    return infer_category(cleaned)


def infer_urgency(text: str) -> Optional[str]:
    """``"urgent"``/``"normal"`` when the text says so, else ``None``."""
    if _NOT_URGENT_PATTERN.search(text):
        return "normal"
    if _URGENT_PATTERN.search(text):
        return "urgent"
    return None


def normalise_urgency(answer: str) -> Optional[str]:
    """Map an answer to the urgency question onto ``urgent``/``normal``."""
    cleaned = answer.strip().lower().lstrip("/")
    if cleaned in ("urgent", "normal"):
        return cleaned
    if cleaned in ("1", "是", "是的", "对", "yes", "y", "yeah", "yep"):
        return "urgent"
    if cleaned in ("2", "否", "不是", "no", "n", "nope", "一般", "普通", "不"):
        return "normal"
    return infer_urgency(cleaned)


def clean_description(text: str) -> Optional[str]:
    """The problem description in ``text``, or ``None`` when it names no problem.

    Units and phone numbers are removed (they have their own slots); what remains
    must still say something beyond "I want to report a repair".
    """
    if not text or text.startswith("/"):
        return None
    stripped = text
    for match in reversed(find_entities(text)):
        # The label in front of a unit or number goes with it ("unit 3-1202", "电话 138…").
        before = _LABEL_BEFORE_ENTITY.sub("", stripped[: match.start])
        stripped = before + " " + stripped[match.end :]
    stripped = _REPEATED_SEPARATORS.sub(r"\1", stripped)
    residue = _FILLER.sub(" ", stripped)
    meaningful = len(_MEANINGFUL.findall(residue))
    if meaningful < 2 and not (meaningful == 1 and infer_category(residue)):
        return None
    description = _TRAILING_LABEL.sub("", re.sub(r"\s+", " ", stripped).strip(" ，,。.;；:："))
    return description or None
