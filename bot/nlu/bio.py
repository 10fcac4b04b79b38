"""Character spans <-> token BIO tags, using a fast tokenizer's offset mapping.

Offsets are given relative to the original text (the prompt prefix already
removed); tokens that carry no text (special tokens, the prefix) get ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

OUTSIDE = "O"
IGNORE_INDEX = -100
Offset = Optional[Tuple[int, int]]


@dataclass(frozen=True)
class Span:
    """An entity mention: ``text[start:end]`` has type ``label``."""

    start: int
    end: int
    label: str
    confidence: float = 1.0


def tag_names(entity_types: Sequence[str]) -> List[str]:
    """``["O", "B-phone", "I-phone", ...]`` for the sorted entity types."""
    names = [OUTSIDE]
    for label in sorted(set(entity_types)):
        names += [f"B-{label}", f"I-{label}"]
    return names


def spans_to_tags(offsets: Sequence[Offset], spans: Sequence[Span], tag_index: Dict[str, int]) -> List[int]:
    """Tag ids per token: B- on the first token inside a span, I- on the rest.

    A token belongs to a span when its characters overlap the span, so a token
    that straddles a boundary (rare with XLM-R) is still tagged.
    """
    tags: List[int] = []
    previous: Optional[int] = None  # index of the span the previous token was in
    for offset in offsets:
        if offset is None:
            tags.append(IGNORE_INDEX)
            continue
        hit = next((i for i, s in enumerate(spans) if offset[0] < s.end and s.start < offset[1]), None)
        if hit is None:
            tags.append(tag_index[OUTSIDE])
        else:
            prefix = "I" if hit == previous else "B"
            tags.append(tag_index.get(f"{prefix}-{spans[hit].label}", tag_index[OUTSIDE]))
        previous = hit
    return tags


def _snap(text: str, start: int, end: int) -> Tuple[int, int]:
    """Trim whitespace and widen to whole ASCII words (subwords must not cut 'Bldg12')."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return start, end
    ascii_word = lambda c: c.isascii() and c.isalnum()  # noqa: E731
    while start > 0 and ascii_word(text[start - 1]) and ascii_word(text[start]):
        start -= 1
    while end < len(text) and ascii_word(text[end]) and ascii_word(text[end - 1]):
        end += 1
    return start, end


def tags_to_spans(
    text: str,
    offsets: Sequence[Offset],
    tags: Sequence[str],
    confidences: Sequence[float],
) -> List[Span]:
    """Decode BIO tags to character spans; an ``I-`` without a ``B-`` opens a span."""
    spans: List[Span] = []
    current: Optional[List] = None  # [start, end, label, confidences]

    def close() -> None:
        if current is not None:
            start, end = _snap(text, current[0], current[1])
            if start < end:
                spans.append(Span(start, end, current[2], float(sum(current[3]) / len(current[3]))))

    for offset, tag, conf in zip(offsets, tags, confidences):
        if offset is None or offset[0] >= offset[1]:
            continue
        kind, _, label = tag.partition("-")
        if kind == "I" and current is not None and current[2] == label:
            current[1] = offset[1]
            current[3].append(conf)
            continue
        close()
        current = [offset[0], offset[1], label, [conf]] if kind in ("B", "I") else None
    close()
    # Snapping to word boundaries can make neighbours overlap: keep the first.
    result: List[Span] = []
    for span in spans:
        if not result or span.start >= result[-1].end:
            result.append(span)
    return result
