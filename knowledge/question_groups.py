"""Group similar questions: residents ask one thing in many words.

"快递柜在哪", "快递柜在哪里？" and "小区的快递柜在什么地方" are one question for the
desk's review of unanswered questions (one FAQ entry answers them all); "停车费多少钱"
and "物业费多少钱" are two, though they share most of their characters. No model is
needed (the list is computed on every page view in the web process):

- **Features** (:func:`question_features`): what a question asks about and what kind of
  question it is. The content is what :func:`knowledge.followup.analyse` leaves once
  question words, particles and pronouns are removed, as characters and character
  bigrams (Chinese: "开" still matches "开放") or singular words (English); the kind is the
  class of its question word ("几点" and "什么时候" are both *when*, "哪里" is *where*).
- **Similarity**: Jaccard of the feature sets. Two questions are alike when it is at
  least :data:`SIMILAR`, or at least :data:`SIMILAR_SUBSET` when one's features are all
  in the other's (a question said at more length: "Is there a gym?" / "Is there a gym in
  the community?"). Swapping the topic on both sides ("parking fee" / "management fee")
  stays apart, and so do two kinds of question on one topic ("停车场几点关门" / "停车场在哪"):
  a wrong merge would hide a question behind another.
- **Greedy, newest first** (:func:`group_questions`): a question joins the group of the
  same normalised text, else the group whose first question it resembles most, else
  starts one; per language.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Dict, FrozenSet, Iterable, List, Tuple

#: Jaccard similarity from which two questions are one group.
SIMILAR = 0.7
#: Lower similarity that suffices when one question's features are a subset of the other's.
SIMILAR_SUBSET = 0.5
#: Distinct wordings kept as examples per group.
EXAMPLES = 5

_NOT_TEXT = re.compile(r"[\W_]+", re.U)
_EN_WORD = re.compile(r"[a-z]+")
# Classes of question words (closed-class words, not topics), longest spellings first.
_ZH_KINDS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("cost", ("多少钱", "收费标准", "怎么收费", "价格")),
    ("duration", ("多长时间", "多久")),
    ("when", ("什么时候", "啥时候", "何时", "几点", "哪天", "时间")),
    ("where", ("什么地方", "哪个地方", "哪里", "哪儿", "在哪")),
    ("how", ("怎么办", "怎么样", "怎么", "怎样", "如何", "咋")),
    ("why", ("为什么", "为啥")),
    ("who", ("找谁", "谁")),
    ("can", ("可不可以", "能不能", "能否", "行不行", "允许", "可以", "能")),
    ("yesno", ("有没有", "是不是", "吗")),
)
_EN_KINDS: Tuple[Tuple[str, Tuple[Tuple[str, ...], ...]], ...] = (
    ("cost", (("how", "much"), ("cost",), ("price",))),
    ("duration", (("how", "long"),)),
    ("when", (("when",), ("what", "time"), ("hours",))),
    ("where", (("where",),)),
    ("how", (("how",),)),
    ("why", (("why",),)),
    ("who", (("who",),)),
    ("can", (("can",), ("may",), ("could",), ("allowed",))),
)
# An English question opening with one of these asks yes or no ("Is there a gym?").
_EN_YESNO = ("is", "are", "do", "does", "was", "will", "has", "have")


def normalise(question: str) -> str:
    """Comparable form: full-width folded (NFKC), lower case, punctuation and spaces collapsed to one space."""
    text = unicodedata.normalize("NFKC", question or "").casefold()
    return _NOT_TEXT.sub(" ", text).strip()


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _kinds(text: str, language: str) -> FrozenSet[str]:
    if language == "zh":
        return frozenset("?" + kind for kind, words in _ZH_KINDS if any(w in text for w in words))
    words = _EN_WORD.findall(text)
    found = set()
    for kind, phrases in _EN_KINDS:
        for phrase in phrases:
            n = len(phrase)
            if any(tuple(words[i:i + n]) == phrase for i in range(len(words) - n + 1)):
                found.add("?" + kind)
                break
    if words and words[0] in _EN_YESNO:
        found.add("?yesno")
    if "?cost" in found or "?duration" in found:
        found.discard("?how")  # "how much" is a cost question, not a "how do I" one
    return frozenset(found)


def question_features(question: str, language: str) -> FrozenSet[str]:
    """What two questions are compared on: content bigrams or words, and the kinds of question word."""
    from .followup import analyse  # the follow-up detector's closed-class word lists

    lang = "en" if language == "en" else "zh"
    text = normalise(question)
    content = analyse(question, lang).content
    if lang == "en":
        grams = {_singular(w) for w in content}
    else:
        grams = {run[i:i + n] for run in content for n in (1, 2) for i in range(len(run) - n + 1)}
    if not grams:  # nothing but question words ("多少钱？"): the whole text is the content
        grams = {text.replace(" ", "")} if text else set()
    return frozenset(grams) | _kinds(text, lang)


def alike(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    """How alike two feature sets are: their Jaccard similarity if it clears the bar, else 0.

    Two questions that both have a question word, and no kind in common, ask different
    things about the same topic ("停车场几点关门" / "停车场在哪"): never alike.
    """
    if not a or not b:
        return 0.0
    kinds_a, kinds_b = {f for f in a if f.startswith("?")}, {f for f in b if f.startswith("?")}
    if kinds_a and kinds_b and not kinds_a & kinds_b:
        return 0.0
    score = len(a & b) / len(a | b)
    bar = SIMILAR_SUBSET if (a <= b or b <= a) else SIMILAR
    return score if score >= bar else 0.0


def group_questions(entries: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Group questions given newest first (rows of :meth:`knowledge.unanswered.UnansweredStore.latest`).

    Returns groups, most frequent first (then most recent), each ``{"key", "question",
    "language", "count", "last_at", "first_at", "ids", "examples"}``: ``question`` is the
    most frequent wording (the newest on a tie), ``examples`` the distinct wordings, newest
    first (at most :data:`EXAMPLES`), ``key`` the language and a digest of that wording.
    """
    groups: List[Dict[str, Any]] = []
    by_text: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for entry in entries:
        question = str(entry.get("question") or "").strip()
        if not question:
            continue
        lang = "en" if entry.get("language") == "en" else "zh"
        norm = normalise(question)
        group = by_text.get((lang, norm))
        if group is None:
            features = question_features(question, lang)
            score, best = max(((alike(features, g["features"]), g) for g in groups if g["language"] == lang),
                              key=lambda pair: pair[0], default=(0.0, None))
            group = best if score > 0 else None
            if group is None:
                group = {"language": lang, "features": features, "wordings": {}, "ids": [], "count": 0,
                         "last_at": entry.get("ts"), "first_at": entry.get("ts")}
                groups.append(group)
            by_text[(lang, norm)] = group
        group["count"] += 1
        if entry.get("id") is not None:
            group["ids"].append(entry["id"])
        group["first_at"] = entry.get("ts") or group["first_at"]  # newest first: the last one seen is the oldest
        group["wordings"].setdefault(norm, [question, 0])[1] += 1
    result = []
    for group in groups:
        wordings = list(group["wordings"].items())  # insertion order: newest wording first
        norm, (question, _) = max(wordings, key=lambda item: item[1][1])  # max keeps the first on a tie
        key = f"{group['language']}:{hashlib.sha1(norm.encode('utf-8')).hexdigest()[:16]}"  # no resident text in it
        result.append({"key": key, "question": question, "language": group["language"],
                       "count": group["count"], "last_at": group["last_at"], "first_at": group["first_at"],
                       "ids": group["ids"], "examples": [w[1][0] for w in wordings[:EXAMPLES]]})
    result.sort(key=lambda g: g["last_at"] or "", reverse=True)  # ISO UTC times sort as text
    result.sort(key=lambda g: g["count"], reverse=True)  # stable: the most recent first among equals
    return result
