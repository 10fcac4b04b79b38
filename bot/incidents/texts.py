"""What residents read about an incident, from ``domain.yml``'s responses (zh and en).

Used by the actions (told while it lasts, asked whether their problem is something else,
linked) and by the resolution notification, so the same incident reads the same everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from bot.incidents.store import Incident
from bot.responses import render
from bot.settings import Community

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(value: Optional[datetime], language: str, now: Optional[datetime] = None) -> str:
    """``12月1日 18:00`` / ``1 Dec 18:00`` in the community's time zone; "今天"/"today" for today."""
    if value is None:
        return render("utter_incident_end_unknown", language)
    zone = ZoneInfo(Community.read("timezone"))
    local = value.astimezone(zone)
    clock = local.strftime("%H:%M")
    today = (now.astimezone(zone) if now else datetime.now(zone)).date()
    if local.date() == today:
        return f"今天 {clock}" if language == "zh" else f"today {clock}"
    return f"{local.month}月{local.day}日 {clock}" if language == "zh" else f"{local.day} {_MONTHS[local.month - 1]} {clock}"


def scope(incident: Incident, language: str) -> str:
    """"全小区" / "3号楼、5号楼" (zh); "the whole community" / "Buildings 3, 5" (en)."""
    if incident.community_wide or not incident.buildings:
        return render("utter_incident_scope_all", language)
    joined = "、".join(incident.buildings) if language == "zh" else ", ".join(incident.buildings)
    name = "utter_incident_scope_buildings" if len(incident.buildings) > 1 or language == "zh" else \
        "utter_incident_scope_building"
    return render(name, language, buildings=joined)


def _sentence(text: str, language: str) -> str:
    """``text`` ending as a sentence, followed by a space in English; empty stays empty."""
    text = (text or "").strip()
    if not text:
        return ""
    if not text.endswith(("。", "！", "？", ".", "!", "?")):
        text += "。" if language == "zh" else "."
    return text + (" " if language == "en" else "")


def info(incident: Incident, language: str) -> str:
    """The incident as a resident is told about it: scope, title, details, expected end."""
    return render("utter_incident_info", language, scope=scope(incident, language), title=incident.title(language),
                  details=_sentence(incident.description(language), language),
                  end=local_time(incident.expected_end_at, language))


def resolved(incident: Incident, language: str) -> str:
    """The resolution notification's text."""
    return render("utter_incident_resolved", language, scope=scope(incident, language),
                  title=incident.title(language), time=local_time(incident.resolved_at, language),
                  note=_sentence(incident.resolution_note or "", language))
