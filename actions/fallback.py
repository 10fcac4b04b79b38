"""Misunderstood messages, counted in the ``fallback_count`` slot.

A turn is *failed* when Rasa's core fallback ran, or when NLU fell back (``nlu_fallback``)
and the knowledge base could not answer either (it offers a human: ``handoff_offered``).
After ``HANDOFF_AFTER_FALLBACKS`` failed turns in a row (counted since the last handoff)
the failing action sets ``handoff_due``, and a rule (data/rules.yml, "hand off after
repeated misunderstandings") runs ``action_handoff`` with reason ``fallback``.

``action_default_fallback`` is Linli's own: Rasa's built-in one reverts the resident's
message, which would hide the failure from the count (and from the transcript staff read).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.handoff.settings import HandoffSettings

COUNT_SLOT = "fallback_count"
DUE_SLOT = "handoff_due"
#: Events after which earlier failures no longer count.
_BOUNDARIES = frozenset({"pause", "resume", "session_started"})


def _turn_failed(turn: List[Dict[str, Any]]) -> bool:
    user = next((e for e in turn if e.get("event") == "user"), None)
    actions = [e.get("name") for e in turn if e.get("event") == "action"]
    if "action_default_fallback" in actions:
        return True
    intent = (((user or {}).get("parse_data") or {}).get("intent") or {}).get("name")
    abstained = any(e.get("event") == "slot" and e.get("name") == "handoff_offered" and e.get("value")
                    for e in turn)
    return intent == "nlu_fallback" and abstained


def failed_in_a_row(events: Iterable[Dict[str, Any]]) -> int:
    """How many of the latest complete turns in a row failed (since the last handoff/session)."""
    count, turn = 0, []
    for event in reversed(list(events)):
        if event.get("event") in _BOUNDARIES:
            break
        if event.get("event") == "action" and event.get("name") == "action_handoff":
            break
        turn.append(event)
        if event.get("event") == "user":
            if not _turn_failed(turn):
                break
            count, turn = count + 1, []
    return count


def _previous_turns(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events before the resident's latest message (the turn being handled is not complete)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[:index]
    return events


def count_failure(tracker: Tracker, failed: bool) -> List[EventType]:
    """Slot events recording whether this turn failed (and whether a handoff is now due)."""
    if not failed:
        return [SlotSet(COUNT_SLOT, 0.0)] if tracker.get_slot(COUNT_SLOT) else []
    count = failed_in_a_row(_previous_turns(tracker)) + 1
    events: List[EventType] = [SlotSet(COUNT_SLOT, float(count))]
    limit = HandoffSettings.from_env().after_fallbacks
    if limit > 0 and count >= limit and tracker.active_loop.get("name") is None:
        events.append(SlotSet(DUE_SLOT, True))
    return events


class ActionDefaultFallback(Action):
    """``action_default_fallback``: say so (``utter_default``) and count the failure."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_default")
        events = count_failure(tracker, True)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        due = any(isinstance(e, dict) and e.get("name") == DUE_SLOT for e in events)
        if not (due and intent == "nlu_fallback"):
            # Rasa's own fallback reverts the message, which ends the turn; this one keeps it (it
            # counts), so after RulePolicy's core fallback (a known intent no rule continues, e.g.
            # a lone "5" read as inform) the prediction would be the fallback again, ten times.
            # Listening ends the turn; only a due handoff is left to its rule.
            events.append(FollowupAction("action_listen"))
        return events
