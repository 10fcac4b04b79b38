"""Asking residents for a rating, from the server process.

Two moments ask: the desk closing a handoff an agent took part in (:func:`ask_after_handoff`,
right after "the bot is back"), and the notifier announcing that a ticket is resolved
(:func:`ticket_prompt`: the prompt is appended to that notification). Each records a request
(once per subject, :meth:`SatisfactionStore.ask`), sends the prompt through the outbox with
buttons 1–5 (the widget and Telegram show them; WeChat and others get the text, which says
"reply 1-5"), and sets the ``rating_request`` slot on the conversation's tracker
(:func:`slot_value`), which :class:`bot.satisfaction.policy.RatingPolicy` reads to understand
the resident's next message as a rating.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from bot.db import get_engine
from bot.responses import render
from bot.satisfaction.models import MAX_RATING, MIN_RATING
from bot.satisfaction.store import RatingRequest, SatisfactionStore
from bot.settings import Satisfaction

logger = logging.getLogger(__name__)

#: The tracker slot of the pending request (domain.yml); see :func:`slot_value`.
SLOT = "rating_request"
#: Stages of a request on the tracker: waiting for the score, then (once) for a comment.
RATING, COMMENT = "rating", "comment"
#: Outbox kind of the prompt when it is a message of its own.
KIND = "rating_request"
#: Channels where a numbered reply picks one of the last buttons shown (bot.channels.common.resolve_choice).
NUMBERED_CHOICES = ("wechat",)


@lru_cache(maxsize=1)
def satisfaction_store() -> SatisfactionStore:
    """The process-wide store on ``DATABASE_URL``."""
    return SatisfactionStore(get_engine())


def buttons() -> List[Dict[str, str]]:
    """Buttons 1–5; a click sends the digit, which reads as the score."""
    return [{"title": str(n), "payload": str(n)} for n in range(MIN_RATING, MAX_RATING + 1)]


def prompt(language: Optional[str]) -> str:
    """"请为本次服务打分：回复 1-5（5 = 非常满意）" in the resident's language."""
    return render("utter_rating_ask", language)


def slot_value(request: RatingRequest, stage: str = RATING) -> Dict[str, Any]:
    """What the ``rating_request`` slot holds while a request waits for the resident."""
    return {"id": request.id, "stage": stage, "subject": f"{request.subject_type}:{request.subject_id}",
            "expires_at": request.expires_at}


def _language(tracker: Any, fallback: Optional[str]) -> str:
    slot = tracker.get_slot("language") if tracker is not None else None
    if slot in ("zh", "en"):
        return slot
    return "en" if (fallback or "").startswith("en") else "zh"


async def _on_tracker(agent: Any, conversation: str, events: List[Any]) -> None:
    from bot.conversations import append_events

    await append_events(agent, conversation, events)


async def _as_last_buttons(request: RatingRequest) -> None:
    """Make 1–5 the resident's last buttons: on WeChat a reply "4" picks the fourth button shown
    (bot.channels.common.resolve_choice), which must be the score, not an older form's choice."""
    from bot.channels.common import remember_buttons
    from bot.channels.identity import split

    channel, platform = split(request.resident)
    if channel not in NUMBERED_CHOICES:
        return
    try:
        await asyncio.to_thread(remember_buttons, channel, platform, [{"buttons": buttons()}])
    except Exception:
        logger.exception("Could not remember the rating buttons of %s", request.resident)


async def ask_after_handoff(agent: Any, handoff: Any) -> Optional[Dict[str, Any]]:
    """Ask the resident to rate a handoff that just ended; the outbox outcome, or ``None`` when
    nothing was asked (disabled, no agent took part, asked before, or a failure, which is logged:
    ending the handoff must not fail because of it)."""
    try:
        settings = Satisfaction.from_env()
        if not settings.enabled or not getattr(handoff, "agent", None):
            return None
        tracker = await agent.tracker_store.retrieve(handoff.sender_id)
        language = _language(tracker, handoff.language)
        request, created = await asyncio.to_thread(
            satisfaction_store().ask, "handoff", str(handoff.id), handoff.sender_id, handoff.channel, language,
            f"handoff:{handoff.id}", settings.expiry_hours * 3600)
        if not created:
            return None
        return await _send(agent, request, handoff.channel, handoff.sender_id, prompt(language))
    except Exception:
        logger.exception("Could not ask for a rating of handoff %s", getattr(handoff, "id", "?"))
        return None


async def _send(agent: Any, request: RatingRequest, channel: str, sender_id: str, text: str) -> Dict[str, Any]:
    from rasa.shared.core.events import BotUttered, SlotSet

    from bot import outbox

    # The transcript first (with the buttons, so the widget's history shows them), then the outbox.
    await _as_last_buttons(request)
    await _on_tracker(agent, request.resident, [
        BotUttered(text, data={"buttons": buttons()}, metadata={"linli_rating": request.id}),
        SlotSet(SLOT, slot_value(request)),
    ])
    return await outbox.send(channel, sender_id, text, KIND, wait=0, payload={"buttons": buttons()})


def ticket_prompt(store: SatisfactionStore, ticket: Any, trigger: str,
                  now: Optional[float] = None) -> Optional[Tuple[RatingRequest, str]]:
    """The request and prompt to append to the notification that ``ticket`` is resolved, or ``None``
    (disabled, no resident channel, or the ticket was rated or asked about before).

    ``trigger`` names the notification (``ticket-event:<id>``): asking again for the same one (a
    retried round) returns the same request, so the retried notification still carries the prompt.
    """
    settings = Satisfaction.from_env()
    if not settings.enabled or not ticket.channel or not ticket.sender_id:
        return None
    from bot.outbox.store import conversation_of

    language = "en" if (ticket.language or "").startswith("en") else "zh"
    request, created = store.ask("ticket", ticket.number, conversation_of(ticket.channel, ticket.sender_id),
                                 ticket.channel, language, trigger, settings.expiry_hours * 3600,
                                 now=time.time() if now is None else now)
    if not created and (request.trigger != trigger or request.answered):
        return None
    return request, prompt(language)


async def remember(agent: Any, request: RatingRequest) -> None:
    """Set the ``rating_request`` slot on the resident's tracker (before queueing a ticket's prompt,
    so that the answer always finds it)."""
    from rasa.shared.core.events import SlotSet

    await _as_last_buttons(request)
    if agent is None or getattr(agent, "tracker_store", None) is None:
        return
    try:
        await _on_tracker(agent, request.resident, [SlotSet(SLOT, slot_value(request))])
    except Exception:  # the prompt is queued; without the slot a reply "5" is simply not read as a rating
        logger.exception("Could not mark rating request %s on the tracker of %s", request.id, request.resident)


def rating_of(subject_type: str, subject_id: str, engine: Any = None) -> Optional[Dict[str, Any]]:
    """``{"rating", "comment", "at"}`` of an answered subject, else ``None`` (also when the table is
    missing or the database cannot answer: a ticket page must show without it)."""
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from bot.satisfaction.models import ratings_table as t

    engine = engine or get_engine()
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(t.name):
                return None
            row = conn.execute(select(t).where(t.c.subject_type == subject_type, t.c.subject_id == str(subject_id),
                                               t.c.rating.is_not(None))).one_or_none()
    except SQLAlchemyError:
        logger.exception("Could not read the rating of %s %s", subject_type, subject_id)
        return None
    return None if row is None else RatingRequest.from_row(row).as_dict()
