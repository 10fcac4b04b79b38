"""What a staff member's message asks for: the staff assistant's small intent layer.

Deliberately not the residents' Rasa model (docs/architecture.md): staff intents would
shift the residents' classifier, and a resident session must never reach one. The
intents are read with the parsers residents' messages already go through — places
(:mod:`bot.tickets.location`), phone and ticket numbers (:mod:`bot.nlu.patterns`),
problems, category and urgency (:mod:`bot.tickets.triage`), questions
(:mod:`bot.nlu.questions`) and language (:mod:`bot.nlu.language`) — plus a few
patterns for what only staff say ("登记报修", "还有哪些没处理", "今天新增了多少").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bot.nlu.language import detect_language, normalise_language
from bot.nlu.patterns import find_phones, find_ticket_ids
from bot.nlu.questions import is_question
from bot.tickets.location import parse_location
from bot.tickets.triage import clean_description, extract_visit_time, names_a_problem

#: The intents (the API's ``intent`` field).
FILE_REPAIR, OPEN_IN_BUILDING, TICKET_STATUS, COUNT, QUESTION, HELP = (
    "file_repair", "open_in_building", "ticket_status", "count", "question", "help")

_FILING = re.compile(
    r"登记|报修|提交|录入|建单|开单|下单|代.{0,4}报|"
    r"\b(file|log|register|open|create|raise|record|report)\b.{0,24}\b(repair|ticket|job|fault)s?\b", re.IGNORECASE)
# Staff's command words around the resident's problem: removed before the description is read.
_COMMAND = re.compile(
    r"(请|麻烦)?(帮|给|替|为)?(业主|住户|居民|来电|来访)?(登记|提交|录入|新建|代报)(一下|一个|一条|个|下)?(报修|工单|维修单|维修)?|"
    r"^\W*(报修|维修)\W|"
    r"\b(please\s+)?(file|log|register|open|create|raise|record)\s+(a\s+|an\s+)?(new\s+)?(repair|ticket|job)(\s+ticket)?"
    r"(\s+(for|at|in))?\b|\bfor\s+(a|the)\s+(caller|resident|owner)\b", re.IGNORECASE)
_OPEN = re.compile(
    r"没处理|未处理|没有处理|未完成|没完成|待处理|未解决|没解决|还没修|还有哪些|处理中|"
    r"\b(open|unresolved|pending|outstanding|unfinished|not\s+(yet\s+)?(done|fixed|resolved|handled|closed))\b",
    re.IGNORECASE)
_COUNTING = re.compile(r"多少|几个|几条|几单|几件|数量|统计|\b(how\s+many|number\s+of|count)\b", re.IGNORECASE)
_COMPLAINT = re.compile(r"投诉|\bcomplaints?\b", re.IGNORECASE)
_REPAIR = re.compile(r"报修|维修|\brepairs?\b", re.IGNORECASE)
_TICKETS = re.compile(r"工单|新增|新建|\b(tickets?|new)\b", re.IGNORECASE)
_BUILDING = re.compile(r"(\d{1,3}|[A-Za-z])\s*(号楼|栋|幢|座)|\b(?:building|block|bldg\.?)\s*(\d{1,3}|[A-Za-z])\b",
                       re.IGNORECASE)
_PHONE_LABEL = re.compile(r"^(call|phone|tel|mobile|contact|电话|手机|联系电话|联系方式|业主电话)$", re.IGNORECASE)
_PERIODS = (
    ("yesterday", re.compile(r"昨天|昨日|\byesterday\b", re.IGNORECASE)),
    ("week", re.compile(r"本周|这周|这一周|近7天|近七天|最近一周|\b(this|last|past)\s+(week|7\s+days)\b", re.IGNORECASE)),
    ("month", re.compile(r"本月|这个月|\bthis\s+month\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class StaffIntent:
    """One staff message read: the intent and what it names."""

    name: str
    language: str
    text: str
    ticket_id: Optional[str] = None
    building: Optional[str] = None
    ticket_type: Optional[str] = None  # repair | complaint | None (every type)
    period: str = "today"              # today | yesterday | week | month


def building_of(text: str) -> Optional[str]:
    """The building a message names ("5号楼", "5栋", "building 5", "B座"), upper-cased."""
    place = parse_location(text)
    if place is not None and place.building:
        return str(place.building).upper()
    m = _BUILDING.search(text)
    return (m.group(1) or m.group(3)).upper() if m else None


def ticket_type_of(text: str) -> Optional[str]:
    """``complaint``, ``repair`` or ``None`` (tickets of every type)."""
    if _COMPLAINT.search(text):
        return "complaint"
    return "repair" if _REPAIR.search(text) else None


def period_of(text: str) -> str:
    """The period a count asks about (today unless it says otherwise)."""
    return next((name for name, pattern in _PERIODS if pattern.search(text)), "today")


def repair_description(text: str) -> Optional[str]:
    """The problem in a filing request, without staff's command words, the place, phone, urgency and visit time."""
    cleaned = clean_description(text)  # the resident form's reading: drops place, phone and urgency
    if not cleaned:
        return None
    kept = []
    for clause in re.split(r"[，,;；。.\n]+", _COMMAND.sub(" ", cleaned)):
        clause = re.sub(r"^[\W_]*(给|帮|替|为|业主|住户|and)?[\W_]*|[\W_]+$", "", clause.strip(), flags=re.IGNORECASE)
        if len(re.sub(r"[\W_]", "", clause)) < 2 or _PHONE_LABEL.match(clause):
            continue
        if extract_visit_time(clause) and not names_a_problem(clause):
            continue  # "明天下午在家" is the visit time, not the problem
        kept.append(clause)
    if not kept:
        return None
    return ("，" if detect_language(text) != "en" else ", ").join(kept)


def parse(text: str, language: Optional[str] = None) -> StaffIntent:
    """Read one staff message (``language``: the desk's, used when the message carries none)."""
    text = (text or "").strip()
    lang = detect_language(text) or normalise_language(language)
    tickets = [m.value for m in find_ticket_ids(text)]
    if tickets:
        return StaffIntent(TICKET_STATUS, lang, text, ticket_id=tickets[0])
    has_phone = any(True for _ in find_phones(text))
    kind = ticket_type_of(text)
    if _COUNTING.search(text) and (kind or _TICKETS.search(text)) and not has_phone:
        return StaffIntent(COUNT, lang, text, ticket_type=kind, period=period_of(text))
    building = building_of(text)
    if building and _OPEN.search(text) and not has_phone:
        return StaffIntent(OPEN_IN_BUILDING, lang, text, building=building, ticket_type=kind or "repair")
    described = repair_description(text)
    if _FILING.search(text) or (described and names_a_problem(described) and not is_question(text)):
        return StaffIntent(FILE_REPAIR, lang, text, building=building)
    if is_question(text):
        return StaffIntent(QUESTION, lang, text)
    return StaffIntent(HELP, lang, text)
