"""``action_notice_subscription``: "退订通知" / "unsubscribe" and "订阅通知" / "subscribe".

:class:`bot.residence.policy.ResidentRequestPolicy` runs it for those commands. Opting out stops
non-urgent notices only: urgent ones (停水、停电、燃气…) still reach everyone (bot/notices).
"""

from __future__ import annotations

import asyncio
import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import language_of, resident_of
from bot.notices.store import notice_store
from bot.residence.detect import subscription_command
from bot.responses import render

logger = logging.getLogger(__name__)


class ActionNoticeSubscription(Action):
    """Records the resident's opt-out (or opt-in) and says what it means."""

    def name(self) -> Text:
        return "action_notice_subscription"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        wanted = subscription_command(text)
        if wanted is None:  # the policy checked; a stale model
            wanted = True
        channel, sender = resident_of(tracker)
        try:
            await asyncio.to_thread(notice_store().set_subscribed, channel, sender, wanted)
        except SQLAlchemyError:
            logger.exception("Could not store the notice subscription of %s", tracker.sender_id)
            dispatcher.utter_message(text=render("utter_notice_subscription_failed", language))
            return []
        logger.info("Resident %s %s notices", tracker.sender_id, "subscribed to" if wanted else "opted out of")
        dispatcher.utter_message(text=render("utter_notice_subscribed" if wanted else "utter_notice_unsubscribed",
                                             language))
        return []
