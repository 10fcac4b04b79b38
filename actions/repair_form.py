"""``validate_repair_form``: reads each message of a repair report as a resident means it.

Every message the form receives is one of:

* the answer to the pending question (``requested_slot``), understood the way
  people say it ("不太急" is not urgent, "5-1-1203" and "5号楼电梯" are places);
* a change of an earlier answer, at any point ("电话改成…", "it's urgent after
  all", "不对，是5号楼"): that value changes and the pending question stays;
* something that leaves the form — an emergency, "算了", "转人工", "bye" — or
  an aside ("查一下我的工单"): the form rejects the turn and a rule in
  ``data/rules.yml`` handles it, then the form asks its question again;
* a question ("物业电话多少？"): answered from the knowledge base here, then the
  pending question is asked again.

Two invalid answers to the same question never loop: the second is accepted as
the resident wrote it (staff check it), with a reminder that a human is one
message away.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions import incidents, places
from actions.common import language_of
from actions.form_turn import (
    ASIDE_INTENTS,
    answer_in_form,
    asks_something,
    QUESTION_INTENTS,
    description_change,
    entities,
    is_cancel,
    is_edit_request,
    is_small_talk,
    is_yes,
    latest_intent,
    latest_text,
    named_fields,
    says_nothing,
    user_turn_is_new,
    value_before_turn,
)
from bot.nlu.patterns import find_phones, normalise_phone
from bot.nlu.questions import is_question
from bot.tickets.labels import LABELS, label
from bot.tickets.location import Location, floor_named, on_floor, parse_location
from bot.tickets.triage import (
    clean_description,
    extract_visit_time,
    infer_category,
    infer_urgency,
    names_a_problem,
    normalise_category,
    normalise_urgency,
    split_problems,
)

logger = logging.getLogger(__name__)

#: Invalid answers to one question before the text is accepted as given.
MAX_INVALID = 2
#: Helper slots the form keeps besides its questions.
AUX_SLOTS = ("location", "location_partial", "form_retries", "confirm_edit", incidents.SLOT_ID, incidents.SLOT_OTHER)
_INVALID_RESPONSES = {
    "repair_description": "utter_invalid_description",
    "unit": "utter_invalid_unit",
    "repair_category": "utter_invalid_repair_category",
    "urgency": "utter_invalid_urgency",
    "phone": "utter_invalid_phone",
}
_ANYTIME = re.compile(r"^\W*(随时|随便|都可以|都行|什么时候都(可以|行)|哪天都(可以|行)|anytime|any time|whenever|any day)"
                      r"(都可以|都行|吧|啊|的)?\W*$", re.IGNORECASE)


# Words that mark a change of mind, for corrections that would be ambiguous without them.
_CORRECTION_CUE = re.compile(r"改|错|不对|不是|应该|其实|房号|门牌|\b(actually|wrong|sorry|mistake|room|flat|meant)\b",
                             re.IGNORECASE)


def _retries(tracker: Tracker, slot: str) -> int:
    """Invalid answers so far to the question for ``slot``."""
    value = str(tracker.get_slot("form_retries") or "")
    name, _, count = value.partition(":")
    return int(count) if name == slot and count.isdigit() else 0


def _place_slots(place: Optional[Location]) -> Dict[str, Any]:
    """Slots for a complete place (``None`` clears the place)."""
    if place is None:
        return {"unit": None, "location": None, "location_partial": None}
    return {"unit": place.canonical(), "location": places.to_json(place), "location_partial": None}


def _describe(description: str, language: str) -> str:
    """Several problems in one message are kept as one description naming each."""
    problems = split_problems(description)
    return ("；" if language == "zh" else "; ").join(problems) if len(problems) > 1 else description


class ValidateRepairForm(FormValidationAction):
    """``validate_repair_form``: see the module docstring."""

    def name(self) -> Text:
        return "validate_repair_form"

    # ------------------------------------------------------------ the form's questions
    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """The visit time is asked only for non-urgent problems inside a flat; an active incident
        that matches the report adds its question (actions/incidents.py)."""
        place = places.from_json(tracker.get_slot("location"))
        needs_visit = (place is None or places.is_flat(place)) and tracker.get_slot("urgency") != "urgent"
        if isinstance(place, str):  # free text: we cannot tell, staff will call
            needs_visit = False
        return incidents.required_slots([s for s in domain_slots if s != "visit_time" or needs_visit], tracker)

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        """Always name the next question (the SDK leaves it to Rasa when the list is unchanged)."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet(REQUESTED_SLOT, next((s for s in required if tracker.slots.get(s) is None), None))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Interpret the turn, validate what it filled, and name the next question."""
        if not user_turn_is_new(tracker, self.form_name()):
            # Back from an interruption: nothing new to read, just the pending question.
            next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
            return [next_slot] if next_slot else []
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested is None:
            values = self._prefill(dispatcher, tracker, language_of(tracker))
        else:
            answer, corrections = self._answer(requested, tracker), self._corrections(tracker, requested)
            if self._leaves_form(tracker, requested, answer is not None or bool(corrections)):
                return [ActionExecutionRejected(self.form_name())]
            values = await self._interpret(dispatcher, tracker, requested, answer, corrections)
        tracker.add_slots([SlotSet(k, v) for k, v in values.items()])
        matched = await incidents.find_incident(tracker)  # an active incident this report may be
        values.update(matched)
        tracker.add_slots([SlotSet(k, v) for k, v in matched.items()])
        validated = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validated)
        events: List[EventType] = [SlotSet(k, v) for k, v in values.items() if k in AUX_SLOTS]
        events += validated
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot:
            events.append(next_slot)
        return events

    # ------------------------------------------------------------ leaving the form
    def _leaves_form(self, tracker: Tracker, requested: str, answered: bool) -> bool:
        """An emergency, a cancel, a request for a human, a goodbye or an aside: a rule handles it."""
        text, intent = latest_text(tracker), latest_intent(tracker)
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0)
        if name == "emergency":
            return True
        if is_cancel(text, intent) and not (requested == "urgency" and normalise_urgency(text)):
            return True
        if name == "request_human" and confidence >= 0.5:
            return True
        aside = confidence >= 0.6 and ((name in ASIDE_INTENTS and is_small_talk(text, intent))
                                       or (name == "goodbye" and len(text) <= 20))
        if aside and requested == "repair_description" and not infer_category(text):
            return True  # "查一下我的工单" is not a description of a problem
        if answered:  # an answer or a change of an earlier one: the form goes on
            return False
        return aside and not (name != "check_ticket" and is_question(text))

    # ------------------------------------------------------------ reading the turn
    async def _interpret(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str,
        answer: Optional[Dict[str, Any]], corrections: Dict[str, Any],
    ) -> Dict[str, Any]:
        """The slots a turn in the form sets, with the messages that go with them."""
        lang = language_of(tracker)
        values: Dict[str, Any] = {}
        if answer is not None:
            values.update(answer)
            values["form_retries"] = None
        values.update(corrections)
        self._acknowledge(dispatcher, tracker, corrections, lang)
        if values:
            if answer and answer.get("repair_description"):
                self._mention_problems(dispatcher, answer["repair_description"], lang)
            if corrections and requested == "repair_confirmed":
                values["confirm_edit"] = False
            return values
        text, intent = latest_text(tracker), latest_intent(tracker)
        if requested == "repair_confirmed" and is_edit_request(text, intent):
            fields = named_fields(text) - {"repair_confirmed"}
            if fields:  # "改一下电话": ask that question again
                cleared: Dict[str, Any] = {slot: None for slot in fields}
                if "unit" in fields:
                    cleared.update(_place_slots(None))
                return cleared
            return {"confirm_edit": True, "form_retries": None}
        if asks_something(text, intent):
            await answer_in_form(dispatcher, text, lang)
            return {"form_retries": tracker.get_slot("form_retries")}
        if intent.get("name") == "report_repair" and requested != "repair_description":
            extra = clean_description(text)
            if extra and infer_category(extra):  # "还有厨房也漏水": one more problem for the same report
                joined = f"{tracker.get_slot('repair_description') or ''}{'；' if lang == 'zh' else '; '}{extra}"
                self._acknowledge(dispatcher, tracker, {"repair_description": joined}, lang, force=True)
                return {"repair_description": joined.strip("；; ")}
        return self._invalid(dispatcher, tracker, requested, text, lang)

    def _prefill(self, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> Dict[str, Any]:
        """The message that starts the report: whatever it already says."""
        text = latest_text(tracker)
        values: Dict[str, Any] = {"form_retries": None, "confirm_edit": False, "repair_confirmed": None,
                                  incidents.SLOT_ID: None, incidents.SLOT_OTHER: None}
        description = clean_description(text)
        if description and not names_a_problem(description):
            description = None  # "i wnat to report a repiar": ask what the problem is
        values["repair_category"] = infer_category(description) if description else None
        if description:
            values["repair_description"] = _describe(description, lang)
            self._mention_problems(dispatcher, description, lang)
        place = parse_location(text)
        if place is not None:
            values.update(_place_slots(place) if place.complete
                          else {**_place_slots(None), "location_partial": places.to_json(place)})
        elif not places.is_flat(places.from_json(tracker.get_slot("location"))):
            # A place from an earlier report is kept only when it is the resident's flat.
            values.update(_place_slots(None))
        values.setdefault("location_partial", None)
        phones = [m.value for m in find_phones(text)]
        if phones:
            values["phone"] = phones[0]
        urgency = infer_urgency(text)
        values["urgency"] = urgency
        values["visit_time"] = extract_visit_time(text)
        return values

    def _answer(self, requested: str, tracker: Tracker) -> Optional[Dict[str, Any]]:
        """Slots filled by reading the message as the answer to ``requested``; None if it is not one."""
        text, intent = latest_text(tracker), latest_intent(tracker)
        if requested == incidents.SLOT_OTHER:  # "is your problem something else?" (an active incident)
            return incidents.answer_values(text)
        if not text or (text.startswith("/") and requested != "repair_confirmed"):
            return None
        lang = language_of(tracker)
        if requested == "repair_description":
            if is_question(text) and not infer_category(text) and intent.get("name") in QUESTION_INTENTS:
                return None
            description = clean_description(text)
            if not description:
                return None
            values = {"repair_description": _describe(description, lang), **self._inferred(tracker, description, text)}
            place = parse_location(text)
            if place is not None and not place.complete and not tracker.get_slot("unit"):
                values["location_partial"] = places.to_json(place)  # "楼道灯不亮了": which building's 楼道?
            return values
        if requested == "unit":
            if is_question(text):  # "快递柜在哪儿？" names a place but asks about it
                return None
            place = places.merge(places.from_json(tracker.get_slot("location_partial")), parse_location(text))
            if place is None:
                return None
            if place.complete:
                return _place_slots(place)
            return {"location_partial": places.to_json(place)} if place != places.from_json(
                tracker.get_slot("location_partial")) else None
        if requested == "repair_category":
            category = normalise_category(text)
            return {"repair_category": category} if category else None
        if requested == "urgency":
            urgency = normalise_urgency(text)
            return {"urgency": urgency} if urgency else None
        if requested == "phone":
            # "13812345678不对是13912345678": the last number is the one meant.
            phones = [m.value for m in find_phones(text)] or [normalise_phone(text)]
            return {"phone": phones[-1]} if phones[-1] else None
        if requested == "visit_time":
            when = extract_visit_time(text)
            if when:
                return {"visit_time": when}
            if _ANYTIME.search(text):
                return {"visit_time": "随时" if lang == "zh" else "anytime"}
            if says_nothing(text) or asks_something(text, intent) or (
                    intent.get("name") in ASIDE_INTENTS and is_small_talk(text, intent)):
                return None
            return {"visit_time": text[:120]}  # the resident's own words are what staff need
        if requested == "repair_confirmed":
            if is_yes(text, intent):
                return {"repair_confirmed": True, "confirm_edit": False}
            return None
        return None

    @staticmethod
    def _inferred(tracker: Tracker, description: str, text: str) -> Dict[str, Any]:
        """Category and urgency a description implies, unless the resident gave them."""
        values: Dict[str, Any] = {}
        if not tracker.get_slot("repair_category"):
            values["repair_category"] = infer_category(description)
        if not tracker.get_slot("urgency"):
            values["urgency"] = infer_urgency(text)
        return {k: v for k, v in values.items() if v}

    def _corrections(self, tracker: Tracker, requested: Optional[str]) -> Dict[str, Any]:
        """Earlier answers the message changes (not the one being asked)."""
        text = latest_text(tracker)
        if not text or text.startswith("/"):
            return {}
        values: Dict[str, Any] = {}
        if requested != "phone":
            phones = [m.value for m in find_phones(text)] or entities(tracker, "phone")
            if phones and phones[-1] != value_before_turn(tracker, "phone"):
                values["phone"] = phones[-1]
        if requested != "unit" and not is_question(text):
            place = parse_location(text)
            current = places.from_json(tracker.get_slot("location"))
            if place is None and _CORRECTION_CUE.search(text):
                place = parse_location(re.split(r"[，,。;；]", text)[-1])  # "房号说错了，是804"
            floor = floor_named(text) if place is None and isinstance(current, Location) else None
            if floor:
                # "3rd floor" for "6号楼楼道" adds to it; "不对，是4楼" for "2号楼3层楼道" needs the cue,
                # so "我在4楼等" changes nothing.
                place = on_floor(current, floor, replace=bool(_CORRECTION_CUE.search(text)))
            if place is not None and place.missing == "building" and place.room and isinstance(current, Location) \
                    and current.kind == "flat" and _CORRECTION_CUE.search(text):
                # "房号说错了，是804": the same building, another room.
                place = Location(kind="flat", building=current.building, entrance=current.entrance, room=place.room)
            if place is not None and not place.complete and isinstance(current, Location) and place.building:
                place = places.merge(current, Location(kind=current.kind, building=place.building,
                                                       entrance=place.entrance, missing="room"))
            if place is not None and place.complete and place.canonical() != value_before_turn(tracker, "unit"):
                values.update(_place_slots(place))
            elif place is not None and not place.complete and not isinstance(current, Location):
                # "3栋" after the place was taken as written: ask for the rest of it now.
                values.update({**_place_slots(None), "location_partial": places.to_json(place)})
        if requested not in ("urgency", "repair_description"):
            urgency = infer_urgency(text)
            if urgency and urgency != tracker.get_slot("urgency"):
                values["urgency"] = urgency
        if requested != "visit_time":
            when = extract_visit_time(text)
            if when and when != tracker.get_slot("visit_time"):
                values["visit_time"] = when
        if requested != "repair_description":
            new_description = description_change(text)
            cleaned = clean_description(new_description) if new_description else None
            if cleaned:
                values["repair_description"] = cleaned
        return values

    def _invalid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str, text: str, lang: str
    ) -> Dict[str, Any]:
        """A hint the first time; the second time the text is accepted as given."""
        count = _retries(tracker, requested) + 1
        if requested == incidents.SLOT_OTHER:
            return incidents.unclear(dispatcher, count, lang)
        if count < MAX_INVALID or requested == "repair_confirmed" or not text or text.startswith("/"):
            partial = places.from_json(tracker.get_slot("location_partial")) if requested == "unit" else None
            # A partial place is asked for specifically, and the confirmation asks what to change.
            if not isinstance(partial, Location) and requested != "repair_confirmed":
                dispatcher.utter_message(response=_INVALID_RESPONSES.get(requested, "utter_default"))
            extra = {"confirm_edit": True} if requested == "repair_confirmed" else {}
            return {"form_retries": f"{requested}:{count}", **extra}
        accepted = text[:120]
        partial = places.from_json(tracker.get_slot("location_partial")) if requested == "unit" else None
        if isinstance(partial, Location):
            # What we know of the place beats "不记得了": staff call to find the rest.
            accepted = f"{partial.display(lang)}（{'待确认' if lang == 'zh' else 'to be confirmed'}）"
        dispatcher.utter_message(response="utter_free_text_accepted", given=accepted)
        values: Dict[str, Any] = {"form_retries": None}
        if requested == "unit":
            values.update({"unit": accepted, "location": places.to_json(accepted), "location_partial": None})
        elif requested == "repair_category":
            values["repair_category"] = "other"
        elif requested == "urgency":
            values["urgency"] = "normal"
        else:
            values[requested] = accepted
        return values

    # ------------------------------------------------------------ messages
    def _acknowledge(self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: Dict[str, Any],
                     lang: str, force: bool = False) -> None:
        """Say what changed when the resident gives a value the form was not asking for."""
        for slot, value in changed.items():
            if slot not in LABELS["field"] or value is None:
                continue
            if not force and value_before_turn(tracker, slot) == value:
                continue  # unchanged: nothing to acknowledge
            shown = value
            if slot == "urgency":
                shown = label("urgency", value, lang)
            elif slot == "unit":
                shown = places.display(places.from_json(changed.get("location")), lang, value)
            dispatcher.utter_message(response="utter_value_updated", what=label("field", slot, lang), value=shown)

    @staticmethod
    def _mention_problems(dispatcher: CollectingDispatcher, description: str, lang: str) -> None:
        problems = split_problems(description)
        if len(problems) > 1:
            listed = "\n".join(f"{i}. {p}" for i, p in enumerate(problems, 1))
            dispatcher.utter_message(response="utter_two_problems", count=len(problems), problems=listed)

    # ------------------------------------------------------------ validation of filled slots
    async def validate_unit(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A unit from the NLU ("5栋1203") also gets its structured place."""
        if value is None:
            return {"unit": None}
        place = places.from_json(tracker.get_slot("location"))
        if isinstance(place, Location) and place.canonical() == value or isinstance(place, str):
            return {"unit": value}
        parsed = parse_location(str(value))
        if parsed is not None and parsed.complete:
            return {"unit": parsed.canonical(), "location": places.to_json(parsed)}
        return {"unit": value}

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Phones are normalised; a number accepted as given after two tries stays as written."""
        return {"phone": (normalise_phone(str(value)) or value) if value else None}

    # The turn was read and checked above; these keep the SDK from warning about slots without a validator.
    async def validate_repair_description(self, value: Any, *_: Any) -> Dict[Text, Any]:
        return {"repair_description": value}

    async def validate_repair_category(self, value: Any, *_: Any) -> Dict[Text, Any]:
        return {"repair_category": value}

    async def validate_urgency(self, value: Any, *_: Any) -> Dict[Text, Any]:
        return {"urgency": value}

    async def validate_visit_time(self, value: Any, *_: Any) -> Dict[Text, Any]:
        return {"visit_time": value}

    async def validate_repair_confirmed(self, value: Any, *_: Any) -> Dict[Text, Any]:
        return {"repair_confirmed": value}
