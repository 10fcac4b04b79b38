"""Hit testing on the action server: what the knowledge base answers a question, and why.

The desk's ``POST /api/kb/hit-test`` (:mod:`bot.web.kb_review_api`) forwards the question
here, to ``POST /kb/hit-test`` on the action server, because this is the process (and the
knowledge-base version, :mod:`knowledge.live`) that answers residents. The route sits
behind the action server's bearer token like every action call (:mod:`bot.action_server`).

:func:`hit_test` runs the resident's path of ``action_answer_question``
(:mod:`actions.answer_question`) for a first question of a conversation — no earlier
topic to follow up, the language detected from the message (else the conversation's,
``language``) — with one difference: the question is not recorded as unanswered. It adds
what staff need to judge the answer: the top passages with their cosine scores, the
decision with the thresholds that applied, the raw generated text and why it was rejected.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.http import error

logger = logging.getLogger(__name__)

#: Path of the route on the action server (the desk derives the URL from the action endpoint).
PATH = "/kb/hit-test"
#: Longest question accepted (a resident's message is rarely longer).
MAX_QUESTION = 1000
#: The answer's mode -> the decision shown on the desk.
DECISIONS = {"extractive": "faq", "generated": "generate", "fallback": "generate", "abstained": "abstain"}


def hit_test(question: str, language: Optional[str] = None) -> Dict[str, Any]:
    """The knowledge base's answer to ``question`` as a resident would get it, with its evidence.

    Blocking (embedding, maybe generation): call it in a thread. Raises what the
    knowledge base raises when it cannot load (no active version, missing model).
    """
    from bot.nlu.language import detect_language, normalise_language
    from knowledge.followup import FollowupResolver
    from knowledge.live import current
    from knowledge.records import citation

    text = question.strip()
    # actions.common.language_of: the message's language, else the conversation's (zh at first).
    lang = detect_language(text) or normalise_language(language)
    answerer = current()
    cfg = answerer.cfg
    hits = answerer.retriever.search(text, k=cfg.top_k, language=lang)
    # Exactly the action's call for a message with no earlier topic; only the logging differs.
    _resolution, result, _context = FollowupResolver(answerer).ask(text, None, lang, log_unanswered=False)
    return {
        "question": text,
        "language": lang,
        "hits": [{"rank": rank, "chunk_id": h.chunk.chunk_id, "kind": h.chunk.kind, "faq_id": h.chunk.faq_id or None,
                  "title": h.chunk.title, "citation": citation(h.chunk, lang), "section": h.chunk.section,
                  "article": h.chunk.article, "language": h.chunk.language, "source": h.chunk.source,
                  "text": h.chunk.text, "score": round(h.dense, 4)}
                 for rank, h in enumerate(hits, start=1)],
        "decision": DECISIONS.get(result.mode, result.mode),
        "mode": result.mode,
        "confidence": round(result.confidence, 4),
        "thresholds": {"abstain_below": answerer.abstain_below(lang), "extractive_faq_above": cfg.extractive_faq_above(lang),
                       "min_support": cfg.min_support},
        # How abstain_below was found: measured on this base's FAQ questions, or the fixed one.
        "abstention": {"measured": bool(answerer.calibration and lang in answerer.calibration.thresholds),
                       "questions": (answerer.calibration.questions.get(lang, 0) if answerer.calibration else 0),
                       "percentile": answerer.calibration.quantile if answerer.calibration else None},
        # Where the community is, and the documents that are never cited because they are
        # another place's rules (knowledge/jurisdiction.py); empty without KNOWLEDGE_REGION.
        "region": {"name": answerer.retriever.region,
                   "not_cited": sorted(answerer.retriever.excluded_documents)},
        "generator": answerer.backend,
        "generated": result.generated,
        "rejected_because": result.unsupported,
        "citations": result.citations,
        "reply": result.reply_text(),
        "kb_version": answerer.kb_version,
        "timings": result.timings,
    }


def install_hit_test(app: Sanic) -> None:
    """Add ``POST /kb/hit-test`` (``{"question", "language"?}``) to the action server's app."""

    @app.post(PATH, name="linli_kb_hit_test")
    async def _hit_test(request: Request) -> HTTPResponse:
        try:
            data = request.json
        except Exception:  # malformed JSON
            data = None
        question = data.get("question") if isinstance(data, dict) else None
        language = data.get("language") if isinstance(data, dict) else None
        if not isinstance(question, str) or not question.strip():
            return error(400, "missing_question", 'Send {"question": "...", "language": "zh"|"en"} as JSON.')
        if len(question) > MAX_QUESTION:
            return error(400, "too_long", f"Questions have at most {MAX_QUESTION} characters.")
        if language not in (None, "", "zh", "en"):
            return error(400, "bad_language", 'language must be "zh" or "en".')
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, hit_test, question, language)
        except Exception as exc:  # no active version, missing model: the resident would get utter_kb_unavailable
            logger.exception("hit test failed for %r", question)
            return error(503, "kb_unavailable", f"The knowledge base cannot answer right now ({exc}); "
                                                "check the action server's log, then re-index or restore a version.")
        return response.json(result)
