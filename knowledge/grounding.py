"""Check that a generated answer states only facts found in its passages.

Small models invent phone numbers, prices, dates and names. We extract such
"checkable" facts from the answer (digit groups, Chinese numerals, e-mail
addresses, URLs, 《titles》, capitalised names) and require each to occur in
the passages or in the question; otherwise the caller falls back to the best
passage.
"""

from __future__ import annotations

import re
from typing import Iterable, List

_PHONE = re.compile(r"(?<![\d])(?:\+?\d[\d\s\-–]{5,}\d)(?![\d])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_BOOK = re.compile(r"《([^》]{1,40})》")
_CN_NUM = re.compile(r"[零〇一二两三四五六七八九十百千万]{2,}")
_CAP_WORD = re.compile(r"(?<![.!?。！？]\s)(?<!^)\b([A-Z][a-z]{2,}(?:\s[A-Z][a-z]+)*)")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# words often capitalised mid-sentence that are not facts
_CAP_OK = {"Yes", "No", "Please", "The", "You", "Your", "For", "And", "But", "If", "Service", "Centre", "Center"}


def cn_to_int(text: str) -> int:
    """Value of a simple Chinese numeral ("十五" -> 15, "二百三十" -> 230)."""
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + digit) * unit
                section = 0
            else:
                section += (digit or 1) * unit
            digit = 0
    return total + section + digit


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _numbers(text: str) -> set:
    nums = {n.replace(",", "") for n in _NUMBER.findall(text)}
    nums |= {str(cn_to_int(m)) for m in _CN_NUM.findall(text)}
    return nums


def unsupported_facts(answer: str, passages: Iterable[str], question: str = "") -> List[str]:
    """Facts stated in ``answer`` that appear neither in ``passages`` nor in ``question``."""
    source = "\n".join(passages) + "\n" + question
    source_lower = source.lower()
    source_digits = _digits(source)
    source_numbers = _numbers(source)
    bad: List[str] = []
    for phone in _PHONE.findall(answer):
        if len(_digits(phone)) >= 6 and _digits(phone) not in source_digits:
            bad.append(phone.strip())
    for num in _numbers(_PHONE.sub(" ", answer)):
        if num not in source_numbers and num.rstrip("0").rstrip(".") not in source_numbers:
            bad.append(num)
    for pattern in (_EMAIL, _URL):
        bad.extend(m for m in pattern.findall(answer) if m.lower() not in source_lower)
    bad.extend(f"《{t}》" for t in _BOOK.findall(answer) if t not in source)
    for name in _CAP_WORD.findall(answer):
        if name.split()[0] not in _CAP_OK and name.lower() not in source_lower:
            bad.append(name)
    return bad


_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_EN_WORD = re.compile(r"[a-z]{3,}")
_EN_STOP = set("the and for are you your with that this can not but from have has will they them their its".split())


def support_ratio(answer: str, passages: Iterable[str]) -> float:
    """Share of the answer's content found in the passages.

    Units are Chinese character bigrams and English words; a weak model that
    paraphrases freely (and so may change the meaning) scores low.
    """
    source = "\n".join(passages)
    source_lower = source.lower()
    units = [run[i:i + 2] for run in _HAN_RUN.findall(answer) for i in range(max(len(run) - 1, 1))]
    units += [w for w in _EN_WORD.findall(answer.lower()) if w not in _EN_STOP]
    if not units:
        return 1.0
    found = sum(1 for u in units if (u in source if _HAN_RUN.match(u) else u[:5] in source_lower))
    return found / len(units)


def is_grounded(answer: str, passages: Iterable[str], question: str = "") -> bool:
    """True when every checkable fact of ``answer`` is supported."""
    return not unsupported_facts(answer, list(passages), question)
