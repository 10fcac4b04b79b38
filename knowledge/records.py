"""The unit stored in the index: one chunk of a source with its citation metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Chunk:
    """A retrievable passage: an FAQ entry or a piece of a document."""

    chunk_id: str                 # unique in the index, stable across re-ingests
    source: str                   # file path as given to ingest
    kind: str                     # "faq" or "doc"
    text: str                     # FAQ answer, or the passage text
    language: str                 # "zh" or "en"
    title: str = ""               # FAQ question, or the document title
    section: str = ""             # heading path of a document chunk
    article: str = ""             # "第七条" when the chunk is a numbered article
    category: str = ""            # FAQ category (e.g. "parking")
    faq_id: str = ""              # FAQ id shared by the zh and en versions of an entry
    extra: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-serialisable form (the line format of chunks.jsonl)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Chunk":
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    def embed_texts(self) -> list:
        """Texts embedded for this chunk, with the E5 prefixes.

        An FAQ is embedded as one passage "question + answer": on the held-out
        set this beat a separate question vector ("query: question") and the
        max of both (docs/benchmarks.md, RAG section). Each similar wording of the
        question (``extra["similar"]``) is one more passage of the same form, "wording +
        answer": a vector of the same kind, so its cosine needs no offset against the others.
        """
        if self.kind == "faq":
            return [f"passage: {q}\n{self.text}" for q in (self.title, *self.similar)]
        head = " ".join(x for x in (self.title, self.section, self.article) if x)
        return [f"passage: {head}\n{self.text}"]

    @property
    def similar(self) -> List[str]:
        """Other wordings of an FAQ question (empty for documents)."""
        return list((self.extra or {}).get("similar") or ())

    def bm25_text(self) -> str:
        """Text indexed by BM25."""
        return " ".join(x for x in (self.title, self.section, self.article, self.text) if x)


# Display names of FAQ categories (the YAML uses the English slug in both languages).
CATEGORY_LABELS = {
    "fees": ("缴费", "Fees and payment"), "parking": ("停车", "Parking"), "deliveries": ("快递", "Deliveries"),
    "pets": ("宠物", "Pets"), "renovation": ("装修", "Renovation"), "garbage": ("垃圾分类", "Garbage sorting"),
    "access": ("门禁与访客", "Visitors and access cards"), "outages": ("停水停电", "Water and power outages"),
    "elevators": ("电梯", "Elevators"), "noise": ("噪音", "Noise"), "moving": ("搬家", "Moving in and out"),
    "complaints": ("投诉", "Complaints"), "contacts": ("办公时间与联系方式", "Office hours and contacts"),
    "repairs": ("报修", "Repairs"), "safety": ("安全", "Safety"),
}


def citation(chunk: Chunk, language: Optional[str] = None) -> str:
    """Human-readable source of a chunk, e.g. 《物业管理条例》第七条 or FAQ — Parking."""
    lang = language or chunk.language
    if chunk.kind == "faq":
        zh, en = CATEGORY_LABELS.get(chunk.category, (chunk.category, chunk.category.replace("_", " ").title()))
        if lang == "zh":
            return f"常见问题 — {zh}" if zh else "常见问题"
        return f"FAQ — {en}" if en else "FAQ"
    where = chunk.article or (chunk.section.split(" > ")[-1] if chunk.section else "")
    if lang == "zh" or chunk.language == "zh":
        return f"《{chunk.title}》{where}"
    return f"{chunk.title} — {where}" if where else chunk.title
