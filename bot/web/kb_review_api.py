"""The knowledge-base page's review routes: hit testing and unanswered questions (editors, admins).

- ``POST /api/kb/hit-test`` ``{"question", "language"?}``: what a resident asking that
  question gets, computed by the action server (the process and knowledge-base version
  that answer residents, :mod:`bot.web.hit_test`), plus how the assistant's NLU reads
  the message (``intent``): only ``ask_question`` and ``nlu_fallback`` go to the
  knowledge base. 502 when the action server does not answer, 503 while loading.
- ``GET /api/kb/unanswered?status=new&limit=``: questions the knowledge base abstained on,
  similar ones grouped (:func:`knowledge.unanswered.group_questions`), phones masked.
- ``POST /api/kb/unanswered/ignore`` ``{"ids"}`` and ``POST /api/kb/unanswered/answered``
  ``{"ids", "faq_id"}``: a group leaves the new list (and the dashboard).

The other ``/api/kb`` routes (FAQ, documents, re-index, versions, setup) are in
:mod:`bot.web.kb_api`; the page is ``console_static/kb.js``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.privacy import mask_phones
from bot.web import hit_test as action_side
from bot.web.api import authenticated, body, int_arg, user_of, valid_id
from bot.web.http import error
from bot.web.openapi import I, N, S, describe, obj, op, query, ref

logger = logging.getLogger(__name__)

blueprint = Blueprint("linli_kb_review_api", url_prefix="/api/kb")

EDITORS = ("editor",)  # authenticated() lets admins pass every role check
#: Seconds a hit test may take on the action server (a first call loads the knowledge base and
#: maybe the language model).
HIT_TEST_TIMEOUT = 120.0
#: Intents whose messages the assistant answers from the knowledge base (data/rules.yml).
KB_INTENTS = ("ask_question", "nlu_fallback")
#: Unanswered questions read for grouping, newest first.
GROUP_WINDOW = 2000
#: Most ids one review call may change.
MAX_IDS = 2000
STATUSES = ("new", "ignored", "answered")


# ---------------------------------------------------------------- hit test
def action_base_url(webhook_url: str) -> str:
    """The action server's base URL from its webhook URL (``http://host:5055/webhook`` -> ``http://host:5055``)."""
    parts = urlsplit(webhook_url)
    path = parts.path.rstrip("/")
    if path.endswith("/webhook"):
        path = path[: -len("/webhook")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _hit_test_input(data: Dict[str, Any]) -> Union[Tuple[str, Optional[str]], HTTPResponse]:
    question, language = data.get("question"), data.get("language")
    if not isinstance(question, str) or not question.strip():
        return error(400, "missing_question", 'Send {"question": "...", "language": "zh"|"en"} as JSON.')
    if len(question) > action_side.MAX_QUESTION:
        return error(400, "too_long", f"Questions have at most {action_side.MAX_QUESTION} characters.")
    if language not in (None, "", "zh", "en"):
        return error(400, "bad_language", 'language must be "zh" or "en" (or left out: detected from the question).')
    return question, language or None


async def _intent(agent: Any, question: str) -> Optional[Dict[str, Any]]:
    """How the assistant's NLU reads the message: ``{"name", "confidence", "knowledge_base"}``."""
    try:
        parsed = await agent.parse_message(question.strip())
    except Exception as exc:  # the hit test is still worth showing without it
        logger.warning("hit test: could not parse %r with the NLU: %s", question, exc)
        return None
    intent = parsed.get("intent") or {}
    name = intent.get("name")
    return {"name": name, "confidence": round(float(intent.get("confidence") or 0.0), 4),
            "knowledge_base": name in KB_INTENTS}


@blueprint.post("/hit-test")
@authenticated(roles=EDITORS)
async def hit_test(request: Request) -> HTTPResponse:
    """The reply a resident asking ``question`` gets, with the passages, scores and decision behind it."""
    checked = _hit_test_input(body(request))
    if isinstance(checked, HTTPResponse):
        return checked
    question, language = checked
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.processor is None:
        return error(503, "loading", "The assistant is still loading; retry in a moment.")
    endpoint = agent.action_endpoint
    if endpoint is None or not endpoint.url:
        return error(502, "no_action_server", "No action endpoint is configured (endpoints.yml action_endpoint); "
                                              "the knowledge base runs on the action server.")
    url = action_base_url(endpoint.url) + action_side.PATH
    payload = {"question": question, "language": language}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HIT_TEST_TIMEOUT)) as session:
            async with session.post(url, json=payload, headers=dict(endpoint.headers or {})) as resp:
                status = resp.status
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
    except asyncio.TimeoutError:
        return error(502, "action_server_timeout", f"The action server did not answer within {HIT_TEST_TIMEOUT:.0f} s; "
                                                   "it may be overloaded: try again.")
    except aiohttp.ClientError as exc:
        logger.warning("hit test: the action server at %s does not answer: %s", url, exc)
        return error(502, "action_server_down", "The action server (which holds the knowledge base) does not answer: "
                                                "start it (python -m bot.action_server) and try again.")
    message = answer.get("message") if isinstance(answer, dict) else None
    if status == 401:
        return error(502, "action_server_refused", "The action server refused the token: ACTION_SERVER_TOKEN must be "
                                                   "the same for both servers.")
    if status == 404:
        return error(502, "action_server_outdated", "The action server has no hit-test route: restart it with this "
                                                    "release.")
    if status == 503:
        return error(503, "kb_unavailable", message or "The knowledge base is loading; retry in a moment.")
    if status == 400:
        return error(400, (answer or {}).get("error", "bad_request"), message or "Invalid question.")
    if status != 200 or not isinstance(answer, dict):
        return error(502, "action_server_error", f"The action server answered {status}: {message or 'see its log'}.")
    answer["intent"] = await _intent(agent, question)
    return response.json(answer)


# ---------------------------------------------------------------- unanswered questions
def _unanswered_store() -> Any:
    from knowledge.unanswered import UnansweredStore  # the database on DATABASE_URL (every replica's rows)

    return UnansweredStore()


def _masked(group: Dict[str, Any]) -> Dict[str, Any]:
    """A group for the page: phone numbers in the wordings masked (a review list, not a resident's page)."""
    return {**group, "question": mask_phones(group["question"]),
            "examples": [mask_phones(e) for e in group["examples"]]}


@blueprint.get("/unanswered")
@authenticated(roles=EDITORS)
async def unanswered(request: Request) -> HTTPResponse:
    """Unanswered questions of ``?status=`` (default new), similar ones grouped, most frequent first."""
    status = request.args.get("status") or "new"
    if status not in STATUSES:
        return error(400, "bad_parameter", f"status must be one of {', '.join(STATUSES)}.")
    try:
        limit = int_arg(request, "limit", 100, 1, 500)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    groups = await asyncio.to_thread(lambda: _unanswered_store().groups(status, GROUP_WINDOW))
    return response.json({"groups": [_masked(g) for g in groups[:limit]], "total_groups": len(groups),
                          "questions": sum(g["count"] for g in groups), "status": status})


def _ids(data: Dict[str, Any]) -> Union[List[int], HTTPResponse]:
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        return error(400, "missing_ids", 'Send {"ids": [1, 2, ...]}: the ids of a group (GET /api/kb/unanswered).')
    if len(ids) > MAX_IDS:
        return error(400, "too_many_ids", f"At most {MAX_IDS} ids at a time.")
    if not all(isinstance(i, int) and not isinstance(i, bool) and valid_id(i) for i in ids):
        return error(400, "bad_ids", "ids must be positive whole numbers.")
    return ids


@blueprint.post("/unanswered/ignore")
@authenticated(roles=EDITORS)
async def ignore_unanswered(request: Request) -> HTTPResponse:
    """Mark questions ignored (off the review list and the dashboard)."""
    ids = _ids(body(request))
    if isinstance(ids, HTTPResponse):
        return ids
    by = f"staff:{user_of(request).username}"
    updated = await asyncio.to_thread(lambda: _unanswered_store().set_status_many(ids, "ignored", by))
    return response.json({"updated": updated})


@blueprint.post("/unanswered/answered")
@authenticated(roles=EDITORS)
async def answered_unanswered(request: Request) -> HTTPResponse:
    """Mark questions answered by the FAQ entry ``faq_id`` (the page calls it once the entry is saved)."""
    data = body(request)
    ids = _ids(data)
    if isinstance(ids, HTTPResponse):
        return ids
    faq_id = data.get("faq_id")
    if not isinstance(faq_id, str) or not faq_id.strip() or len(faq_id) > 255:
        return error(400, "missing_faq_id", 'Send {"ids": [...], "faq_id": "..."}: the FAQ entry that answers them.')
    by = f"staff:{user_of(request).username}"
    updated = await asyncio.to_thread(
        lambda: _unanswered_store().set_status_many(ids, "answered", by, faq_id.strip()))
    return response.json({"updated": updated})


# ---------------------------------------------------------------- OpenAPI
@describe
def _paths() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    array = lambda item: {"type": "array", "items": item}  # noqa: E731
    hit = obj(rank=I, chunk_id=S, kind={"type": "string", "enum": ["faq", "doc"]}, faq_id=S, title=S, citation=S,
              section=S, article=S, language=S, source=S, text=S, score=N)
    hit_test_result = obj(
        question=S, language=S, hits=array(hit),
        decision={"type": "string", "enum": ["faq", "generate", "abstain"]},
        mode={"type": "string", "enum": ["extractive", "generated", "fallback", "abstained"]},
        confidence=N, thresholds=obj(abstain_below=N, extractive_faq_above=N, min_support=N),
        abstention=obj(measured={"type": "boolean", "description": "abstain_below was measured on this base's FAQ "
                                                                   "questions (false: the fixed fallback)"},
                       questions=I, percentile={"type": "number", "nullable": True}),
        region=obj(name={"type": "string", "description": "KNOWLEDGE_REGION, e.g. 浙江省杭州市 (empty: not set)"},
                   not_cited={"type": "array", "items": S,
                              "description": "documents of other provinces or cities, never cited here"}),
        generator=S, generated=S, rejected_because=array(S), citations=array({"type": "object"}),
        reply={"type": "string", "description": "exactly the text a resident asking this gets"},
        kb_version={"type": "integer", "nullable": True}, timings={"type": "object"},
        intent={"type": "object", "nullable": True, "properties": {
            "name": S, "confidence": N,
            "knowledge_base": {"type": "boolean", "description": "false: the assistant would not send this "
                                                                 "message to the knowledge base"}}})
    review = obj(ids=array(I))
    updated = obj(updated=I)
    paths = {
        "/api/kb/hit-test": {"post": op(
            "Hit test (editor): the reply a resident asking this question gets (from the action server), the top "
            "passages with scores, the decision and its thresholds",
            hit_test_result, request=obj(question=S, language={"type": "string", "enum": ["zh", "en"]}),
            errors=(400, 401, 403, 415, 502, 503), tag="knowledge")},
        "/api/kb/unanswered": {"get": op(
            "Questions the knowledge base could not answer (editor), similar ones grouped, most frequent first",
            obj(groups=array(ref("UnansweredGroup")), total_groups=I, questions=I, status=S),
            params=[query("status", "new (default), ignored or answered"),
                    query("limit", "at most this many groups (1-500, default 100)", "integer")],
            errors=(400, 401, 403), tag="knowledge")},
        "/api/kb/unanswered/ignore": {"post": op(
            "Mark questions ignored (editor): they leave the review list and the dashboard", updated,
            request=review, errors=(400, 401, 403, 415), tag="knowledge")},
        "/api/kb/unanswered/answered": {"post": op(
            "Mark questions answered by an FAQ entry (editor)", updated,
            request=obj(ids=array(I), faq_id=S), errors=(400, 401, 403, 415), tag="knowledge")},
    }
    schemas = {"UnansweredGroup": obj(key=S, question=S, language=S, count=I, last_at=S, first_at=S, ids=array(I),
                                      examples=array(S))}
    return paths, schemas
