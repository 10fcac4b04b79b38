"""``action_rating`` and ``action_rating_comment``: the resident answers a satisfaction prompt.

:class:`bot.satisfaction.policy.RatingPolicy` runs them only when the message is the answer
(see there); a real request is predicted normally and the rating stays unanswered. The
``rating_request`` slot (set by :mod:`bot.satisfaction.asking` when the prompt was sent)
names the request: its stage moves from ``rating`` to ``comment`` (invited once), then
clears.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.satisfaction.asking import COMMENT, SLOT, satisfaction_store
from bot.satisfaction.parse import is_no_comment, parse_rating
from bot.satisfaction.store import ALREADY, SAVED

logger = logging.getLogger(__name__)

#: Scores thanked with an apology rather than plain thanks.
LOW = 2


def _request(tracker: Tracker) -> Optional[Dict[str, Any]]:
    value = tracker.get_slot(SLOT)
    return value if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def _text(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("text") or "").strip()


class ActionRating(Action):
    """Stores the score (and a comment given with it), thanks, and invites a comment once."""

    def name(self) -> Text:
        return "action_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = _request(tracker)
        rating = parse_rating(_text(tracker))
        if request is None or rating is None:  # the policy checked both; a stale model or slot
            dispatcher.utter_message(response="utter_rating_ask")
            return []
        try:
            outcome = await asyncio.to_thread(satisfaction_store().answer, request["id"], tracker.sender_id,
                                              rating.score, rating.comment)
        except SQLAlchemyError:
            logger.exception("Could not store the rating of request %s", request["id"])
            dispatcher.utter_message(response="utter_rating_failed")
            return []  # the request stays pending: the resident may send it again
        if outcome != SAVED:
            dispatcher.utter_message(response="utter_rating_already" if outcome == ALREADY else "utter_rating_closed")
            return [SlotSet(SLOT, None)]
        logger.info("Rating %s of %s: %d%s", request["id"], request.get("subject"), rating.score,
                    " with a comment" if rating.comment else "")
        dispatcher.utter_message(response="utter_rating_sorry" if rating.score <= LOW else "utter_rating_thanks",
                                 rating=rating.score)
        if rating.comment:
            dispatcher.utter_message(response="utter_rating_comment_thanks")
            return [SlotSet(SLOT, None)]
        dispatcher.utter_message(response="utter_rating_ask_comment")
        return [SlotSet(SLOT, {**request, "stage": COMMENT})]


class ActionRatingComment(Action):
    """Stores the comment that followed the rating, or closes politely on "没有" / "no"."""

    def name(self) -> Text:
        return "action_rating_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = _request(tracker)
        text = _text(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        declined = is_no_comment(text) or (intent in ("deny", "stop") and len(text) <= 8)  # not "不好，没修好"
        if request is None or not text or declined:
            dispatcher.utter_message(response="utter_rating_no_comment")
            return [SlotSet(SLOT, None)]
        try:
            await asyncio.to_thread(satisfaction_store().add_comment, request["id"], tracker.sender_id, text)
        except SQLAlchemyError:
            logger.exception("Could not store the comment on rating request %s", request["id"])
            dispatcher.utter_message(response="utter_rating_failed_comment")
            return [SlotSet(SLOT, None)]
        dispatcher.utter_message(response="utter_rating_comment_thanks")
        return [SlotSet(SLOT, None)]
