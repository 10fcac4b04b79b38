"""Reading a resident's answer to "rate this service 1–5": a score, and maybe a comment.

Understood (zh and en): a digit ("5", "4分", "打5分", "5 stars", "4/5", "4 out of 5"), a
Chinese or English numeral ("五星", "四分", "five"), stars ("⭐⭐⭐", "★★★★☆"), and clear
satisfied or unsatisfied words ("非常满意", "一般", "很差", "very good", "terrible"). A
comment may follow in the same message after a separator: "3 - slow but fixed",
"4分，师傅很专业", "非常满意！谢谢". Nothing else is a rating: "5楼漏水了", "3点来修",
"5分钟后", "good morning" are not, so a pending rating never swallows a real request.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Rating:
    """A score from 1 to 5 and the comment given with it (``None`` when there is none).

    ``explicit``: the score was a number or stars ("3 - slow"), not a word ("很好，…"), which
    makes it a rating even when the comment sounds like a request.
    """

    score: int
    comment: Optional[str] = None
    explicit: bool = field(default=True, compare=False)


_NUMERALS: Dict[str, int] = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                             "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}

# Words that are a score by themselves, longest first so that "不满意" is not read as "满意".
_WORDS: Dict[str, int] = {
    # 5
    "非常满意": 5, "十分满意": 5, "特别满意": 5, "超级满意": 5, "很满意": 5, "太满意了": 5, "非常好": 5,
    "特别好": 5, "太好了": 5, "很棒": 5, "非常棒": 5, "好评": 5, "五星好评": 5, "满分": 5, "完美": 5,
    "excellent": 5, "very good": 5, "very satisfied": 5, "extremely satisfied": 5, "great": 5,
    "perfect": 5, "awesome": 5, "amazing": 5, "outstanding": 5, "fantastic": 5, "great job": 5, "well done": 5,
    # 4
    "满意": 4, "比较满意": 4, "挺满意": 4, "还算满意": 4, "基本满意": 4, "蛮满意": 4, "不错": 4,
    "还不错": 4, "挺好": 4, "很好": 4, "挺好的": 4, "good": 4, "satisfied": 4, "pretty good": 4,
    "quite good": 4, "not bad": 4, "happy": 4, "good job": 4, "nice": 4,
    # 3
    "一般": 3, "一般般": 3, "还行": 3, "还可以": 3, "马马虎虎": 3, "凑合": 3, "中等": 3, "so-so": 3,
    "so so": 3, "average": 3, "fair": 3, "mediocre": 3,
    # 2
    "不满意": 2, "不太满意": 2, "不怎么满意": 2, "不好": 2, "不太好": 2, "较差": 2, "比较差": 2, "差": 2,
    "不怎么样": 2, "unsatisfied": 2, "dissatisfied": 2, "not satisfied": 2, "not good": 2, "poor": 2,
    "bad": 2, "disappointed": 2, "unhappy": 2,
    # 1
    "非常不满意": 1, "很不满意": 1, "极不满意": 1, "特别不满意": 1, "很差": 1, "非常差": 1, "太差了": 1,
    "太差": 1, "极差": 1, "差评": 1, "很糟糕": 1, "太糟糕了": 1, "糟糕": 1, "terrible": 1, "awful": 1,
    "very bad": 1, "very poor": 1, "very dissatisfied": 1, "horrible": 1, "the worst": 1,
}

_STARS = "⭐★🌟✨"
_EMPTY_STARS = "☆✩"
# Separators between a score and a comment; a bare space only before an English word.
_PUNCTUATION = r"\s*[-–—~:：,，.。!！;；、/|]+\s*"
_SEPARATOR = rf"(?:{_PUNCTUATION}|\s+(?=[A-Za-z]))"
# Polite endings that are not a comment ("5分吧", "非常满意！", "good!").
_TRAILING = re.compile(r"^[\s吧啊呀哦哈了的嘛啦呢~～!！.。👍🙂😊]*$")

_PREFIX = (r"(?:(?:我|我们)?(?:给|打|评|选)(?:个|了|你们|您|你)?\s*|(?:i(?:'d| would)?\s+)?(?:give|rate)"
           r"(?:\s+(?:it|you|this|the service))?(?:\s+(?:an?|a))?\s+|(?:my\s+)?(?:rating|score)\s*(?:is|:)?\s*)?")
_NUMBER = (r"(?P<n>[1-5](?![\d.])|[一二两三四五](?![十百千万])|one|two|three|four|five)"
           r"(?:\s*(?P<unit>分(?!钟)|颗星|星级|星|stars?\b|points?\b|/\s*5\b|out\s+of\s+5\b))?")
_SCORE = re.compile(rf"^\s*{_PREFIX}{_NUMBER}", re.IGNORECASE)
_WORD = re.compile(
    r"^\s*(?:(?:这次|本次)?(?:服务|处理|维修|体验)\s*|(?:the\s+)?(?:service\s+)?(?:was|is)\s+|it\s+was\s+)?"
    r"(?P<w>" + "|".join(re.escape(w) + (r"(?![a-z])" if w.isascii() else "")
                        for w in sorted(_WORDS, key=len, reverse=True)) + ")",
    re.IGNORECASE,
)


def _normalise(text: str) -> str:
    # Full-width digits and letters ("５分") as ASCII; stars and Chinese are unchanged.
    return unicodedata.normalize("NFKC", text or "").strip()


def _rest(text: str, end: int, unit: bool, number: bool = True) -> Tuple[bool, Optional[str]]:
    """What follows a score at ``end``: ``(ok, comment)``; not ok when it makes the score part of
    something else ("5楼", "3点", "4号", "good morning")."""
    rest = text[end:]
    if not rest or _TRAILING.match(rest):
        return True, None
    separated = re.match(_SEPARATOR if number else _PUNCTUATION, rest)
    if separated:
        comment = rest[separated.end():].strip()
    elif unit:
        comment = rest.strip()  # "4分师傅很专业": the unit ends the score
    else:
        return False, None
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", comment):
        return (True, None) if _TRAILING.match(comment) else (False, None)
    return True, None if is_no_comment(comment) else comment


def _stars(text: str) -> Optional[Rating]:
    match = re.match(rf"^\s*([{_STARS}\ufe0f]+)([{_EMPTY_STARS}]*)", text)
    if not match:
        return None
    count = sum(1 for ch in match.group(1) if ch in _STARS)
    if not 1 <= count <= 5:
        return None
    ok, comment = _rest(text, match.end(), unit=True)
    return Rating(count, comment) if ok else None


def parse_rating(text: Optional[str]) -> Optional[Rating]:
    """The rating in ``text``, or ``None`` when the message is not a rating (see the module docstring)."""
    value = _normalise(text or "")
    if not value or value.startswith("/") or len(value) > 500:
        return None
    stars = _stars(value)
    if stars is not None:
        return stars
    # Words first: "一般" and "五星好评" are words, not the numerals 一 and 五.
    match = _WORD.match(value)
    if match:
        ok, comment = _rest(value, match.end(), unit=False, number=False)
        if ok:
            return Rating(_WORDS[match.group("w").lower()], comment, explicit=False)
    match = _SCORE.match(value)
    if match:
        ok, comment = _rest(value, match.end(), unit=bool(match.group("unit")))
        if ok:
            raw = match.group("n").lower()
            return Rating(int(raw) if raw.isdigit() else _NUMERALS[raw], comment)
    return None


_NO_COMMENT = re.compile(
    r"^\W*(没有了?|没了|无|没有意见|没意见|没什么了?|没啥了?|暂时没有|不用了?|算了|就这样吧?|没有别的了?|谢谢|多谢|感谢|好的?|ok|okay"
    r"|no|nope|none|nothing|nothing else|no thanks?|no,? thank you|no comments?|that'?s all|thanks|thank you|n/?a)"
    r"\W*(谢谢|thanks?|thank you)?\W*$",
    re.IGNORECASE,
)


def is_no_comment(text: Optional[str]) -> bool:
    """Whether the reply to "any other comments?" declines ("没有", "no thanks", "谢谢")."""
    return bool(_NO_COMMENT.match(_normalise(text or "")))
