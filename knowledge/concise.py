"""Concise extractive answers: the sentence(s) of a passage that answer the question.

Two jobs, both without a language model (every word of the answer comes from the passage,
so the grounding guarantees of the verbatim answer hold):

* :func:`regulation_reply` turns a retrieved regulation article into a short reply: a lead
  in the resident's language ("根据《物业管理条例》第十四条：" / "Article 14 of 《物业管理条例》
  says (Chinese original):"), then the 1–3 sentences of the article that answer the
  question, in article order, within a length cap. The citation line itself is added by
  :meth:`knowledge.answer.Answer.reply_text`.
* :func:`fit_faq_answer` makes a curated FAQ answer read right for the question asked: a bare
  yes/no opening ("需要。", "Yes.") is dropped when the question is not a yes/no question, and
  the matching part of a long multi-part answer is selected when it clearly scores best.

Sentences are scored by the embedder already loaded for retrieval (cosine of the question to
each sentence) plus character-bigram / word overlap with the question, both standardised
over the passage's sentences so neither scale dominates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from .records import Chunk, citation

MAX_CHARS = 180          # answer body cap (characters); one over-long best sentence is kept whole
SHORT_ARTICLE = 90       # an article body this short is answered whole
MAX_SENTENCES = 3
MARGIN = 1.25            # a sentence joins the best one when its score is within this (standard units)
FAQ_SELECT_ABOVE = 120   # only FAQ answers longer than this are cut to a part
FAQ_SELECT_MARGIN = 1.0  # ... and only when the best part beats the runner-up by this much

_ARTICLE_HEAD = re.compile(r"^\s*第[零〇一二两三四五六七八九十百千万\d]+条\s*")
_ITEM = re.compile(r"^\s*[（(][一二三四五六七八九十\d]+[）)]")
_INLINE_ITEM = re.compile(r"(?<=[：；。:;])(?=[（(][一二三四五六七八九十]{1,3}[）)])")
_ZH_END = re.compile(r"(?<=[。；！？])(?![”’」』）)])")
_EN_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(])")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_LIST_Q = re.compile(r"哪些|哪几|有什么|包括什么|包含什么|都有|列举|\bwhich\b|\bwhat (?:are|kinds?|things)\b|\blist\b", re.I)
_EN_WORD = re.compile(r"[a-z0-9]{2,}")
_EN_STOP = set("the and for are you your with that this can not but from have has will they them their its "
               "what how when where who which why do does did is am was were be to of in on at an or my me "
               "we our it if any there".split())


@dataclass
class Unit:
    """One sentence or numbered clause of a passage."""

    text: str
    item: bool = False       # a numbered clause "（一）…"
    intro: bool = False      # ends with "：" and introduces a list


def split_units(text: str) -> List[Unit]:
    """Sentences and numbered clauses of ``text`` in order (Chinese: 。；！？ and （一）（二）…; English: . ! ? ;)."""
    units: List[Unit] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        for piece in _INLINE_ITEM.split(line):
            for part in _ZH_END.split(piece):
                for sentence in _EN_END.split(part):
                    sentence = sentence.strip()
                    if sentence:
                        units.append(Unit(sentence, bool(_ITEM.match(sentence)), sentence.endswith(("：", ":"))))
    if units:
        units[0].text = _ARTICLE_HEAD.sub("", units[0].text, count=1)
        if not units[0].text:
            units.pop(0)
    return units


def _bigrams(text: str) -> set:
    grams = {run[i:i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)}
    grams |= {run for run in _HAN_RUN.findall(text) if len(run) == 1}
    words = {w[:5] for w in _EN_WORD.findall(text.lower()) if w not in _EN_STOP}  # crude stemming
    return grams | words


def overlap(question: str, sentence: str, idf: Optional[Dict[str, float]] = None) -> float:
    """Share of the question's character bigrams / content words that occur in ``sentence``.

    With ``idf``, each bigram counts by its rarity among the passage's sentences: "维修资金"
    in every sentence of an article tells them apart less than "电梯" in one of them.
    """
    q = _bigrams(question)
    if not q:
        return 0.0
    weight = (lambda g: idf.get(g, 1.0)) if idf else (lambda g: 1.0)
    return sum(weight(g) for g in q & _bigrams(sentence)) / sum(weight(g) for g in q)


# What kind of answer a question asks for, and how a sentence that gives one looks.
_ANSWER_TYPES = [
    (re.compile(r"多久|多长时间|几天|多少天|几日|多少日|几年|多少年|几个月|提前多少|期限|how long|how many (?:days|years|months)|"
                r"within how many|how far ahead|how often|how soon|how quickly", re.I),
     re.compile(r"[\d零〇一二两三四五六七八九十百]+(?:个)?(?:日|天|年|月|小时|分钟|个工作日)|\d+\s*(?:days?|hours?|years?|months?|"
                r"minutes?)", re.I)),
    (re.compile(r"多少钱|多少费|罚多少|罚款|收费|how much|cost|fine", re.I),
     re.compile(r"\d+(?:\.\d+)?\s*(?:万元|元|yuan)|[一二三四五六七八九十百千万]+元", re.I)),
    (re.compile(r"归谁|属于谁|谁所有|归属|是谁的|属于.{0,10}吗|belong|who owns", re.I),
     re.compile(r"归.{0,10}所有|属于|所有权|共有")),
    (re.compile(r"谁负责|由谁|谁来|该谁|谁交|谁修|谁承担|who (?:pays|repairs|is responsible|must)", re.I),
     re.compile(r"由.{1,16}(?:负责|承担|交纳|维修|收取)|负责|承担")),
    (re.compile(r"多少业主|多少比例|几成|多少人同意|多少.{0,4}同意|how many owners", re.I),
     re.compile(r"过半数|\d+/\d+|三分之二|四分之三|\d+%|百分之")),
    (re.compile(r"能不能|可不可以|可以.{0,20}吗|能.{0,20}吗|允许|准不准|是否可以|是否能|allowed|may i|can (?:i|the|a|we)", re.I),
     re.compile(r"不得|禁止|严禁|可以|应当|须|不能")),
]
TYPE_BONUS = 2.0  # standard units added to a sentence that has the kind of answer the question asks for


def _idf(units: Sequence["Unit"]) -> Dict[str, float]:
    df: Dict[str, int] = {}
    for u in units:
        for g in _bigrams(u.text):
            df[g] = df.get(g, 0) + 1
    n = len(units)
    return {g: float(np.log(1.0 + n / d)) for g, d in df.items()}


def answer_type_match(question: str, sentence: str) -> bool:
    """The sentence has the kind of answer the question asks for (a period, a sum, an owner …)."""
    return any(q.search(question) and a.search(sentence) for q, a in _ANSWER_TYPES)


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-6 else np.zeros_like(x)


def scores(question: str, units: Sequence[Unit], embedder=None, qvec: Optional[np.ndarray] = None) -> np.ndarray:
    """Relevance of each unit to the question: standardised cosine + standardised overlap."""
    idf = _idf(units)
    ov = np.asarray([overlap(question, u.text, idf) for u in units], dtype="float32")
    typed = np.asarray([TYPE_BONUS if answer_type_match(question, u.text) else 0.0 for u in units], dtype="float32")
    if typed.min() == typed.max():  # every sentence (or none) has that kind of answer: no information
        typed[:] = 0.0
    if embedder is None or len(units) < 2:
        return _standardise(ov) + typed
    if qvec is None:
        qvec = embedder.query(question)
    cos = embedder.encode([f"passage: {u.text}" for u in units]) @ qvec
    return _standardise(np.asarray(cos, dtype="float32")) + _standardise(ov) + typed


def _join(parts: Sequence[str]) -> str:
    out = ""
    for p in parts:
        if out and not _HAN_RUN.search(out[-1]) and out[-1] not in "。；！？：，”）)":
            out += " "
        out += p
    return out


def select(question: str, text: str, embedder=None, *, qvec: Optional[np.ndarray] = None,
           max_chars: int = MAX_CHARS, max_sentences: int = MAX_SENTENCES, margin: float = MARGIN) -> str:
    """The 1–``max_sentences`` units of ``text`` that best answer ``question``, in text order.

    The best unit is always kept (whole, even when over ``max_chars``); others join when they
    score within ``margin`` of it and fit the cap. A chosen numbered clause brings the sentence
    introducing its list ("业主享有下列权利："); a chosen introduction brings the clauses that fit.
    """
    units = split_units(text)
    if not units:
        return text.strip()
    if len(units) == 1:
        return units[0].text
    s = scores(question, units, embedder, qvec)
    intros = [i for i, u in enumerate(units) if u.intro and i + 1 < len(units) and units[i + 1].item]
    if intros and _LIST_Q.search(question):  # "哪些…": the list (its introduction and the clauses that fit)
        best = max(intros, key=lambda i: s[i] + max(s[i + 1:i + 12]))
    else:  # the best sentence or clause; an introduction alone answers nothing
        candidates = [i for i, u in enumerate(units) if not u.intro] or list(range(len(units)))
        best = max(candidates, key=lambda i: s[i])
    chosen = {best}
    length = len(units[best].text)
    if units[best].intro:
        for j in range(best + 1, len(units)):
            if not units[j].item or length + len(units[j].text) > max_chars:
                break
            chosen.add(j)
            length += len(units[j].text)
    else:
        if units[best].item:
            intro = next((j for j in range(best - 1, -1, -1) if units[j].intro), None)
            if intro is not None and length + len(units[intro].text) <= max_chars + 40:
                chosen.add(intro)
                length += len(units[intro].text)
        for j in sorted(range(len(units)), key=lambda k: -s[k]):
            if len([c for c in chosen if not units[c].intro]) >= max_sentences:
                break
            if j in chosen or s[j] < s[best] - margin or units[j].intro:
                continue
            if length + len(units[j].text) <= max_chars:
                chosen.add(j)
                length += len(units[j].text)
    picked = [units[i].text for i in sorted(chosen)]
    body = _join(picked)
    if picked and picked[-1].endswith("；"):
        body = body[:-1] + "。"
    return body


def _article_number(article: str) -> str:
    """"第十四条（续）" -> "14" (for English leads); "" when there is no article."""
    from .grounding import cn_to_int

    m = re.match(r"第([零〇一二两三四五六七八九十百千万\d]+)条", article or "")
    if not m:
        return ""
    n = m.group(1)
    return n if n.isdigit() else str(cn_to_int(n))


def lead(chunk: Chunk, language: str) -> str:
    """The reply's first words: where the quoted sentences come from, in the resident's language."""
    article = (chunk.article or "").replace("（续）", "")
    if language == "zh":
        return _render("utter_kb_regulation_lead", "zh", source=f"《{chunk.title}》{article}")
    number = _article_number(article)
    if chunk.language == "zh":
        where = f"Article {number} of 《{chunk.title}》" if number else f"《{chunk.title}》"
        return _render("utter_kb_regulation_lead_original", "en", source=where)
    return _render("utter_kb_regulation_lead", "en", source=citation(chunk, "en"))


_LEADS = {  # used only where domain.yml is not at hand (knowledge without the bot package)
    ("utter_kb_regulation_lead", "zh"): "根据{source}：",
    ("utter_kb_regulation_lead", "en"): "According to {source}:",
    ("utter_kb_regulation_lead_original", "en"): "{source} says (Chinese original):",
}


def _render(name: str, language: str, **values: str) -> str:
    try:
        from bot.responses import MissingResponse, render
    except ImportError:
        return _LEADS[(name, language)].format(**values)
    try:
        return render(name, language, **values)
    except MissingResponse:
        return _LEADS[(name, language)].format(**values)


def regulation_reply(question: str, chunk: Chunk, language: str, embedder=None, *,
                     qvec: Optional[np.ndarray] = None, max_chars: int = MAX_CHARS) -> tuple:
    """(lead, body) of a concise answer from a document chunk (an article or a section)."""
    units = split_units(chunk.text)
    whole = _join([u.text for u in units])
    if len(whole) <= SHORT_ARTICLE:
        body = whole
    else:
        body = select(question, chunk.text, embedder, qvec=qvec, max_chars=max_chars)
    sep = " " if language == "en" else ""
    return lead(chunk, language) + sep, body


# ------------------------------------------------------------------ FAQ answers
_ZH_YESNO_Q = re.compile(r"(吗|(?<![什怎那这多])么|嘛|没有|不|否|了没)[？?！!。.\s]*$|是不是|能不能|可不可以|会不会|要不要|需不需要|"
                         r"有没有|用不用|行不行|让不让|准不准|能否|是否|可否")
_ZH_OPEN_Q = re.compile(r"怎么|怎样|如何|哪里|哪儿|哪些|哪个|什么|多少|几点|几天|几个|多久|多长|谁|为什么|为啥|啥")
_EN_AUX = re.compile(r"^\s*(do|does|did|can|could|may|might|is|are|am|was|were|should|shall|must|will|would|"
                     r"have|has|had|need|is there|are there)\b", re.I)
_ZH_OPENER = re.compile(r"^(不需要|需要|不可以|可以|不能|能|不会|会|不是|是的|是|没有|有|不用|要|不允许|允许|不行|行)"
                        r"(?:[。！；]|，(?:但|不过)?)")
_EN_OPENER = re.compile(r"^(yes|no)[.,!;]\s*(?:but\s+)?", re.I)
_NEGATIVE = re.compile(r"^(不|没)|^no$", re.I)
_NEGATION_CUE = re.compile(r"不|没|禁止|严禁|无需|勿|\bnot\b|n't|\bno\b|never|prohibit|forbid|banned|free of", re.I)


def is_yes_no_question(question: str, language: str) -> bool:
    """True for a question a bare yes/no answers ("养狗需要登记吗？", "Can I …?"); False for "how/where/what" ones."""
    q = question.strip()
    if language == "en":
        first = re.split(r"[,;]", q)[-1] if q.count("?") <= 1 else q
        return bool(_EN_AUX.match(first.strip())) or bool(_EN_AUX.match(q))
    if _ZH_YESNO_Q.search(q):
        # "怎么办理，需要什么吗" is still open; "能不能…" / "…吗" without a question word is yes/no
        return not (_ZH_OPEN_Q.search(q) and not re.search(r"(吗|(?<![什怎那这多])么|嘛)[？?\s]*$", q))
    return False


def drop_yes_no_opening(answer: str, question: str, language: str) -> str:
    """``answer`` without its bare yes/no opening when ``question`` is not a yes/no question.

    A negative opening ("不可以。") is dropped only when the rest still says no ("禁止…"),
    so the meaning never flips; otherwise the answer is returned unchanged.
    """
    if is_yes_no_question(question, language):
        return answer
    text = answer.lstrip()
    m = _ZH_OPENER.match(text) or _EN_OPENER.match(text)
    if not m:
        return answer
    rest = text[m.end():].lstrip()
    if not rest:
        return answer
    if _NEGATIVE.match(m.group(1)) and not _NEGATION_CUE.search(rest):
        return answer
    if rest[0].islower():
        rest = rest[0].upper() + rest[1:]
    return rest


def fit_faq_answer(question: str, answer: str, language: str, embedder=None, *,
                   qvec: Optional[np.ndarray] = None) -> str:
    """A curated FAQ answer that reads right for ``question`` (still only the FAQ's own words)."""
    text = drop_yes_no_opening(answer, question, language)
    if len(text) > FAQ_SELECT_ABOVE:
        units = split_units(text)
        if len(units) >= 3:
            s = scores(question, units, embedder, qvec)
            order = np.argsort(-s)
            if s[order[0]] - s[order[1]] >= FAQ_SELECT_MARGIN:
                part = select(question, text, embedder, qvec=qvec, max_sentences=2, margin=FAQ_SELECT_MARGIN / 2)
                if len(part) <= 0.6 * len(text):
                    return part
    return text
