"""``action_residence``: "我住3栋2单元502" → "您住在3栋2单元502，对吗？" → "是" → stored.

:class:`bot.residence.policy.ResidentRequestPolicy` runs it for a residence statement and for
the answer right after its question (see there). The unit waits in the ``pending_residence``
slot (JSON) until the resident confirms; only then is it stored (``resident_units``, source
``stated``). A no stores nothing; a corrected unit ("不对，是3栋2单元503") is asked about again.
Texts are domain.yml responses rendered with :func:`bot.responses.render` (sent as text: they are
newer than the trained model).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import language_of, resident_of
from bot.nlu.patterns import Unit
from bot.residence.detect import confirmation, corrected_unit, stated_unit
from bot.residence.store import residence_store
from bot.responses import render

logger = logging.getLogger(__name__)

SLOT = "pending_residence"


def display(unit: Unit, language: str) -> str:
    """"3栋2单元502" or "Building 3, Unit 2, Room 502"."""
    return unit.english() if language == "en" else unit.canonical()


def pending_unit(tracker: Tracker) -> Optional[Unit]:
    """The unit waiting for the resident's confirmation, if any."""
    raw = tracker.get_slot(SLOT)
    try:
        data: Dict[str, Any] = json.loads(raw) if isinstance(raw, str) else (raw or {})
        return Unit(building=str(data["building"]), room=str(data["room"]), entrance=data.get("entrance") or None)
    except (ValueError, KeyError, TypeError):
        return None


def as_slot(unit: Unit) -> str:
    """The slot's JSON for ``unit``."""
    return json.dumps({"building": unit.building, "entrance": unit.entrance, "room": unit.room}, ensure_ascii=False)


class ActionResidence(Action):
    """Asks to confirm a stated unit, then stores it (yes) or not (no)."""

    def name(self) -> Text:
        return "action_residence"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        intent = (message.get("intent") or {}).get("name")
        language = language_of(tracker)
        channel, sender = resident_of(tracker)
        say = lambda name, **values: dispatcher.utter_message(text=render(name, language, **values))  # noqa: E731
        pending = pending_unit(tracker)
        unit = stated_unit(text) or (corrected_unit(text) if pending else None)
        if unit is not None and unit != pending:
            try:
                known = await asyncio.to_thread(residence_store().has, channel, sender, unit)
            except SQLAlchemyError:
                logger.exception("Could not read the units of %s", tracker.sender_id)
                known = False
            if known:
                say("utter_residence_known", unit=display(unit, language))
                return [SlotSet(SLOT, None)]
            say("utter_residence_confirm", unit=display(unit, language))
            return [SlotSet(SLOT, as_slot(unit))]
        answer = True if unit is not None else confirmation(text, intent)
        if pending is None or answer is None:  # the policy checked; a stale model or slot
            say("utter_residence_ask")
            return [SlotSet(SLOT, None)]
        if not answer:
            say("utter_residence_not_saved")
            return [SlotSet(SLOT, None)]
        try:
            await asyncio.to_thread(residence_store().confirm, channel, sender, pending)
        except SQLAlchemyError:
            logger.exception("Could not store the unit of %s", tracker.sender_id)
            say("utter_residence_failed")
            return []  # still pending: a second "是" stores it
        logger.info("Resident %s confirmed living at %s", tracker.sender_id, pending.canonical())
        say("utter_residence_saved", unit=display(pending, language))
        return [SlotSet(SLOT, None)]
