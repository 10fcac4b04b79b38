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
server process, on first use, from the version active in the database; when
another version is activated (a re-ingest, a restore) the process switches to
it within ``LINLI_KB_RELOAD_SECONDS`` without a restart (:mod:`knowledge.live`).
The action server loads it when it starts (:mod:`knowledge.warmup`, ``KNOWLEDGE_WARM_UP``:
``full`` by default, ``index``, or ``0`` for lazy loading). Model calls block, so they run in the default thread executor and never
stall the event loop for other residents.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language_of
from actions.fallback import count_failure
from actions.incidents import outage_reply
from knowledge.followup import KB_CONTEXT_SLOT  # the slot's one name (imports no model)

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"
# A follow-up refers to one of the last few messages; later, "多少钱？" is a new question.
CONTEXT_MAX_AGE = 3


def _answerer() -> Any:
    """The answerer on the active knowledge-base version; asked anew for every question."""
    from knowledge.live import current  # heavy imports (torch) only when needed

    return current()


def _resolver() -> Any:
    """A follow-up resolver on the process-wide answerer (stateless: cheap to make per call)."""
    from knowledge.followup import FollowupResolver

    return FollowupResolver(_answerer())


def _user_messages(tracker: Tracker) -> int:
    return sum(1 for e in tracker.events if e.get("event") == "user")


class ActionAnswerQuestion(Action):
    """``action_answer_question``: answers from the knowledge base, or abstains and offers a human."""

    def name(self) -> Text:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        lang = language_of(tracker)
        turn = _user_messages(tracker) or None
        told = await outage_reply(tracker, text, lang)  # an active incident answers "停水了吗？" first
        if told:
            dispatcher.utter_message(text=told)
            return []
        context = _slot_context(tracker, turn, lang)
        out_of_scope = intent == OUT_OF_SCOPE
        if out_of_scope and context is None:
            return self._refuse(dispatcher, tracker)  # nothing to follow up: no knowledge base at all
        loop = asyncio.get_running_loop()
        try:
            resolution, result, next_context = await loop.run_in_executor(None, lambda: _resolver().ask(
                text, context, lang, sender_id=tracker.sender_id, turn=turn, strict=out_of_scope))
        except Exception:  # missing index or model: say so and hand over rather than crash the turn
            log.exception("knowledge base failed to answer %r", text)
            if out_of_scope:
                return self._refuse(dispatcher, tracker)
            dispatcher.utter_message(response="utter_kb_unavailable")
            return [SlotSet("handoff_offered", True), *count_failure(tracker, intent == NLU_FALLBACK)]
        if result is None:  # out of scope and not a follow-up
            return self._refuse(dispatcher, tracker)
        if resolution.followup:
            log.info("follow-up %r answered as %r (%s)", text, resolution.query, resolution.reason)
        dispatcher.utter_message(text=result.reply_text())
        events: List[EventType] = [SlotSet(KB_CONTEXT_SLOT, next_context.to_json())]
        if result.abstained:
            events.append(SlotSet("handoff_offered", True))
        elif tracker.get_slot("handoff_offered"):
            # An earlier offer is void once another answer was given: a later "好的" is not a yes to it.
            events.append(SlotSet("handoff_offered", False))
        # Not understood twice in a row → a rule hands off (actions/fallback.py).
        return events + count_failure(tracker, result.abstained and intent == NLU_FALLBACK)

    @staticmethod
    def _refuse(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """The out-of-scope answer exactly as the old rule gave it."""
        dispatcher.utter_message(response="utter_out_of_scope")
        # The old rule ran utter_out_of_scope, after which a "好的" never accepted an earlier
        # handoff offer; now this action is the last one, so a stale offer is withdrawn.
        return [SlotSet("handoff_offered", False)] if tracker.get_slot("handoff_offered") else []


def _slot_context(tracker: Tracker, turn: Optional[int], lang: str) -> Any:
    """The previous knowledge-base turn (slot ``kb_context``), if recent and in the same language."""
    from knowledge.followup import KBContext

    context = KBContext.from_json(tracker.get_slot(KB_CONTEXT_SLOT))
    if context is None or context.language != lang:
        return None  # a Chinese topic is not what an English "what about…" continues
    if turn is not None and context.turn is not None and turn - context.turn > CONTEXT_MAX_AGE:
        return None  # too long ago to be what "多少钱？" refers to
    return context


def knowledge_answer(text: str, language: Optional[str] = None) -> Any:
    """Synchronous helper for other actions and tests: the knowledge base's answer to ``text``."""
    return _answerer().ask(text, language)

