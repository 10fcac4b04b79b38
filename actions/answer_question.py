"""``action_answer_question``: answer open questions from the knowledge base, with citations.

The knowledge base (index, embedding model, generator) loads once per action
server process, on first use. ``KNOWLEDGE_WARM_UP`` loads it at start-up in a
background thread instead: ``index`` (index + embedder), ``full`` (also the
generator), ``0`` (default: lazy). Model calls block, so they run in the
default thread executor and never stall the event loop for other residents.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.nlu.language import detect_language

log = logging.getLogger(__name__)

UNAVAILABLE = {
    "zh": "抱歉，知识库暂时无法使用。需要为您转接人工客服吗？",
    "en": "Sorry, the knowledge base is unavailable right now. Would you like me to connect you with a staff member?",
}


def _answerer() -> Any:
    from knowledge.answer import get_answerer  # heavy imports (torch) only when needed

    return get_answerer()


def _warm_up(generator: bool) -> None:
    try:
        _answerer().warm_up(generator=generator)
        log.info("knowledge base loaded and warmed up")
    except Exception as exc:  # the action still answers (and reports) on first use
        log.warning("knowledge base warm-up failed: %s", exc)


_WARM_UP = os.environ.get("KNOWLEDGE_WARM_UP", "0").lower()
if _WARM_UP in ("index", "full", "1", "true", "yes"):
    threading.Thread(target=_warm_up, args=(_WARM_UP == "full",), name="knowledge-warm-up", daemon=True).start()


def answer_language(tracker: Tracker, text: str) -> str:
    """The slot ``language`` when set, else the language detected in the message (zh by default)."""
    slot = tracker.get_slot("language")
    if slot in ("zh", "en"):
        return slot
    return detect_language(text) or "zh"


class ActionAnswerQuestion(Action):
    """``action_answer_question``: answers from the knowledge base, or abstains and offers a human."""

    def name(self) -> Text:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        lang = answer_language(tracker, text)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                None, lambda: _answerer().ask(text, lang, sender_id=tracker.sender_id))
        except Exception:  # missing index or model: say so and hand over rather than crash the turn
            log.exception("knowledge base failed to answer %r", text)
            dispatcher.utter_message(text=UNAVAILABLE[lang])
            return [SlotSet("handoff_offered", True)]
        dispatcher.utter_message(text=result.reply_text())
        if result.abstained:
            return [SlotSet("handoff_offered", True)]
        return []


def knowledge_answer(text: str, language: Optional[str] = None) -> Any:
    """Synchronous helper for other actions and tests: the knowledge base's answer to ``text``."""
    return _answerer().ask(text, language)
