"""Split documents into passages along headings, articles (第N条) and paragraphs.

Chinese legal text is cited by article, so every article is its own chunk;
other paragraphs of a section are merged up to ``max_chars``. Over-long
units are cut at sentence ends (。！？；… as well as English . ! ?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

MAX_CHARS = 400

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ARTICLE = re.compile(r"^\s*(第[零〇一二三四五六七八九十百千万\d]+条)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Split after Chinese sentence enders (no space needed) or after . ! ? followed by space.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;…])(?![”’」』)])|(?<=[.!?])\s+(?=[A-Z0-9\"'(\u4e00-\u9fff])")


@dataclass
class Passage:
    """A chunk of a document before it becomes a :class:`~knowledge.records.Chunk`."""

    text: str
    section: str = ""
    article: str = ""


def split_sentences(text: str) -> List[str]:
    """Split text into sentences, keeping the punctuation with its sentence."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


def split_long(text: str, max_chars: int = MAX_CHARS) -> List[str]:
    """Cut ``text`` into pieces of at most ``max_chars`` at sentence boundaries."""
    if len(text) <= max_chars:
        return [text]
    pieces, current = [], ""
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:  # a single monster sentence: hard cut
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        sep = "" if not current or _is_cjk_end(current) else " "
        if current and len(current) + len(sep) + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current}{sep}{sentence}"
    if current:
        pieces.append(current)
    return pieces


def _is_cjk_end(text: str) -> bool:
    if not text:
        return False
    last = text[-1]
    return "\u3000" <= last <= "\u9fff" or last in "。！？；，：”）"


def _paragraphs(lines: Iterable[str]) -> List[str]:
    paras, buf = [], []
    for line in lines:
        if line.strip():
            buf.append(line.strip())
        elif buf:
            paras.append(_join(buf))
            buf = []
    if buf:
        paras.append(_join(buf))
    return paras


def join_lines(lines: List[str]) -> str:
    """Join lines of one paragraph: Chinese lines without a space, English with one."""
    lines = [x.strip() for x in lines if x.strip()]
    return _join(lines) if lines else ""


def _join(lines: List[str]) -> str:
    # Chinese lines join without spaces, English with one.
    out = lines[0]
    for line in lines[1:]:
        out += ("" if _is_cjk_end(out) else " ") + line
    return out


def parse_markdown(text: str, default_title: str) -> Tuple[str, List[Tuple[str, List[str]]]]:
    """Return the document title and a list of (heading path, paragraphs) sections."""
    text = _COMMENT.sub("\n", text)
    title: Optional[str] = None
    stack: List[Tuple[int, str]] = []
    sections: List[Tuple[str, List[str]]] = []
    lines: List[str] = []

    def flush() -> None:
        paras = _paragraphs(lines)
        if paras:
            sections.append((" > ".join(h for _, h in stack), paras))
        lines.clear()

    for line in text.splitlines():
        m = _HEADING.match(line)
        if not m:
            lines.append(line)
            continue
        flush()
        level, heading = len(m.group(1)), m.group(2).strip()
        if level == 1 and title is None:
            title = heading
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    return title or default_title, sections


def chunk_sections(sections: List[Tuple[str, List[str]]], max_chars: int = MAX_CHARS) -> List[Passage]:
    """Turn sections into passages: one per article, merged paragraphs otherwise."""
    out: List[Passage] = []
    for section, paras in sections:
        units: List[Tuple[str, str]] = []  # (article, text)
        for para in paras:
            m = _ARTICLE.match(para)
            if m:
                units.append((m.group(1), para))
            elif units and units[-1][0]:
                # items "(一)…" and follow-up paragraphs belong to the open article
                art, body = units[-1]
                units[-1] = (art, body + "\n" + para)
            else:
                units.append(("", para))
        merged: List[Tuple[str, str]] = []
        for art, body in units:
            if not art and merged and not merged[-1][0] and len(merged[-1][1]) + len(body) + 1 <= max_chars:
                merged[-1] = ("", merged[-1][1] + "\n" + body)
            else:
                merged.append((art, body))
        for art, body in merged:
            for i, piece in enumerate(_split_keep_lines(body, max_chars)):
                out.append(Passage(text=piece, section=section, article=art if i == 0 or not art else f"{art}（续）"))
    return out


def _split_keep_lines(body: str, max_chars: int) -> List[str]:
    if len(body) <= max_chars:
        return [body]
    pieces, current = [], ""
    for line in body.split("\n"):
        for part in split_long(line, max_chars):
            if current and len(current) + 1 + len(part) > max_chars:
                pieces.append(current)
                current = part
            else:
                current = f"{current}\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def chunk_markdown(text: str, default_title: str, max_chars: int = MAX_CHARS) -> Tuple[str, List[Passage]]:
    """Chunk a Markdown document; returns (title, passages)."""
    title, sections = parse_markdown(text, default_title)
    return title, chunk_sections(sections, max_chars)


def chunk_plain(text: str, default_title: str, max_chars: int = MAX_CHARS) -> Tuple[str, List[Passage]]:
    """Chunk plain text: paragraphs and articles, no headings."""
    return default_title, chunk_sections([("", _paragraphs(text.splitlines()))], max_chars)
