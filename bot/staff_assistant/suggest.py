"""Agent assist: up to three suggested replies to a resident's latest message, from one hit test.

The first is the answer the resident would get from the bot (the same grounding and
abstention), the others the next passages in the resident's language above the abstention
threshold: an FAQ entry's answer, or the one sentence of a regulation that best matches
the question (a reply quotes a sentence, not a page). Nothing is suggested when the
knowledge base abstains. Each suggestion has its source (the citation), its confidence
(the answer's, or the passage's cosine score) and its kind.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any, Dict, List

#: Most suggestions shown for one message.
MAX_SUGGESTIONS = 3
#: Longest regulation sentence quoted (characters).
MAX_SENTENCE = 220
#: Share of a suggestion the sent reply must still contain to count as "sent".
KEPT_SHARE = 0.6
_SOURCE_LINE = re.compile(r"\n(来源：|Source: ).*$", re.S)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+")
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]", re.IGNORECASE)
_QUOTE = {"zh": "根据{source}：{sentence}", "en": "Under {source}: {sentence}"}


def _grams(text: str) -> set:
    """Words of English and character bigrams of Chinese: what a sentence and a question share."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    han = [t for t in tokens if "\u4e00" <= t <= "\u9fff"]
    words = {t for t in tokens if len(t) > 2 and t not in han}
    return words | {a + b for a, b in zip(han, han[1:])}


def concise_sentence(passage: str, question: str) -> str:
    """The sentence of ``passage`` that shares most with ``question`` (shortened to :data:`MAX_SENTENCE`)."""
    sentences = [s.strip() for s in _SENTENCE_END.split(passage.replace("\n", " ")) if s and s.strip()]
    if not sentences:
        return ""
    wanted = _grams(question)
    best = max(sentences, key=lambda s: (len(_grams(s) & wanted), -abs(len(s) - 60)))
    return best if len(best) <= MAX_SENTENCE else best[: MAX_SENTENCE - 1].rstrip() + "…"


def answer_text(reply: str) -> str:
    """The bot's reply without its "来源：…" line (the panel shows the source separately)."""
    return _SOURCE_LINE.sub("", reply or "").strip()


def suggestions(hit: Dict[str, Any], question: str, limit: int = MAX_SUGGESTIONS) -> List[Dict[str, Any]]:
    """At most ``limit`` suggested replies from a hit test (:func:`bot.web.hit_test.hit_test`); none on abstention."""
    if hit.get("decision") == "abstain" or hit.get("mode") == "abstained":
        return []
    language = hit.get("language") or "zh"
    floor = float((hit.get("thresholds") or {}).get("abstain_below") or 0.0)
    found: List[Dict[str, Any]] = []
    seen_text: set = set()
    used_chunks = {c.get("chunk_id") for c in hit.get("citations") or []}
    answer = answer_text(hit.get("reply", ""))
    if answer:
        sources = list(dict.fromkeys(c.get("citation") for c in hit.get("citations") or [] if c.get("citation")))
        found.append({"kind": "answer", "text": answer, "source": "；".join(sources) if language == "zh" else "; ".join(sources),
                      "title": (hit.get("citations") or [{}])[0].get("title", ""),
                      "confidence": round(float(hit.get("confidence") or 0.0), 3)})
        seen_text.add(answer)
    for passage in hit.get("hits") or []:
        if len(found) >= limit:
            break
        if passage.get("language") != language or float(passage.get("score") or 0) < floor \
                or passage.get("chunk_id") in used_chunks:
            continue
        if passage.get("kind") == "faq":
            kind, text = "faq", (passage.get("text") or "").strip()
        else:
            sentence = concise_sentence(passage.get("text") or "", question)
            kind = "regulation"
            text = _QUOTE[language if language in _QUOTE else "zh"].format(source=passage.get("citation", ""),
                                                                           sentence=sentence) if sentence else ""
        if not text or text in seen_text or any(text in s or s in text for s in seen_text):
            continue
        seen_text.add(text)
        found.append({"kind": kind, "text": text, "source": passage.get("citation", ""), "title": passage.get("title", ""),
                      "confidence": round(float(passage.get("score") or 0.0), 3)})
    for number, item in enumerate(found[:limit], start=1):
        item["id"] = f"s{number}"
        item["language"] = language
    return found[:limit]


def still_contains(sent: str, suggestion: str) -> bool:
    """Whether the reply an agent sent still contains most of a suggestion they inserted (edits allowed)."""
    sent, suggestion = " ".join((sent or "").split()), " ".join((suggestion or "").split())
    if not sent or not suggestion:
        return False
    if suggestion in sent:
        return True
    matcher = SequenceMatcher(None, suggestion, sent, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return kept / len(suggestion) >= KEPT_SHARE
