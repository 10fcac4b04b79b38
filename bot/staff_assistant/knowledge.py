"""The knowledge base as staff reach it: the action server's hit test, never a model in this process.

The action server is the process (and knowledge-base version) that answers residents; its
``POST /kb/hit-test`` (:mod:`bot.web.hit_test`) runs the residents' exact path and adds the
passages, scores and decision. Staff answers and reply suggestions are built from that one
answer, so they have the residents' grounding and abstention.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

import aiohttp

from bot.web import hit_test as action_side
from bot.web.kb_review_api import HIT_TEST_TIMEOUT, action_base_url

logger = logging.getLogger(__name__)


class KbUnavailable(RuntimeError):
    """The knowledge base could not answer: ``status`` (502/503) and ``code`` for the API's error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def hit_test(agent: Any, question: str, language: Optional[str] = None,
                   timeout: float = HIT_TEST_TIMEOUT) -> Dict[str, Any]:
    """The action server's hit test of ``question`` (see :func:`bot.web.hit_test.hit_test`).

    Raises :class:`KbUnavailable` while the assistant loads, when the action server does not
    answer or refuses, or when its knowledge base cannot load.
    """
    if agent is None or getattr(agent, "processor", None) is None:
        raise KbUnavailable(503, "loading", "The assistant is still loading; retry in a moment.")
    endpoint = agent.action_endpoint
    if endpoint is None or not endpoint.url:
        raise KbUnavailable(502, "no_action_server", "No action endpoint is configured (endpoints.yml); "
                                                     "the knowledge base runs on the action server.")
    url = action_base_url(endpoint.url) + action_side.PATH
    payload = {"question": question[: action_side.MAX_QUESTION], "language": language}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(url, json=payload, headers=dict(endpoint.headers or {})) as resp:
                status = resp.status
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
    except asyncio.TimeoutError as exc:
        raise KbUnavailable(502, "action_server_timeout", f"The action server did not answer within {timeout:.0f} s.") from exc
    except aiohttp.ClientError as exc:
        logger.warning("staff assistant: the action server at %s does not answer: %s", url, exc)
        raise KbUnavailable(502, "action_server_down", "The action server (which holds the knowledge base) does "
                                                       "not answer.") from exc
    message = answer.get("message") if isinstance(answer, dict) else None
    if status == 503:
        raise KbUnavailable(503, "kb_unavailable", message or "The knowledge base is loading; retry in a moment.")
    if status != 200 or not isinstance(answer, dict):
        raise KbUnavailable(502, "action_server_error", f"The action server answered {status}: {message or 'see its log'}.")
    return answer
