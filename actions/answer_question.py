"""``action_answer_question``: answer open questions from the knowledge base, with citations.

Follow-up questions ("周末呢？" after "物业几点下班？", "how much?" after a parking
question) are answered in the context of the previous knowledge-base question
(:mod:`knowledge.followup`). The context comes from the slot
``kb_context`` (JSON, set here after every knowledge-base turn when the domain declares
it) or, without that slot, from the conversation's events. A topic older than
``CONTEXT_MAX_AGE`` user messages is not followed up.

The rules also run this action for ``out_of_scope`` messages, because the NLU takes
many follow-ups for small talk ("周末呢？" looks like "周末去哪玩"): unless the message is
an elliptical follow-up of a recent knowledge-base question, it answers with the
domain response ``utter_out_of_scope`` as before, without consulting the knowledge base.

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

from actions.common import language_of

log = logging.getLogger(__name__)

UNAVAILABLE = {
    "zh": "抱歉，知识库暂时无法使用。需要为您转接人工客服吗？",
    "en": "Sorry, the knowledge base is unavailable right now. Would you like me to connect you with a staff member?",
}
KB_CONTEXT_SLOT = "kb_context"
ACTION_NAME = "action_answer_question"
OUT_OF_SCOPE = "out_of_scope"
# A follow-up refers to one of the last few messages; later, "多少钱？" is a new question.
CONTEXT_MAX_AGE = 3


def _answerer() -> Any:
    from knowledge.answer import get_answerer  # heavy imports (torch) only when needed

    return get_answerer()


_RESOLVER: Any = None
_RESOLVER_LOCK = threading.Lock()


def _resolver() -> Any:
    """The follow-up resolver on the process-wide answerer (one per answerer: it caches index rows)."""
    global _RESOLVER
    from knowledge.followup import FollowupResolver

    answerer = _answerer()
    with _RESOLVER_LOCK:
        if _RESOLVER is None or _RESOLVER.answerer is not answerer:
            _RESOLVER = FollowupResolver(answerer)
        return _RESOLVER


def _warm_up(generator: bool) -> None:
    try:
        _answerer().warm_up(generator=generator)
        log.info("knowledge base loaded and warmed up")
    except Exception as exc:  # the action still answers (and reports) on first use
        log.warning("knowledge base warm-up failed: %s", exc)


_WARM_UP = os.environ.get("KNOWLEDGE_WARM_UP", "0").lower()
if _WARM_UP in ("index", "full", "1", "true", "yes"):
    threading.Thread(target=_warm_up, args=(_WARM_UP == "full",), name="knowledge-warm-up", daemon=True).start()


def _user_messages(tracker: Tracker) -> int:
    return sum(1 for e in tracker.events if e.get("event") == "user")


def _declares_context_slot(tracker: Tracker, domain: DomainDict) -> bool:
    """Only a slot the domain declares can be set (Rasa drops others with a warning)."""
    return KB_CONTEXT_SLOT in (tracker.slots or {}) or KB_CONTEXT_SLOT in ((domain or {}).get("slots") or {})


def previous_kb_questions(tracker: Tracker, max_age: int = CONTEXT_MAX_AGE) -> List[str]:
    """Earlier user messages this action answered from the knowledge base, oldest first.

    Only the last ``max_age`` user messages before the current one count; turns in which
    the action refused an out-of-scope message are not knowledge-base questions.
    """
    found: List[str] = []
    seen_current, age = False, 0
    answered, refused = False, False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if not seen_current:
                seen_current = True
                continue
            age += 1
            if age > max_age:
                break
            if answered and not refused and (event.get("text") or "").strip():
                found.append(event["text"].strip())
            answered, refused = False, False
        elif not seen_current:
            continue
        elif kind == "action" and event.get("name") == ACTION_NAME:
            answered = True
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") == "utter_out_of_scope":
            refused = True
    return list(reversed(found))


class ActionAnswerQuestion(Action):
    """``action_answer_question``: answers from the knowledge base, or abstains and offers a human."""

    def name(self) -> Text:
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        lang = language_of(tracker)
        use_slot = _declares_context_slot(tracker, domain)
        turn = _user_messages(tracker) or None
        out_of_scope = intent == OUT_OF_SCOPE
        loop = asyncio.get_running_loop()

        if out_of_scope and not self._may_follow_up(tracker, use_slot, turn):
            return self._refuse(dispatcher, tracker)  # nothing to follow up: no knowledge base at all
        try:
            resolution, result, context = await loop.run_in_executor(
                None, lambda: self._answer(tracker, text, lang, use_slot, turn, strict=out_of_scope))
        except Exception:  # missing index or model: say so and hand over rather than crash the turn
            log.exception("knowledge base failed to answer %r", text)
            if out_of_scope:
                return self._refuse(dispatcher, tracker)
            dispatcher.utter_message(text=UNAVAILABLE[lang])
            return [SlotSet("handoff_offered", True)]
        if resolution is None:  # out of scope and not a follow-up
            return self._refuse(dispatcher, tracker)
        if resolution.followup:
            log.info("follow-up %r answered as %r (%s)", text, resolution.query, resolution.reason)
        dispatcher.utter_message(text=result.reply_text())
        events: List[EventType] = []
        if result.abstained:
            events.append(SlotSet("handoff_offered", True))
        elif tracker.get_slot("handoff_offered"):
            # An earlier offer is void once another answer was given: a later "好的" is not a yes to it.
            events.append(SlotSet("handoff_offered", False))
        if use_slot:
            events.append(SlotSet(KB_CONTEXT_SLOT, context.to_json()))
        return events

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _refuse(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """The out-of-scope answer exactly as the old rule gave it."""
        dispatcher.utter_message(response="utter_out_of_scope")
        # The old rule ran utter_out_of_scope, after which a "好的" never accepted an earlier
        # handoff offer; now this action is the last one, so a stale offer is withdrawn.
        return [SlotSet("handoff_offered", False)] if tracker.get_slot("handoff_offered") else []

    @staticmethod
    def _slot_context(tracker: Tracker, turn: Optional[int]) -> Any:
        from knowledge.followup import KBContext

        context = KBContext.from_json(tracker.get_slot(KB_CONTEXT_SLOT))
        if context is None:
            return None
        if turn is not None and context.turn is not None and turn - context.turn > CONTEXT_MAX_AGE:
            return None  # too long ago to be what "多少钱？" refers to
        return context

    def _may_follow_up(self, tracker: Tracker, use_slot: bool, turn: Optional[int]) -> bool:
        """Is there a recent knowledge-base question the message could follow up? (no model needed)"""
        if use_slot and tracker.get_slot(KB_CONTEXT_SLOT):
            return self._slot_context(tracker, turn) is not None
        return bool(previous_kb_questions(tracker))

    def _context(self, tracker: Tracker, resolver: Any, lang: str, use_slot: bool, turn: Optional[int]) -> Any:
        """The previous knowledge-base turn: from the slot, else re-resolved from the events."""
        if use_slot and tracker.get_slot(KB_CONTEXT_SLOT):
            return self._slot_context(tracker, turn)
        from knowledge.followup import KBContext

        context = None
        for question in previous_kb_questions(tracker):  # oldest first: a chain keeps its topic
            resolution = resolver.resolve(question, context, lang)
            context = KBContext(question=resolution.query, language=resolution.language)
        return context

    def _answer(self, tracker: Tracker, text: str, lang: str, use_slot: bool, turn: Optional[int],
                strict: bool) -> Any:
        """Blocking part: resolve against the context, then answer (``(None, None, None)``: refuse)."""
        resolver = _resolver()
        context = self._context(tracker, resolver, lang, use_slot, turn)
        if strict:
            resolution = resolver.resolve(text, context, lang, strict=True)
            if not resolution.followup:
                return None, None, None
            result = resolver.answer(resolution, sender_id=tracker.sender_id)
            from knowledge.followup import next_context

            return resolution, result, next_context(resolution, result, turn)
        return resolver.ask(text, context, lang, sender_id=tracker.sender_id, turn=turn)


def knowledge_answer(text: str, language: Optional[str] = None) -> Any:
    """Synchronous helper for other actions and tests: the knowledge base's answer to ``text``."""
    return _answerer().ask(text, language)

