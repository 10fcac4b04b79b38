"""Answer a question from the knowledge base: retrieve, then extract, generate or abstain.

Decision rules (thresholds in config.yml, calibrated in docs/benchmarks.md):
1. best hit's cosine < the base's threshold (:meth:`Answerer.abstain_below`: measured on
   the base's own FAQ questions, :mod:`knowledge.calibration`) -> abstain (offer a human)
2. best hit is a curated FAQ with cosine >= ``extractive_faq_above_<lang>`` -> its answer (fitted, see below)
3. otherwise generate from the top passages; if the generator fails or times out,
   says the passages do not answer, echoes the question, loops, states unsupported
   facts (grounding check) or strays from the passages' wording (support ratio <
   ``min_support``) -> the extractive answer from the best passage.

Extractive answers are concise by default (``answer_style``, :mod:`knowledge.concise`):
a regulation article is cut to the sentence(s) that answer the question behind a lead
("根据《…》第N条："), and an FAQ answer is fitted to the question (no bare "需要。" for a
"how" question); ``answer_style: verbatim`` returns the passage as stored.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from . import calibration, concise, store
from .config import KnowledgeConfig, load_config, resolve_model
from .embedding import get_embedder
from .generation import Generator, make_generator, says_not_known
from .grounding import support_ratio, unsupported_facts
from .lang import detect_language
from .records import citation
from .rerank import get_reranker
from .retrieval import Hit, Retriever

NO_ANSWER = {
    "zh": "抱歉，知识库里没有找到这个问题的答案。需要为您转接人工客服吗？",
    "en": "Sorry, the knowledge base has no answer to that question. Would you like me to connect you with a staff member?",
}
SOURCE_LABEL = {"zh": "来源：", "en": "Source: "}
log = logging.getLogger(__name__)


WARM_RERANK_MAX = 5000  # English chunks embedded by MiniLM at start-up; the rest on first use


@dataclass
class Answer:
    """Result of :meth:`Answerer.ask`."""

    question: str
    language: str
    answer: str
    abstained: bool
    mode: str                       # extractive | generated | fallback | abstained
    confidence: float
    citations: List[Dict] = field(default_factory=list)
    timings: Dict[str, float] = field(default_factory=dict)
    unsupported: List[str] = field(default_factory=list)
    generated: str = ""             # raw model output (also when rejected)
    lead: str = ""                  # the concise answer's opening words ("根据《…》第N条："), part of ``answer``

    def to_dict(self) -> Dict:
        """JSON form of ``ask --json``."""
        return {"question": self.question, "language": self.language, "answer": self.answer,
                "abstained": self.abstained, "mode": self.mode, "confidence": round(self.confidence, 4),
                "citations": self.citations, "timings": self.timings, "unsupported": self.unsupported,
                "generated": self.generated}

    def reply_text(self) -> str:
        """Chat reply: the answer and its sources, or the abstention message."""
        if self.abstained:
            return self.answer
        sep = "；" if self.language == "zh" else "; "
        sources = sep.join(dict.fromkeys(c["citation"] for c in self.citations))
        return f"{self.answer}\n{SOURCE_LABEL[self.language]}{sources}" if sources else self.answer


class Answerer:
    """Loads index, embedder and generator once; answers many questions.

    Unanswered questions go to ``unanswered_sink`` when set (the service sets it
    to :meth:`knowledge.unanswered.UnansweredStore.record`: the shared database),
    otherwise to the JSONL file ``unanswered_log``. ``kb_version`` is the
    database version the index came from (None for a plain folder).
    """

    def __init__(self, cfg: Optional[KnowledgeConfig] = None, index_dir: Optional[Path] = None,
                 generator: Optional[str] = None) -> None:
        self.cfg = cfg or load_config()
        self.index_dir = Path(index_dir) if index_dir else self.cfg.path(self.cfg.index)
        self.stored = store.read(self.index_dir)
        self.embedder = get_embedder(resolve_model(self.cfg.embed_model))
        reranker = get_reranker(self.cfg.rerank_en, self.cfg.rerank_weight, self.cfg.rerank_depth, self.cfg.embed_threads)
        self.retriever = Retriever(self.stored, self.embedder, self.cfg.retrieval, region=self.cfg.region,
                                   reranker=reranker)
        if self.retriever.excluded:
            log.info("region %s: %d passages of %s are not cited (rules of another place)", self.cfg.region,
                     len(self.retriever.excluded), ", ".join(sorted(self.retriever.excluded_documents)))
        # Thresholds measured on this base (knowledge/calibration.py); None = the fixed ones.
        self.calibration = calibration.for_index(self.index_dir, self.retriever, self.cfg)
        self.backend = generator or self.cfg.generator
        self._generator: Optional[Generator] = None
        self._gen_lock = threading.Lock()
        self.unanswered_sink: Optional[Callable[..., None]] = None
        self.kb_version: Optional[int] = None

    def abstain_below(self, language: str) -> float:
        """Best-hit cosine under which this base cannot answer (measured on it, else the fixed one)."""
        fixed = self.cfg.abstain_below(language)
        return self.calibration.threshold(language, fixed) if self.calibration else fixed

    def share_generator(self, other: "Answerer") -> None:
        """Reuse ``other``'s loaded generator: it does not depend on the index, so a reload keeps the LLM."""
        if other.backend == self.backend and other.cfg == self.cfg:
            with other._gen_lock:
                generator = other._generator
            with self._gen_lock:
                self._generator = self._generator or generator

    @property
    def generator(self) -> Generator:
        """The generator backend, created on first use."""
        with self._gen_lock:
            if self._generator is None:
                self._generator = make_generator(self.cfg, self.backend)
            return self._generator

    def warm_reranker(self) -> None:
        """Embed this base's English chunks for the English reranker now (bounded on huge bases).

        Its vectors are kept per chunk text across versions, so after a re-index only new or
        changed chunks cost anything.
        """
        if self.retriever.reranker is not None:
            self.retriever.reranker.warm([c for c in self.stored.chunks if c.language == "en"][:WARM_RERANK_MAX])

    def warm_up(self, generator: bool = True) -> None:
        """Load the models now so the first real question is answered at full speed."""
        self.warm_reranker()
        self.ask("物业费怎么交？", "zh", log_unanswered=False, force_generate=generator)
        self.ask("How do I pay the management fee?", "en", log_unanswered=False, force_generate=generator)

    def ask(self, question: str, language: Optional[str] = None, *, sender_id: Optional[str] = None,
            log_unanswered: bool = True, force_generate: bool = False, hits: Optional[List[Hit]] = None,
            bonus: float = 0.0) -> Answer:
        """Answer ``question`` in ``language`` ("zh"/"en"; detected when None).

        ``hits``: candidates already retrieved (a follow-up's contextual ranking), so the
        question is not embedded and searched again. ``bonus`` is added to the best
        cosine before the thresholds apply (a follow-up joined to its previous question
        scores a little lower than one well-formed question); the reported confidence
        and citation scores stay the real cosines.
        """
        t0 = time.perf_counter()
        lang = language if language in ("zh", "en") else (detect_language(question) or "zh")
        if hits is None:
            hits = self.retriever.search(question, k=self.cfg.top_k, language=lang)
        hits = hits[: self.cfg.top_k]
        t1 = time.perf_counter()
        conf = hits[0].dense if hits else 0.0
        decision = conf + bonus
        timings = {"retrieve_ms": round((t1 - t0) * 1000, 1)}
        if not hits or decision < self.abstain_below(lang):
            if log_unanswered:
                best = hits[0].chunk.chunk_id if hits else None
                if self.unanswered_sink is not None:
                    self.unanswered_sink(question, lang, conf, sender_id, best=best)
                else:
                    from .unanswered import record

                    record(self.cfg.path(self.cfg.unanswered_log), question, lang, conf, sender_id, best=best)
            timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            return Answer(question, lang, NO_ANSWER[lang], True, "abstained", conf, [], timings)

        top = hits[0]
        if top.chunk.kind == "faq" and decision >= self.cfg.extractive_faq_above(lang) and not force_generate:
            lead, text = self.extract(question, top, lang)
            timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            return Answer(question, lang, text, False, "extractive", conf, [self._cite(top, lang)], timings,
                          lead=lead)

        used = [h for h in hits[: self.cfg.context_passages] if h.chunk.language == lang] or [top]
        support = [f"{citation(h.chunk, lang)} {h.chunk.title} {h.chunk.text}" for h in used]
        generated, bad = "", []
        if self.backend != "extractive":
            generated, bad = self._generate(question, used, lang, support)
        timings["generate_ms"] = round((time.perf_counter() - t1) * 1000, 1)
        if generated and not bad:
            bad = _style_problems(generated, question, lang)
        if generated and not bad:
            answer = Answer(question, lang, generated, False, "generated", conf, [self._cite(h, lang) for h in used],
                            timings, [], generated)
        else:  # weak model, endpoint down or no generator: the best passage is always correct
            lead, text = self.extract(question, top, lang)
            answer = Answer(question, lang, text, False, "fallback", conf, [self._cite(top, lang)],
                            timings, bad, generated, lead)
        timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return answer

    def _generate(self, question: str, used: List[Hit], lang: str, support: List[str]) -> tuple:
        """(model output, reasons to reject it); a failing generator is a rejection, never an error."""
        generator = self.generator
        if getattr(generator, "labelled", False):  # it cites: give each passage its source name
            passages = [f"{citation(h.chunk, lang)}：{h.chunk.text}" for h in used]
        else:
            passages = [h.chunk.text for h in used]
        try:
            generated = generator.generate(question, passages, lang)
        except Exception as exc:  # timeout, endpoint down, model crash: the extractive answer instead
            log.warning("generator %s failed for %r: %s", getattr(generator, "name", "?"), question, exc)
            return "", [f"generator failed: {type(exc).__name__}: {exc}"]
        if says_not_known(generated):
            return generated, ["generator: the passages do not answer it"]
        bad = unsupported_facts(generated, support, question)
        ratio = support_ratio(generated, support)
        if generated and ratio < self.cfg.min_support:
            bad = bad + [f"support {ratio:.2f} < {self.cfg.min_support}"]
        return generated, bad

    def extract(self, question: str, hit: Hit, lang: str) -> tuple:
        """(lead, answer text) from one passage without a model: concise or verbatim (``answer_style``)."""
        chunk = hit.chunk
        if self.cfg.answer_style == "verbatim":
            return "", chunk.text
        try:
            if chunk.kind == "faq":
                return "", concise.fit_faq_answer(question, chunk.text, lang, self.embedder)
            lead, body = concise.regulation_reply(question, chunk, lang, self.embedder,
                                                  max_chars=self.cfg.concise_max_chars)
            return lead, lead + body
        except Exception:  # never lose an answer to the shortening step
            log.exception("concise answer failed for %r; answering with the passage", question)
            return "", chunk.text

    @staticmethod
    def _cite(hit: Hit, lang: str) -> Dict:
        c = hit.chunk
        return {"citation": citation(c, lang), "source": c.source, "chunk_id": c.chunk_id, "title": c.title,
                "faq_id": c.faq_id or None, "article": c.article, "score": round(hit.dense, 4)}


def _style_problems(answer: str, question: str, lang: str) -> List[str]:
    """Why a grounded model answer still cannot be sent (empty when it can)."""
    problems = []
    if _echo(answer, question):
        problems.append("echoes the question")
    if _repetitive(answer):
        problems.append("repeats itself")
    if detect_language(answer) not in (lang, None):
        problems.append(f"not in {lang}")
    return problems


def _echo(answer: str, question: str) -> bool:
    """Base models often repeat the question instead of answering it."""
    a, q = answer.strip(" ？?。.!！").lower(), question.strip(" ？?。.!！").lower()
    return a == q or (len(a) <= len(q) + 2 and q in a)


def _repetitive(answer: str, n: int = 6) -> bool:
    """Small models loop ("…缴纳的，…缴纳的"): any n-character span occurring twice."""
    text = "".join(answer.split())
    seen = set()
    for i in range(len(text) - n + 1):
        span = text[i:i + n]
        if span in seen:
            return True
        seen.add(span)
    return False


def get_answerer() -> Answerer:
    """The process's :class:`Answerer` on the active database version (:func:`knowledge.live.current`).

    Call it for every question rather than keeping the result: it changes when
    another version is activated.
    """
    from .live import current

    return current()
