"""Patterns for the structured entities residents type: units, phones, ticket ids.

Pure functions shared by the NLU extractor (``bot.nlu.pattern_extractor``) and
the form validation in the action server, so that what the NLU finds and what
the form accepts can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence, Tuple

# ---------------------------------------------------------------- phones
# Chinese mobile numbers (optionally +86/0086, spaced or dashed), landlines
# (area code 0xx/0xxx) and E.164-style international numbers.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:"
    r"(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}"  # CN mobile
    r"|0\d{2,3}[\s-]?\d{7,8}"  # CN landline
    r"|\+\d{1,3}(?:[\s-]?\d{2,4}){2,5}"  # international
    r")(?![0-9A-Za-z])"
)
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> Optional[str]:
    """Return a canonical phone number, or ``None`` when ``raw`` is not one.

    Chinese mobiles become 11 digits ("13812345678"), landlines "021-12345678"
    style digits without separators, international numbers "+" and digits.
    """
    text = fold_width(raw.strip())
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    if digits.startswith("+86") and _CN_MOBILE.match(digits[3:]):
        return digits[3:]
    if _CN_MOBILE.match(digits):
        return digits
    if re.fullmatch(r"0\d{9,11}", digits):
        return digits
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None


# ---------------------------------------------------------------- text folding
# Full-width forms ("５栋１２０３", "＃", "－") and dashes map one character to one,
# so offsets found in the folded text are offsets in the original text.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x2013: 0x2D, 0x2014: 0x2D, 0x2212: 0x2D})
# Traditional characters residents from Hong Kong or Taiwan type ("7號樓2單元601",
# "電梯壞了"): the ones that matter for addresses, places, problems and urgency.
_TRADITIONAL = ("號号 樓楼 棟栋 單单 層层 門门 電电 廳厅 車车 庫库 區区 園园 東东 圍围 牆墙 頂顶 間间 臺台 場场 過过 "
                "燈灯 壞坏 戶户 業业 處处 衛卫 緊紧 馬马 龍龙 頭头 鎖锁 熱热 氣气 漲涨 滲渗 筆笔 線线 關关 開开 "
                "鑰钥 匙匙 櫃柜 蓋盖 暖暖 調调 冷冷 滅灭 聲声 響响 臭臭 髒脏 亂乱 壓压 爐炉 廚厨 臥卧 廁厕 陽阳 臺台 "
                "窗窗 風风 機机 器器 總总 顯显 閃闪 斷断 漏漏 嚴严 險险 煙烟 觸触 話话 聯联 繫系 約约 時时 點点 "
                "週周 後后 還还 慢慢 們们 這这 裡里 邊边 麼么 沒没 幫帮 請请 謝谢 報报 修修 綠绿 帶带 館馆 兒儿 樂乐 "
                "遊游 戲戏 健健 身身 泳泳 池池 垃垃 圾圾 岗岗 崗岗 亭亭 棚棚 費费 電电 梯梯 幾几 兩两 億亿 萬万 層层")
_FOLD.update({ord(pair[0]): ord(pair[1]) for pair in _TRADITIONAL.split() if pair[0] != pair[1]})


def fold_width(text: str) -> str:
    """``text`` with full-width forms as ASCII and common traditional characters as
    simplified ones; one character for one, so offsets stay the same."""
    return text.translate(_FOLD)


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_POWERS = {"十": 10, "百": 100, "千": 1000}
_EN_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}


def chinese_numeral(text: str) -> Optional[str]:
    """Digits for a number written in Chinese (or ASCII digits), else ``None``.

    Both ways residents say numbers are read: positional ("十二" → "12",
    "五百零二" → "502") and digit by digit as in room numbers ("五零二" → "502",
    "幺二零三" → "1203"), including the spoken mix "十二零三" → "1203".
    """
    text = text.strip()
    if text.isascii() and text.isdigit():
        return text
    if not text or any(c not in _CN_DIGITS and c not in _CN_POWERS for c in text):
        return None
    if not any(c in _CN_POWERS for c in text):
        return "".join(str(_CN_DIGITS[c]) for c in text)
    total, digit = 0, None
    for i, c in enumerate(text):
        if c in _CN_POWERS:
            total += (1 if digit is None else digit) * _CN_POWERS[c]
            digit = None
        elif digit is not None:
            # Two digits in a row after a positional part: the rest is digit by digit.
            rest = text[i:]
            if any(x in _CN_POWERS for x in rest):
                return None
            return str(total + digit) + "".join(str(_CN_DIGITS[x]) for x in rest)
        elif c in "零〇" and total:
            continue  # the placeholder zero of "五百零二"
        else:
            digit = _CN_DIGITS[c]
    return str(total + (digit or 0))


# ---------------------------------------------------------------- address tokens
@dataclass(frozen=True)
class AddressToken:
    """One piece of an address in a text, before pieces are grouped into an address.

    ``kind`` is ``building``, ``entrance``, ``floor``, ``room``, ``zone`` (a car-park
    zone) or ``area`` (a public place, added by ``bot.tickets.location``). A
    ``weak`` token is a bare number or code that only counts next to the pieces
    that make it an address ("502" after "3栋2单元", "B2" after "car park").
    ``rank`` decides between overlapping tokens (lower wins).
    """

    kind: str
    start: int
    end: int
    value: str
    weak: bool = False
    rank: int = 5
    data: Any = None


_CN_NUM = "零〇一二两三四五六七八九十百千幺"
_CN_SMALL = "一二三四五六七八九十"  # no 两: "两栋楼" is "two buildings"
_EN_WORDS = "|".join(sorted(_EN_NUMBERS, key=len, reverse=True))
# A number followed by one of these is a quantity, a date or a time, not an address.
_NOT_QUANTITY = (
    r"(?!\s*(?:年|月|日|点|分|秒|元|块|毛|角|米|平|方|个|只|次|天|周|小时|岁|度|斤|升|%|多|余|左右"
    r"|(?i:kg|cm|mm|km|ml|m|w|days?|hours?|hrs?|mins?|minutes?|weeks?|months?|years?|yuan|rmb|"
    r"dollars?|am|pm|a\.m|p\.m|times|percent)\b))"
)

# Numbers that look like addresses but are not: phones, ticket numbers, dates, times.
_DATETIME = re.compile(
    # A year is 19xx/20xx and a numeric date has all three parts: "room 1203. 2 taps" is no date.
    r"(?<!\d)(?:(?:19|20)\d{2}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?"
    r"|(?:19|20)\d{2}([-/.])\d{1,2}\1\d{1,2}(?!\d)"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号]?"
    r"|\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?"
    r"|\d{1,2}\s*(?:点|时)(?:\s*\d{1,2}\s*分?|半|一刻)?"
    r"|\d{1,2}\s*(?i:am|pm|a\.m\.?|p\.m\.?)(?![A-Za-z])"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?(?!\d))"
)


# Each spec: kind, rank, weak, pattern. Group names: b/bc (building, Chinese
# numerals in bc), e, f/fw/fb (floor), r/rc (room), ff+uu (floor-unit "#12-03"), z (zone).
_TOKEN_SPECS: Tuple[Tuple[str, int, bool, "re.Pattern[str]"], ...] = tuple(
    (kind, rank, weak, re.compile(pattern)) for kind, rank, weak, pattern in (
        # "5栋", "5号楼", "A座", "5#", "B2栋"; "5号" only right before a room or entrance.
        ("building", 1, False,
         r"(?<![0-9A-Za-z])(?P<b>[A-Za-z]?\d{1,3}|[A-Za-z])\s*(?:号楼|栋|幢|座|#\s*楼?|"
         r"号(?=\s*(?:\d{3,4}|\d{1,2}\s*(?:单元|-)|[一二三四五六七八九十]{1,2}\s*单元)))"),
        # "三号楼", "十二栋"; not "这一栋", "有一栋楼" (one building).
        ("building", 1, False,
         rf"(?<![这那每整哪几好有{_CN_NUM}])(?P<bc>[{_CN_SMALL}]{{1,3}})\s*(?:号楼|栋|幢)"
         r"(?!楼(?![道梯顶门下前后里]))"),
        ("building", 1, False,
         # Common misspellings of "building" too ("buidling 3 room 502").
         r"(?i:\b(?:building|buidling|bulding|buliding|biulding|buildng|builing|bldng|bldg|bld|blk|block|tower|twr))"
         r"(?![A-Za-z])\.?\s*(?:(?i:no)\.?\s*|(?i:number)\s*|#\s*)?"
         rf"(?P<b>(?i:{_EN_WORDS})|\d{{1,3}}|[A-Z]\d{{0,2}}|[b-hj-z])(?![0-9A-Za-z])"),
        # "2单元", "二单元"; "2单元门" also names the door (an area, see location.py).
        ("entrance", 2, False,
         rf"(?<![0-9A-Za-z])(?P<e>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})\s*单元"),
        ("entrance", 2, False,
         r"(?i:\b(?:unit|entrance|entry))(?![A-Za-z])\.?\s*(?:(?i:no)\.?\s*|#\s*)?(?P<e>\d{1,2})(?![0-9]|\s*-\s*\d)"),
        # "3栋2门502": 门 as entrance only right after a building.
        ("entrance", 7, True, r"(?<![0-9A-Za-z])(?P<e>\d{1,2})\s*门(?![口卫岗禁铃窗框锁把])"),
        # Rooms with a suffix or a label: "1203室", "502号", "房号502", "我住502", "room 1203", "#1203".
        ("room", 3, False,
         r"(?<![0-9A-Za-z])(?P<r>\d{3,4})\s*(?:号?室|号房|号(?![楼栋])|房(?![租东子价间屋])|户(?!型))"),
        ("room", 3, False,  # the label stays out of the token: "我住" is not part of the address
         r"(?<=房号|门牌|牌号|房间|间号|户号|住在|家在|家是)\s*(?:是|为|[:：])?\s*(?P<r>\d{3,4})(?![0-9])" + _NOT_QUANTITY),
        ("room", 3, False, r"(?<=住)\s*(?P<r>\d{3,4})(?![0-9])" + _NOT_QUANTITY),
        ("room", 3, False, rf"(?P<rc>[{_CN_NUM}]{{3,7}})\s*(?:号?室|号房|户(?!型))"),
        ("room", 3, False,
         r"(?:(?i:\b(?:room|rm|apt|apartment|flat|unit|suite|ste|no|number))(?![A-Za-z])\.?\s*"
         r"(?:(?i:no)\.?\s*|#\s*)?|#\s*)(?P<r>\d{3,4})(?![0-9])" + _NOT_QUANTITY),
        # Floor-unit notation: "#12-03" is floor 12, unit 03 → room 1203.
        ("room", 0, False, r"#\s*(?P<ff>\d{1,2})\s*-\s*(?P<uu>\d{2})(?![0-9])"),
        # Floors: "3楼", "三层", "负一层", "B2层", "3rd floor", "floor 3", "level B2", "ground floor".
        ("floor", 5, False,
         rf"(?<![0-9A-Za-z号这那整每几哪有])(?P<f>(?:负|地下|-)\s*(?:[1-4]|[一二三四])|[Bb][1-4]|\d{{1,2}}|[{_CN_SMALL}]{{1,3}})"
         r"\s*(?:层|楼)(?![房下上主梯道顶])"),
        ("floor", 5, False,
         r"(?<![0-9A-Za-z])(?P<f>\d{1,2})(?i:st|nd|rd|th)?\s*(?i:floor|fl|storey|story)(?![A-Za-z])"),
        ("floor", 5, False,
         r"(?i:\b(?:floor|level|lvl|storey|fl))(?![A-Za-z])\.?\s*(?:(?i:no)\.?\s*)?(?P<f>[Bb]?-?\d{1,2})(?![0-9A-Za-z])"),
        ("floor", 5, False,
         r"(?i:\b(?P<fw>ground|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)\s+floor\b)"),
        ("floor", 5, False, r"(?i:\bbasement\s*(?:level\s*)?)(?P<fb>[1-4])\b"),
        ("floor", 5, False, r"(?<![0-9A-Za-z])(?P<f>[Bb][1-4])\s*(?i:level|floor)\b"),
        ("floor", 7, True, r"(?<![0-9A-Za-z-])(?P<f>[Bb][1-4])(?![0-9A-Za-z-])"),
        # Car-park zones: "B区", "zone B", "C zone", "area D".
        ("zone", 6, True, rf"(?<![0-9A-Za-z])(?P<z>[A-Za-z]\d?|\d{{1,2}}|[{_CN_SMALL}]{{1,2}})\s*区(?!域)"),
        ("zone", 6, True, r"(?i:\bzone)\s*(?P<z>[A-Za-z]\d?|\d{1,2})(?![0-9A-Za-z])"),
        ("zone", 6, True, r"(?<![0-9A-Za-z])(?P<z>[A-Z]\d?)\s*(?i:zone)\b"),
        ("zone", 6, True, r"(?i:\b(?:area|section))\s+(?P<z>[A-Z]\d?)(?![0-9A-Za-z])"),
        # Bare numbers: rooms only next to a building or entrance ("3栋2单元502"), or alone.
        ("room", 7, True, r"(?<![0-9A-Za-z.:/-])(?P<r>\d{3,4})(?![0-9.:])" + _NOT_QUANTITY),
        ("room", 7, True, rf"(?<![{_CN_NUM}])(?P<rc>[零〇一二三四五六七八九十百千幺]{{3,7}})(?![{_CN_NUM}])"),
        ("room", 7, True, r"(?<![0-9A-Za-z#-])(?P<ff>\d{1,2})-(?P<uu>\d{2})(?![0-9A-Za-z-])"),
    )
)
# Dash notation: "5-1-1203", "5-1203", "B5-1203", "A-1203" (building-entrance-room).
_DASH_UNIT = re.compile(
    r"(?<![0-9A-Za-z-])(?:[Bb](?P<bb>\d{1,3})|(?P<b>\d{1,3})|(?P<bl>[A-Za-z]))\s?-\s?"
    r"(?:(?P<e>\d{1,2})\s?-\s?)?(?P<r>\d{3,4})(?![0-9A-Za-z-])" + _NOT_QUANTITY
)
_FLOOR_WORDS = {"ground": "1", "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
                "sixth": "6", "seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10",
                "eleventh": "11", "twelfth": "12"}


def _token_value(kind: str, m: "re.Match[str]") -> Optional[str]:
    g = m.groupdict()
    if kind == "building":
        raw = g.get("b") or g.get("bc") or ""
        value = _EN_NUMBERS.get(raw.lower()) or chinese_numeral(raw) or raw.upper()
        return value if value not in ("0", "") else None
    if kind == "entrance":
        return chinese_numeral(g["e"])
    if kind == "room":
        if g.get("ff"):
            return f"{int(g['ff'])}{g['uu']}"
        value = chinese_numeral(g.get("r") or g.get("rc") or "")
        return value if value and 3 <= len(value) <= 4 and not value.startswith("0") else None
    if kind == "floor":
        if g.get("fw"):
            return _FLOOR_WORDS[g["fw"].lower()]
        if g.get("fb"):
            return f"B{g['fb']}"
        raw = re.sub(r"\s", "", g["f"]).upper()
        basement = raw.startswith(("负", "地下", "-", "B"))
        number = chinese_numeral(re.sub(r"^(?:负|地下|-|B)", "", raw))
        if not number or number == "0":
            return None
        return f"B{number}" if basement else number
    if kind == "zone":
        raw = g["z"]
        return (chinese_numeral(raw) or raw).upper()
    return None


def mask_non_addresses(text: str) -> str:
    """Fold ``text`` and blank out phones, ticket numbers, dates and times (same length).

    Their digits look like rooms and buildings; the blanks (NUL) also keep address
    pieces on either side from being read as one address.
    """
    folded = fold_width(text)
    for pattern in (_TICKET, _PHONE, _DATETIME):
        folded = pattern.sub(lambda m: "\0" * len(m.group(0)), folded)
    return folded


def address_tokens(text: str) -> List[AddressToken]:
    """Building, entrance, floor, room and zone tokens of ``text`` (may overlap).

    ``text`` should come from ``mask_non_addresses``; offsets are offsets in it.
    """
    tokens: List[AddressToken] = []
    for kind, rank, weak, pattern in _TOKEN_SPECS:
        # After a label ("房号是502", "我住502") the token is the number alone.
        group = "r" if pattern.pattern.startswith("(?<=") else 0
        for m in pattern.finditer(text):
            value = _token_value(kind, m)
            if value:
                tokens.append(AddressToken(kind, m.start(group), m.end(group), value, weak, rank))
    buildings = [t for t in tokens if t.kind == "building"]
    for m in _DASH_UNIT.finditer(text):
        first = m.group("bb") or m.group("b") or (m.group("bl") or "").upper()
        # "5栋1-1203", "5#1-1203": after a building, the first number is the entrance.
        after_building = not m.group("e") and m.group("b") and len(m.group("b")) <= 2 and any(
            t.end <= m.start() and m.start() - t.end <= 2 and _UNIT_GAP.match(text[t.end : m.start()])
            for t in buildings
        )
        head = "b" if m.group("b") else ("bb" if m.group("bb") else "bl")
        tokens.append(AddressToken("entrance" if after_building else "building",
                                   m.start(head) if head != "bb" else m.start(), m.end(head), first, False, 0))
        if m.group("e"):
            tokens.append(AddressToken("entrance", m.start("e"), m.end("e"), m.group("e"), False, 0))
        tokens.append(AddressToken("room", m.start("r"), m.end("r"), m.group("r"), False, 0))
    return tokens


# What may stand between two pieces of one address ("Bldg 12, unit 2, room 1803",
# "room 502 building 3", "5栋的1203"), and between a public place and its building
# ("stairwell of building 2", "3号楼的大堂", "the lift in block 5") — no commas there.
_UNIT_GAP = re.compile(r"(?:[\s,，、/.。:：()（）-]|的|之|楼|第|(?i:\b(?:of|in|at|on|the|no)\b))*\Z")
_AREA_GAP = re.compile(
    r"(?:\s|的|之|里|内|楼下|楼前|楼后|楼|第|旁边?|边上|前面?|后面?|附近|门口|外面?|对面|那个|这个|'s"
    r"|(?i:\b(?:of|in|at|on|the|near|by|outside|inside|next to|beside|opposite|for|from)\b))*\Z"
)
# What may surround a bare room number that is the whole answer ("502", "我住502室", "it's 1203").
_ALONE_FILLER = re.compile(
    r"[\s,，。.!！?？:：~]|我|们|住|在|家|是|的|房间?|号|室|户|啊|呀|哦|吧"
    r"|(?i:\b(?:i|i'm|im|my|we|live|in|at|it's|its|it|is|room|flat|apt|apartment|unit|number|no|home)\b)"
)


def _stands_alone(text: str, tok: AddressToken) -> bool:
    """A bare room number that is the whole answer ("502", "我住502室") or opens or
    closes the message apart from the rest ("502 马桶堵了", "toilet blocked, 1203")."""
    before, after = text[: tok.start], text[tok.end :]
    if not _ALONE_FILLER.sub("", before + after):
        return True
    return bool(_EDGE_BEFORE.match(before) and _EDGE_AFTER.match(after)
                or _EDGE_AFTER_END.match(after) and _EDGE_BEFORE_END.search(before))


_EDGE_BEFORE = re.compile(r"\s*(?:我住|住)?\Z")
_EDGE_AFTER = re.compile(r"(?:\s*(?:室|号|房))?[\s,，。.:：;；]")
_EDGE_BEFORE_END = re.compile(r"[\s,，。.:：;；](?:\s*(?:我住在?|住在?|in|at|room|flat))?\s*\Z", re.IGNORECASE)
_EDGE_AFTER_END = re.compile(r"\s*(?:室|号|房)?[\s,，。.!！]*\Z")


def _resolve_overlaps(tokens: Sequence[AddressToken]) -> List[AddressToken]:
    chosen: List[AddressToken] = []
    for tok in sorted(tokens, key=lambda t: (t.rank, t.start - t.end, t.start)):
        if all(tok.end <= c.start or c.end <= tok.start for c in chosen):
            chosen.append(tok)
    return sorted(chosen, key=lambda t: t.start)


def _joins(gap: str, left: AddressToken, right: AddressToken) -> bool:
    if "area" in (left.kind, right.kind):
        return bool(_AREA_GAP.match(gap))
    return bool(_UNIT_GAP.match(gap))


_SUPPORT = {"room": ("building", "entrance", "floor"), "entrance": ("building",),
            "floor": ("area",), "zone": ("area",)}


def group_address_tokens(text: str, tokens: Sequence[AddressToken]) -> List[List[AddressToken]]:
    """Group adjacent address tokens of ``text`` into addresses, left to right.

    Overlaps are resolved first (by rank, then length); a group holds at most one
    token of each kind; weak tokens stay only where something supports them.
    """
    groups: List[List[AddressToken]] = []
    for tok in _resolve_overlaps(tokens):
        current = groups[-1] if groups else None
        if current and tok.kind not in {t.kind for t in current} and _joins(
            text[current[-1].end : tok.start], current[-1], tok
        ):
            current.append(tok)
        else:
            groups.append([tok])
    result = []
    for group in groups:
        kept = [
            t for t in group
            if not t.weak
            or any(o.kind in _SUPPORT.get(t.kind, ()) and not o.weak for o in group)
            or (len(group) == 1 and t.kind == "room" and _stands_alone(text, t))
        ]
        if kept:
            result.append(kept)
    return result


# ---------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    """A flat address inside the community: building, optional entrance, room."""

    building: str
    room: str
    entrance: Optional[str] = None

    def canonical(self) -> str:
        """The property office's own notation, e.g. ``3栋2单元502``."""
        entrance = f"{self.entrance}单元" if self.entrance else ""
        return f"{self.building}栋{entrance}{self.room}"

    def english(self) -> str:
        """English rendering, e.g. ``Building 3, Unit 2, Room 502``."""
        entrance = f", Unit {self.entrance}" if self.entrance else ""
        return f"Building {self.building}{entrance}, Room {self.room}"


@dataclass(frozen=True)
class Match:
    """An entity found in a text, with exact character offsets."""

    entity: str
    start: int
    end: int
    text: str
    value: str


def unit_of(group: Sequence[AddressToken]) -> Optional[Unit]:
    """The flat a token group names, when it has both a building and a room."""
    parts = {t.kind: t.value for t in group}
    if "building" in parts and "room" in parts:
        return Unit(building=parts["building"], room=parts["room"], entrance=parts.get("entrance"))
    return None


def _unit_groups(text: str) -> Iterator[Tuple[Unit, int, int]]:
    masked = mask_non_addresses(text)
    for group in group_address_tokens(masked, address_tokens(masked)):
        unit = unit_of(group)
        if unit:
            yield unit, group[0].start, group[-1].end


def find_units(text: str) -> Iterator[Match]:
    """Yield every complete flat (building and room) in ``text`` with its canonical value."""
    for unit, start, end in _unit_groups(text):
        yield Match("unit", start, end, text[start:end], unit.canonical())


def parse_unit(text: str) -> Optional[Unit]:
    """Parse the first flat mentioned in ``text``; ``None`` if there is none.

    Accepts "3栋2单元502", "三号楼二单元五零二", "5#1203", "5-1-1203", "B5-1203",
    "Building 5, room 1203", "Block 5 #12-03", "Flat 1203, Building 5"…; a room or a
    building alone is not a flat (see ``bot.tickets.location`` for partial answers).
    """
    for unit, _, _ in _unit_groups(text):
        return unit
    return None


def find_phones(text: str) -> Iterator[Match]:
    """Yield every phone number in ``text`` with its normalised value (full-width digits too)."""
    folded = fold_width(text)  # same length: offsets still point into ``text``
    for m in _PHONE.finditer(folded):
        value = normalise_phone(m.group(0))
        if value:
            yield Match("phone", m.start(), m.end(), text[m.start():m.end()], value)


# ---------------------------------------------------------------- tickets
_TICKET = re.compile(r"(?<![0-9A-Za-z-])(?P<p>BX|TS)-?(?P<d>\d{8})-?(?P<n>\d{4})(?![0-9A-Za-z-])", re.IGNORECASE)


def find_ticket_ids(text: str) -> Iterator[Match]:
    """Yield ticket numbers such as ``BX-20261124-0007`` (case, dashes and full width forgiven)."""
    for m in _TICKET.finditer(fold_width(text)):  # same length: offsets still point into ``text``
        value = f"{m.group('p').upper()}-{m.group('d')}-{m.group('n')}"
        yield Match("ticket_id", m.start(), m.end(), text[m.start():m.end()], value)


def find_entities(text: str) -> List[Match]:
    """All structured entities in ``text``, left to right, without overlaps.

    Ticket ids win over phones and units (their digits look like both), and
    phones over units ("021-12345678" is not building 21).
    """
    found: List[Match] = []
    for finder in (find_ticket_ids, find_phones, find_units):
        for match in finder(text):
            if not any(match.start < f.end and f.start < match.end for f in found):
                found.append(match)
    return sorted(found, key=lambda m: m.start)
