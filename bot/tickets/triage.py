"""Reads a resident's free-text problem: what it is, how urgent, when to visit.

Keyword rules, checked in order (``电梯`` before ``电``, ``楼道灯`` before ``灯``),
are enough to pre-fill the repair form; the resident can always correct the
category in the confirmation step. Urgency reads negations and degrees
("不太急", "not really urgent") before the words they modify, so "急" inside
"不急" never counts as urgent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

from bot.nlu.patterns import find_phones, find_ticket_ids, fold_width
from bot.tickets.labels import LABELS
from bot.tickets.location import address_spans
from bot.tickets.models import REPAIR_CATEGORIES

_CATEGORY_KEYWORDS: Sequence[Tuple[str, Sequence[str]]] = (
    ("elevator", ("电梯", "elevator", "lift")),
    ("public_area", ("楼道", "走廊", "公共", "路灯", "大堂", "车库", "地库", "停车场", "草坪", "绿化", "垃圾房", "楼梯",
                     "天台", "花园", "健身器材", "游乐", "消防通道", "车棚",
                     "hallway", "corridor", "stairwell", "staircase", "stairs", "lobby", "street light", "garage",
                     "car park", "carpark", "parking", "playground", "public")),
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


def _keyword_pattern(words: Sequence[str]) -> "re.Pattern[str]":
    # English keywords must match whole words ("ac" is not in "back"); Chinese ones anywhere.
    parts = [rf"\b{re.escape(w)}" if w.isascii() else re.escape(w) for w in words]
    return re.compile("|".join(parts), re.IGNORECASE)


_CATEGORY_PATTERNS = [(category, _keyword_pattern(words)) for category, words in _CATEGORY_KEYWORDS]


def infer_category(text: str) -> Optional[str]:
    """The repair category suggested by keywords in ``text``, if any."""
    text = fold_width(text or "")
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


# ---------------------------------------------------------------- urgency
# Chinese: a negator, any chain of degree/aux words, then what is negated:
# "不急", "不太急", "不是很急", "没那么急", "不用着急", "并不严重", "不用马上来".
_ZH_NEGATED = (
    r"(?:并|也|倒|还)?(?:不|没有?|(?<![特区分级告离性类派识])别|无需|未)"
    r"(?:是|算|太|很|怎么|那么|这么|特别|非常|十分|多么?|大|用|必|需要?|要|着|得|有|觉得|感觉|会|算是|一定|需)*"
    r"(?:紧急|着急|急|要紧|严重|赶时间|赶(?![紧快])|马上|立刻|立即|今天|现在|当天)"
)
# English: a negator, up to four words that only modify it, then what is negated:
# "not really urgent", "isn't that urgent", "doesn't need to be fixed today".
_EN_NEGATED = (
    r"\b(?:not|never|hardly|barely|isn'?t|aren'?t|wasn'?t|doesn'?t|don'?t|won'?t|ain'?t|no need to|nothing)"
    r"(?:\s+(?:really|that|very|too|so|super|particularly|terribly|an?|at|all|exactly|especially|extremely|"
    r"overly|be|it|it'?s|is|think|need|needs|to|have|has|fixed|done|like|seem|seems|look|looks|feel|feels|"
    r"sound|sounds|much|of|anything|something|i|quite|in|come|urgently|repaired|sorted|necessarily)){0,4}"
    r"\s+(?:urgent(?:ly)?|emergency|rush(?:ed)?|hurry|pressing|serious|critical|right away|immediately|asap|"
    r"today|right now|that bad|a big deal|big deal|priority|time[- ]sensitive|quick(?:ly)?)\b"
)
_NORMAL = re.compile(
    "|".join((
        _ZH_NEGATED,
        r"(?<![不没])(?:可以|能|等得了|还能)等|等得了|等等也(?:行|可以|没事)|慢慢(?:来|修|弄)|(?:有空|有时间|方便|闲)(?:的时候|时)?再"
        r"|什么时候(?:都|也)?(?:行|可以|方便)|哪天(?:都|也)(?:行|可以)|改天(?:也|再)?|过(?:几|两)天(?:也|都|再)"
        r"|下(?:周|星期|礼拜)(?:也|都|再)|(?:晚|迟)(?:点|些|一点|一些)(?:来|修|弄|处理)?(?:也|都|再)?(?:行|可以|没事|没关系|来)?"
        r"|等(?:你们|您|师傅)?(?:有空|有时间|方便)|无所谓|不要紧|不碍事|不影响|还能用|凑合(?:着)?用|先不用|不赶",
        # "急不急都行": it does not matter.
        r"(?:急|紧急|着急)不(?:急|紧急|着急)(?:都|也)?(?:行|可以|好|无所谓|没关系|没事)",
        _EN_NEGATED,
        r"\b(?:no (?:rush|hurry|urgency|emergency|big deal)|in no (?:rush|hurry)|(?:it|that|this) can wait|can wait"
        r"|whenever(?: is fine| works| you can| you have time| convenient)?|take your time|low priority"
        r"|non[- ]?urgent|when(?:ever)? you (?:have|get) (?:time|a chance)|when(?:ever)? (?:it'?s )?convenient"
        r"|at your (?:earliest )?convenience|(?:any day|next week)(?: is)? (?:fine|ok|okay)|not a priority"
        r"|(?:fine|ok|okay|happy|able|can afford) to wait|(?:later|next week|another day) is (?:fine|ok|okay))\b",
    )),
    re.IGNORECASE,
)
# A question about urgency ("急不急?") says nothing either way.
_NEUTRAL = re.compile(r"(?:急|紧急|着急)不(?:急|紧急|着急)|\bis it urgent\b", re.IGNORECASE)
_URGENT = re.compile(
    r"紧急|急|马上|立刻|立即|赶紧|赶快|尽快|越快越好|快点|快来|火速|等不了|等不及|(?:不能|没法)等|刻不容缓|现在就"
    r"|今天(?:之内|内|必须|一定)"
    r"|\b(?:urgent(?:ly)?|emergency|asap|a\.s\.a\.p|as soon as (?:possible|you can)|right (?:now|away)|straight away"
    r"|immediately|at once|quickly|hurry|rush|can'?t wait|cannot wait|can not wait)\b",
    re.IGNORECASE,
)
# Descriptions that imply urgency without saying so.
_SEVERE = re.compile(
    r"严重|大量|水漫|漫水|淹了|被淹|淹水|爆管|管子爆|爆了|喷水|止不住|关不住|流个不停|到处都是水|全家停电|停电全家"
    r"|(?:全屋|整个家|家里全|整户)(?:都)?(?:停电|没电)|整栋(?:楼)?(?:都)?(?:停电|没电|停水)|漏电|危险|塌"
    r"|\b(?:flood(?:ing|ed)?|water everywhere|pouring|gushing|burst|serious(?:ly)?|severe(?:ly)?|badly"
    r"|a lot of water|dangerous|danger|collaps\w*|whole (?:flat|house|apartment|home) (?:has no power|is dark))\b",
    re.IGNORECASE,
)
# Danger to people: urgent whatever else the message says.
_DANGER = re.compile(
    r"被困|困在|困住|关在电梯|着火|起火|失火|冒烟|火花|打火花|触电|(?:燃气|煤气|天然气)(?:泄漏|泄露|味)|闻到(?:燃气|煤气|天然气)"
    r"|\b(?:trapped|(?:stuck|locked) in (?:the |a )?(?:lift|elevator)|(?:someone|somebody|people|kids?|child|person)"
    r" (?:is |are |got )?stuck|smoke|smoking|sparks?|sparking|gas leak|smell(?:s|ing)? (?:of )?gas|electric shock"
    r"|electrocut\w*|fire(?!\s*(?:lane|exit|escape|door|extinguisher|hydrant|hose|alarm test|access)))\b",
    re.IGNORECASE,
)


def _spans(pattern: "re.Pattern[str]", text: str) -> List[Tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _outside(spans: List[Tuple[int, int]], covered: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    return [s for s in spans if not any(s[0] < c[1] and c[0] < s[1] for c in covered)]


def infer_urgency(text: str) -> Optional[str]:
    """``"urgent"``/``"normal"`` when the text says so, else ``None``.

    Negations and hedges cover what they modify ("不太急", "not really urgent",
    "no rush" are normal); degrees keep urgency ("挺急的", "pretty urgent"). When a
    message says both, the later statement wins ("不急…算了还是挺急的"); danger to
    people (trapped, fire, gas, sparks) is always urgent, and descriptions that imply
    urgency ("大量漏水", "flooding") count unless the resident says it is not urgent.
    """
    if not text:
        return None
    text = fold_width(text)
    neutral = _spans(_NEUTRAL, text)
    # "不急" inside the question "急不急" is no answer; "急不急都行" is.
    normal = [s for s in _spans(_NORMAL, text) if not any(n[0] <= s[0] and s[1] <= n[1] for n in neutral)]
    covered = normal + neutral
    if _outside(_spans(_DANGER, text), covered):
        return "urgent"
    urgent = _outside(_spans(_URGENT, text), covered)
    if normal or urgent:
        last_normal = max((s[1] for s in normal), default=-1)
        last_urgent = max((s[1] for s in urgent), default=-1)
        return "urgent" if last_urgent > last_normal else "normal"
    if _outside(_spans(_SEVERE, text), covered):
        return "urgent"
    return None


# Answers to "is it urgent?": a yes or a no, possibly followed by more words.
_YES = re.compile(r"^(?:是的?|对的?|嗯+|恩|要|急|yes|yeah|yep|yup|y|sure|of course|definitely|absolutely|it is|correct)(?:\b|$)",
                  re.IGNORECASE)
_NO = re.compile(r"^(?:不是的?|不|否|没有?|还好|一般|普通|no|nope|nah|n|not really|not at all|it'?s not|it isn'?t)(?:\b|$)",
                 re.IGNORECASE)


def normalise_urgency(answer: str) -> Optional[str]:
    """Map an answer to the urgency question onto ``urgent``/``normal``.

    Button payloads ("urgent", "normal", "1", "2"), yes/no answers to "is it
    urgent?" ("是"/"yes" → urgent, "不是"/"no"/"不" → normal) and free text
    ("不太急", "pretty urgent").
    """
    cleaned = fold_width(answer or "").strip().lower().lstrip("/")
    cleaned = re.sub(r"^inform\{.*?\"urgency\"\s*:\s*\"(\w+)\".*\}$", r"\1", cleaned)
    bare = cleaned.strip(" .!！。?？~，,")
    if bare in ("urgent", "normal"):
        return bare
    if bare == "1":
        return "urgent"
    if bare == "2":
        return "normal"
    said = infer_urgency(bare)
    if said:
        return said
    if _NO.match(bare):
        return "normal"
    if _YES.match(bare):
        return "urgent"
    return None


# ---------------------------------------------------------------- description
_PHONE_LABELS = (
    r"(?:我的|我)?(?:联系电话|电话号码|手机号码?|电话|手机|号码|联系方式)(?:是|为)?"
    r"|(?i:(?:my )?(?:phone|mobile|cell|contact|tel)(?: number| no\.?)?(?: is)?|call me(?: at| on)?"
    r"|reach me(?: at| on)?|text me(?: at| on)?|(?:my )?number is)"
)
_ADDRESS_LABELS = (
    r"(?:我|我们|我家|家)(?:就)?(?:住在?|在)|(?:就)?(?:住在|家住|家在|位于|位置(?:是|在)|地址(?:是|在)?|房号(?:是)?|门牌号?(?:是)?)"
    r"|我(?:家)?是|(?<![现正存实好还不])在|是"
    r"|(?i:(?:\b(?:i'?m|i am|we'?re|we are|i live|we live|i stay|we stay|located|living|it'?s|it is|this is"
    r"|my (?:flat|unit|apartment|apt|address|room|home|place) is|the address is|address(?: is)?|unit|flat|room|apt"
    r"|apartment|address)\s*[:：#]?\s*)?(?:\b(?:in|at|of|on|from|for)\s+)?(?:the\s+)?)"
)
_LABEL_BEFORE = re.compile(rf"(?:{_PHONE_LABELS}|{_ADDRESS_LABELS})[：:#\s]*\Z")
_PHONE_LABEL_BEFORE = re.compile(rf"(?:{_PHONE_LABELS})[：:#\s]*\Z")
# Greetings, "I want to report…", politeness and filler at the start of a clause.
_LEADING_NOISE = re.compile(
    r"(?:你好|您好|喂|嗨|哈喽|哈啰|在吗|在不在|有人吗|打扰了?|不好意思|(?:物业|管家|客服|师傅)(?:你好|您好|们)?"
    r"|麻烦(?:你们?|您)?(?:一下)?|请问?|劳驾|帮(?:我|忙)(?:看看|看一下|处理一下|修一下)?"
    r"|(?:我|我们)?(?:要|想|想要|需要|得)?(?:报修|报个修|报一下修|保修|报事|报个事|维修一下|反映|反馈)"
    r"(?:一下|个问题|一个问题|下)?"
    r"|(?:师傅)?(?:来|过来|上门)(?:看|修|处理)(?:一下|下)?|(?:我是)?(?:这里的|的)?(?:业主|住户|租户|居民)"
    r"|那个|就是|嗯+|呃+|额|唉|哎|对了|是这样的?|情况是|问题是|还有|另外"
    r"|(?i:(?:hi|hello|hey)(?: there| team| all)?|dear (?:sir|madam|team|all)|good (?:morning|afternoon|evening)|greetings"
    r"|(?:please )?help(?: me| us)?(?: please)?(?=[\s,，!！.。])"
    r"|(?:i(?:'d| would)? like to|i want to|i wanna|i need to|i have to|i'?m (?:writing|calling|messaging|contacting you) to"
    r"|can i|could i|may i|let me)\s+(?:report|request|file|submit|log|raise|make|book|ask for)"
    r"(?:\s+(?:a|an))?(?:\s+new)?(?:\s+(?:repair|maintenance|fault|problem|issue|complaint|ticket))?"
    r"(?:\s+(?:request|report|issue|ticket|job))?(?:\s+(?:for|about|regarding))?(?:\s+that)?"
    r"|(?:i have|there'?s|there is|we have) (?:a |an )?(?:repair|maintenance) (?:request|issue|job)"
    r"|i need (?:a|an) (?:plumber|electrician|technician|repairman|handyman|repair)"
    r"|(?:i'?m |i am |we'?re |we are )?(?:the )?(?:resident|owner|tenant)s?(?: of| in| at)?"
    r"|please|pls|plz|kindly|um+|uh+|erm|so|ok|okay|well|excuse me|sorry to bother you|and|also|but)(?![A-Za-z]))"
    r"[\s,，:：!！。.]*"
)
_CLAUSE_START = r"(?:^|(?<=[，,。.!！?？;；:：\n]))\s*"
_LEADING = re.compile(_CLAUSE_START + _LEADING_NOISE.pattern)
# Thanks and "please send someone to fix it" at the end; an urgency word in there stays.
_URGENCY_WORD = r"(?P<urg>尽快|赶紧|马上|立刻|立即|快点|早点|(?i:asap|as soon as possible|right away|immediately|urgently|today))"
# "麻烦派人来修一下", "你们能来看看吗", "可以派个师傅过来吗": asking for the visit, not the problem.
_REQUEST_ZH = (
    r"(?:麻烦|请|能不能|能否|可以|可不可以|希望|需要)?(?:你们|您|物业|师傅)?(?:能|可以|能不能|可不可以)?" + _URGENCY_WORD + r"?"
    r"(?:(?:派|安排|找)(?:个|一个|位)?(?:人|师傅|维修工|电工|水电工|水工)(?:来|过来|上门)?|(?:来|过来|上门))"
    r"(?:修|看|处理|维修|检查|修理)?(?:一下|下|看)?(?:吗|么|吧|哈|呢|啊|呀|哦)*"
)
_LEADING_REQUEST = re.compile(r"^\s*" + _REQUEST_ZH + r"[\s,，:：!！。.?？]*")
_TRAILING_NOISE = re.compile(
    r"[\s,，。.!！~]*(?:" + _REQUEST_ZH +
    r"|(?:麻烦|请)(?:你们|您)?(?:尽快)?(?:修|处理|维修)(?:一下|下)?"
    r"|(?i:(?:(?:can|could|would) (?:you|someone|somebody) )?(?:please )?"
    r"(?:come(?: and| to)? (?:fix|check|look at|have a look at) it|send (?:someone|somebody|a (?:technician|plumber|electrician"
    r"|handyman|repairman|worker))(?: to (?:fix|check|look at) it)?|fix it|have a look|take a look|check it)"
    r"(?: please)?(?:\s+(?P<urg2>asap|as soon as possible|right away|immediately|urgently|today))?)"
    r")?(?:[\s,，。.!！~]*(?:谢谢(?:了|啦|你们?|您)?|多谢|感谢|辛苦(?:了|啦)?|麻烦(?:你们?|您)?了|拜托了"
    r"|(?i:thanks?(?: you)?(?: so much| very much| a lot)?|thx|ty|cheers|please|pls)))*[\s,，。.!！~?？]*\Z"
)
# "… is leaking, I'm in" / "我住在": an address the resident had not finished typing.
_TRAILING_ADDRESS = re.compile(
    r"[\s,，。.;；]*(?:(?:and\s+)?(?i:i'?m|i am|we'?re|we are|i live|we live|i stay|living|located|my (?:flat|unit|apartment"
    r"|address|home|place) is|the address is|address(?: is)?)(?:\s+(?:in|at|on))?"
    # A dangling "at"/"in" or "在" left where the address was cut ("… is leaking at", "漏水，在");
    # not "on" ("the light stays on") and not a 在 inside a clause ("白天也在").
    r"|(?:\s+(?i:in|at))|(?<=[\s，,。])在"
    r"|(?:我|我们|家)(?:住在?|在)|住在|家住|家在|位置(?:是|在)?|地址(?:是|在)?|房号(?:是)?|位于)"
    r"[\s:：,，。.]*\Z"
)
_TRAILING_CONJUNCTION = re.compile(r"[\s,，]*(?:\b(?:and|or|also|plus|but)\b|还有|以及|而且|和)[\s,，]*\Z", re.IGNORECASE)
_REPEATED_SEPARATORS = re.compile(r"\s*([，,;；。])(?:\s*[，,;；。])+")
_ORPHAN_DE = re.compile(r"(^|[，,。.;；!！?？\s])的(?=\S)")
# Words that say "I want to report something" but not what is broken.
_FILLER = re.compile(
    r"(我要|我想|想要|帮我|麻烦|请|你好|您好|报修|报个修|维修|修理|修一下|投诉|一下|电话|手机|联系方式|地址|师傅|谢谢|"
    r"我家|我住|住在|是|的|了|啊|呀|吧|呢|哦|嗯|在吗|"
    r"\b(i|want|would|like|to|need|a|an|the|report|repair|request|file|please|hi|hello|hey|my|is|it|there|thanks|"
    r"thank|you|complain|complaint|about|make|fix|phone|number|call|me|at|in|flat|unit|room|building)\b)",
    re.IGNORECASE,
)
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{3,}")
_EDGE = " \t\n，,。.;；:：、!！~"


def _keep_urgency(m: "re.Match[str]") -> str:
    # "…堵了，麻烦尽快派人来修" → "…堵了，尽快": staff (and infer_urgency) still read it.
    word = m.group("urg") or m.group("urg2")
    if not word:
        return ""
    return ("，" if re.match(r"[\u4e00-\u9fff]", word) else ", ") + word


def clean_description(text: str) -> Optional[str]:
    """The problem description in ``text``, or ``None`` when it names no problem.

    Addresses (flats, building and room numbers), phone numbers and their labels,
    greetings, "I want to report / 我要报修 / 麻烦 / 师傅", thanks and unfinished
    address fragments ("… I'm in", "我住在") are removed; a public place stays when
    it is part of the problem ("楼道灯不亮"). What remains must still say more than
    "I want to report a repair".
    """
    if not text or text.strip().startswith("/"):
        return None
    # Both finders fold full width themselves; address spans never cover them (they are masked first).
    phones = [(m.start, m.end) for m in (*find_phones(text), *find_ticket_ids(text))]
    spans = address_spans(text)
    # Cut from the right so earlier offsets stay valid; each cut takes its label along.
    cuts = sorted([(s, _LABEL_BEFORE) for s in spans] + [(p, _PHONE_LABEL_BEFORE) for p in phones],
                  key=lambda c: c[0][0], reverse=True)
    stripped = text
    for (start, end), label in cuts:
        stripped = label.sub("", stripped[:start]) + " " + stripped[end:]
    stripped = _ORPHAN_DE.sub(r"\1", stripped)
    previous = None
    while previous != stripped:  # noise can hide noise ("你好，师傅，我要报修")
        previous = stripped
        stripped = _LEADING.sub("", stripped)
        stripped = _LEADING_REQUEST.sub(lambda m: f"{m.group('urg')}，" if m.group("urg") else "", stripped)
        stripped = _TRAILING_NOISE.sub(_keep_urgency, stripped)
        stripped = _TRAILING_ADDRESS.sub("", stripped)
        stripped = _TRAILING_CONJUNCTION.sub("", stripped)
        stripped = _REPEATED_SEPARATORS.sub(r"\1", stripped).strip(_EDGE)
    residue = _FILLER.sub(" ", stripped)
    meaningful = len(_MEANINGFUL.findall(residue))
    if meaningful < 2 and not (meaningful == 1 and infer_category(residue)):
        return None
    description = _without_urgency_clauses(re.sub(r"\s+", " ", stripped).strip(_EDGE))
    return description or None


_URGENCY_ONLY = re.compile(
    r"^(?:其实|但是|不过|也|还|倒是)?(?:是|不是很|不是特别|不太|不算|没那么|没有那么|不怎么|不|挺|很|非常|特别|比较|有点|超级|太|真的|蛮)?"
    r"(?:急|紧急|着急)(?:的|了|啊|呀|哦|吧|死了)?$"
    r"|^(?:可以等|慢慢来|有空再来|不着急|越快越好|尽快|马上|急不急都行)$"
    r"|^(?:but |and )?(?:it'?s |it is |this is )?(?:not |not really |not that |not very |pretty |quite |very |kind of |a bit |really )?"
    r"(?:urgent|an emergency)(?: at all| after all)?$|^(?:no rush|no hurry|it can wait|whenever|asap)$",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[^\s,，。;；!！]+(?:\s+[A-Za-z][^\s,，。;；!！]*)*")


def _without_urgency_clauses(description: str) -> str:
    """Drop clauses that only say how urgent it is ("不是很急", "no rush"): the urgency has its own field.

    A clause that also names a problem stays ("水漫出来了很急" is one clause).
    """
    kept = description
    for match in reversed(list(_CLAUSE.finditer(description))):
        clause = match.group(0)
        if _URGENCY_ONLY.match(clause.strip()) and infer_urgency(clause):
            kept = kept[: match.start()] + kept[match.end():]
    kept = _REPEATED_SEPARATORS.sub(r"\1", kept).strip(_EDGE)
    return re.sub(r"\s+", " ", kept) if _MEANINGFUL.search(kept) else description


# ---------------------------------------------------------------- several problems
# Words that start another problem ("…，还有楼道灯也不亮", "… and the hallway light is out").
_MARKERS = (r"还有(?![点些一])|另外(?:还有)?|以及|此外|再就是|再有|同时(?:还)?|顺便(?:说一下|提一下|问一下)?|外加|加上|然后还有|而且还有"
            r"|(?i:\band also\b|\balso\b|\bplus\b|\bas well as\b|\band\b|\banother (?:thing|problem|issue)\b|\bbesides\b"
            r"|\bin addition\b)")
_SEPARATOR = re.compile(
    rf"[\s,，。;；!！?？、]*(?P<marker>{_MARKERS})[\s,，:：]*"
    r"|[\s]*[，,。;；!！?？、.][\s，,。;；!！?？、]*"
    r"|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"
)
# Something is wrong: a clause without one ("the kitchen tap", "很急") belongs to its neighbour.
_PROBLEM = re.compile(
    r"坏|漏|堵|不亮|不通|不出|不能|不了|不上|不下|不动|不转|不响|不热|不凉|不制冷|不工作|不好用|不灵|没电|没水|没反应|停|跳闸|裂|掉|松"
    r"|脱落|断|响|噪音|滴|渗|爆|冒|失灵|卡|打不开|关不上|关不住|锁不上|进不去|短路|闪|臭|异味|发霉|霉|鼓包|变形|锈|脏|满|积水|淹|故障|破|碎"
    r"|歪|倒|塌|起皮|开裂|不行|没有?(?:电|水|热水|信号|网)"
    r"|(?i:\b(?:broken|broke|break|leak\w*|block\w*|clog\w*|out|not working|(?:does|do|is|are|won|can|will)n'?t|won'?t"
    r"|cannot|not|no|stuck|flicker\w*|drip\w*|crack\w*|loose|fell|fallen|falling|noisy|noise|smell\w*|overflow\w*"
    r"|burst|damaged|faulty|dead|off|stopped|jammed|missing|dark|dirty|flood\w*|tripp\w*|sparks?|smok\w*|rust\w*"
    r"|mou?ld\w*|wet|keeps|problem|issue|failed|failing)\b)"
)


# A clause that carries on the previous one ("空调不制冷 还有点漏水": the AC leaks too).
_CONTINUES = re.compile(r"(?:还|也|又|而且|并且|并|就|都|一直|老是|总是|经常|但是?|可是|(?i:still|but|though)\b)")


def _thing(piece: str) -> Optional[Tuple[str, str]]:
    """The category and the first keyword naming what is broken ("马桶" in "马桶漏水")."""
    folded = fold_width(piece)
    for category, pattern in _CATEGORY_PATTERNS:
        m = pattern.search(folded)
        if m:
            return category, m.group(0).lower()
    return None


def _is_problem(piece: str) -> bool:
    return bool(infer_category(piece)) and bool(_PROBLEM.search(piece))


def describes_a_fault(text: str) -> bool:
    """True when ``text`` says something is wrong ("漏", "堵", "坏", "broken", "not working")."""
    return bool(_PROBLEM.search(text))


def names_a_problem(text: str) -> bool:
    """True when ``text`` says what is wrong or with what ("马桶堵了", "the lift"), not only "I want a repair"."""
    return bool(infer_category(text) or _PROBLEM.search(text))


def split_problems(description: str) -> List[str]:
    """One item per problem in ``description``; a single problem gives one item.

    Clauses split at "还有", "另外", "and", "also"… when both sides name a problem
    (something and what is wrong with it); at commas and spaces only when the two
    name different things ("水龙头漏水，马桶漏水") and the second does not carry on
    the first ("空调不制冷 还有点漏水"). "水管漏水而且很急" and "the kitchen tap and the pipe
    under the sink are leaking" stay one problem.
    """
    return list(_problems(description or ""))


@lru_cache(maxsize=256)
def _problems(description: str) -> Tuple[str, ...]:
    # Cached: the form reads one description for its text and for the "two problems" note.
    text = description.strip(_EDGE)
    if not text:
        return ()
    pieces: List[Tuple[int, int, bool]] = []  # start, end, introduced by a marker
    position, strong = 0, False
    for m in _SEPARATOR.finditer(text):
        if m.start() == m.end() or m.start() == 0:
            continue
        pieces.append((position, m.start(), strong))
        position, strong = m.end(), bool(m.group("marker"))
    pieces.append((position, len(text), strong))
    items: List[List[int]] = []
    for start, end, by_marker in pieces:
        piece = text[start:end]
        if items:
            current = text[items[-1][0] : items[-1][1]]
            split = _is_problem(piece) and _is_problem(current) and (
                by_marker or (_thing(piece) != _thing(current) and not _CONTINUES.match(piece)))
            if not split:
                items[-1][1] = end
                continue
        items.append([start, end])
    return tuple(text[s:e].strip(_EDGE) for s, e in items if text[s:e].strip(_EDGE))


# ---------------------------------------------------------------- visit time
_ZH_DAY = (r"(?:大后天|后天|明天|今天|今晚|明晚|今早|明早|今儿|明儿|(?:这|本|下)?(?:周|星期|礼拜)[一二三四五六日天末1-7]"
           r"|(?:这|本|下下?)(?:周|星期|礼拜)|工作日|周末|双休日?|节假日|平时|平日|每天|\d{1,2}月\d{1,2}[日号]"
           r"|(?<![\d号])\d{1,2}[号日](?![楼栋单元门房室\d])|这两天|过两天|改天)")
_ZH_PART = r"(?:全天|一整天|整天|上午|下午|中午|晚上|早上|早晨|傍晚|夜里|晚间|白天|午饭后|午休后|下班(?:后|以后|之后)|饭后|晚饭后|午后|凌晨|一早|上班前)"
_ZH_CLOCK = (r"(?:(?:\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(?:点|时)(?:半|一刻|三刻|\s*\d{1,2}\s*分?|[一二三四五]十分?)?"
             r"|\d{1,2}[:：]\d{2})")
_ZH_QUAL = r"(?:以后|之后|后|以前|之前|前|左右|前后|以内|之间)"
_ZH_JOIN = r"(?:\s*(?:的|到|至|-|~|～|或者?|和|、)?\s*)"
_ZH_TIME = re.compile(
    rf"(?:{_ZH_DAY}|{_ZH_PART}|{_ZH_CLOCK})(?:{_ZH_JOIN}(?:{_ZH_DAY}|{_ZH_PART}|{_ZH_CLOCK})|\s*{_ZH_QUAL})*"
)
_ZH_ANYTIME = re.compile(r"随时(?!可能|会|都会|都可能)|什么时候都(?:行|可以|方便)|任何时间|(?:一整天|全天)")
_EN_DAY = (r"(?:today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening|night))?|the day after tomorrow"
           r"|(?:this|next|coming)\s+(?:morning|afternoon|evening|weekend|week|(?:mon|tues|wednes|thurs|fri|satur|sun)day)"
           r"|(?:on\s+)?(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|weekdays?|weekends?)"
           r"|(?:any|every)\s*day|mon(?:day)?\s*(?:-|to|through)\s*fri(?:day)?)")
_EN_PART = (r"(?:(?:in the\s+)?(?:morning|afternoon|evening)s?|(?:at\s+)?(?:night|noon|midday|lunch ?time|midnight)"
            r"|after (?:work|dinner|lunch|school)|before work|any ?time|whenever|all day)")
_EN_CLOCK = (r"(?:(?:after|before|from|between|around|about|by|until|till|at|past|not before|no earlier than|no later than)\s+)?"
             r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)(?![A-Za-z])"
             r"|(?:after|before|from|between|around|about|by|until|till|at)\s+\d{1,2}(?::\d{2})?"
             r"(?!\s*(?:days?|hours?|hrs?|minutes?|mins?|weeks?|months?|years?|%|floor|st\b|nd\b|rd\b|th\b)|\d|[-#])"
             r"|\d{1,2}:\d{2}\b"
             # the second end of a range: "between 9 and 12", "from 2 to 4"
             r"|(?:(?<=and )|(?<=to )|(?<=-))\d{1,2}(?::\d{2})?(?!\s*(?:days?|hours?|mins?|minutes?|weeks?|%)|\d)")
_EN_JOIN = r"(?:\s*(?:,|on|in the|at|or|and|to|-|–)?\s+|\s*-\s*)"
_EN_TIME = re.compile(
    rf"\b(?:{_EN_DAY}|{_EN_PART}|{_EN_CLOCK})(?:{_EN_JOIN}(?:{_EN_DAY}|{_EN_PART}|{_EN_CLOCK}))*",
    re.IGNORECASE,
)
# Around a time, words that make it an availability ("明天下午都在家", "tomorrow works")…
_AVAILABLE = re.compile(
    r"在家|家里有人|有人|方便|有空|可以|都行|行吗|上门|过来|来|安排|预约|比较好|最好|合适|没问题|吧"
    r"|(?i:\b(?:home|in|around|available|free|there|come|visit|drop by|stop by|works?|fine|ok|okay|good|best|suits?"
    r"|convenient|prefer(?:ably)?|please|send|schedule|can|could|would|better|possible)\b)"
)
# … and words that make it when something happened ("今天早上发现漏水", "since yesterday").
_HAPPENED = re.compile(r"^\s*(?:就|已经|才|刚|突然|开始|发现|起|以来|一直|的时候|坏|漏|停)"
                       r"|^\s*(?i:(?:it |the \w+ )?"
                       r"(?:started|began|noticed|happened|broke|burst|was|has been|stopped|ago|since))")
# … or when the resident cannot be there ("工作日白天家里没人", "I'm out on weekdays").
_UNAVAILABLE = re.compile(r"\s*(?:都|也)?(?:家里|家)?(?:没人|不在|没空|没时间|不方便|不行|上班|要上班)"
                          r"|\s*(?i:(?:i'?m|we'?re|i am|we are) (?:not|out|away|busy|at work)"
                          r"|(?:doesn'?t|won'?t|does not) work|is bad|no good)")
# What may surround a time that is the whole answer ("周六上午吧", "I'm free after 6pm").
_TIME_FILLER = re.compile(
    r"[\s,，。.!！?？~]|我|们|都|也|在家|在|有人|可以|行|吧|的|呢|啊|哦|好|方便|有空|那就|就"
    r"|(?i:\b(?:i|i'm|im|we|we're|am|are|is|it|at|home|free|available|any|fine|ok|okay|works?|good|please|on|the"
    r"|best|how about|maybe|probably|preferably|prefer|would be|be)\b)"
)


def extract_visit_time(text: str) -> Optional[str]:
    """The visit time the resident prefers, as they said it, or ``None``.

    "明天下午都在家" → "明天下午", "after 6pm on weekdays", "工作日晚上6点以后",
    "随时都可以" → "随时". Times that say when something happened ("今天早上发现
    漏水") and durations ("漏水三天了", "for 2 days") are not visit times; a time
    counts when it is the whole answer or comes with an availability word.
    """
    if not text:
        return None
    folded = fold_width(text)
    matches = sorted(
        [m for m in _ZH_TIME.finditer(folded) if m.group(0).strip()]
        + list(_EN_TIME.finditer(folded)) + list(_ZH_ANYTIME.finditer(folded)),
        key=lambda m: m.start(),
    )
    for m in matches:
        said = text[m.start() : m.end()].strip(_EDGE)
        if re.fullmatch(r"一\s*点", said):
            continue  # "有一点漏水", "快一点": a little, not one o'clock
        before, after = folded[: m.start()], folded[m.end() :]
        if _HAPPENED.search(after) or _UNAVAILABLE.match(after):
            continue
        alone = not _TIME_FILLER.sub("", before + " " + after)
        near = _AVAILABLE.search(after[:12]) or _AVAILABLE.search(before[-8:])
        if not (alone or near):
            continue
        if m.re is _ZH_ANYTIME:
            return "随时" if said.startswith(("随时", "什么时候", "任何")) else said
        return re.sub(r"^(?i:on)\s+", "", said).strip(_EDGE + "都") or None
    return None
