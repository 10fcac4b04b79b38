"""The incident store: declare, list, edit, resolve incidents and link residents to them.

Every write is one short transaction; resolving is one conditional ``UPDATE`` (``active`` →
``resolved``), so two replicas resolving at once resolve once. All methods are synchronous;
async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.identity import resident_id
from bot.incidents.models import (
    ACTIVE, KIND_CATEGORIES, KINDS, LINK_TYPES, MAX_DESCRIPTION, MAX_NOTE, MAX_TITLE, RESOLVED, STATUSES,
    as_utc, incidents_table as it, links_table as lt, metadata, utcnow,
)


class IncidentError(ValueError):
    """Bad input for an incident: ``code`` names it for the API's 400 (nothing was changed)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class IncidentNotFound(LookupError):
    """No incident with that id."""


@dataclass(frozen=True)
class Incident:
    """One incident row (times aware UTC)."""

    id: int
    kind: str
    status: str
    title_zh: Optional[str]
    title_en: Optional[str]
    description_zh: Optional[str]
    description_en: Optional[str]
    community_wide: bool
    buildings: List[str]
    starts_at: datetime
    expected_end_at: Optional[datetime]
    resolved_at: Optional[datetime]
    resolution_note: Optional[str]
    created_by: str
    resolved_by: Optional[str]
    alert_id: Optional[int]
    notified_at: Optional[datetime]
    created_at: datetime
    updated_at: datetime
    links: Dict[str, int] = field(default_factory=dict)  # link type -> count, when asked for

    @classmethod
    def from_row(cls, row: Any, links: Optional[Dict[str, int]] = None) -> "Incident":
        m = row._mapping
        return cls(
            id=m["id"], kind=m["kind"], status=m["status"], title_zh=m["title_zh"], title_en=m["title_en"],
            description_zh=m["description_zh"], description_en=m["description_en"],
            community_wide=bool(m["community_wide"]), buildings=json.loads(m["buildings"] or "[]"),
            starts_at=as_utc(m["starts_at"]), expected_end_at=as_utc(m["expected_end_at"]),
            resolved_at=as_utc(m["resolved_at"]), resolution_note=m["resolution_note"], created_by=m["created_by"],
            resolved_by=m["resolved_by"], alert_id=m["alert_id"], notified_at=as_utc(m["notified_at"]),
            created_at=as_utc(m["created_at"]), updated_at=as_utc(m["updated_at"]), links=links or {},
        )

    def title(self, language: str) -> str:
        """The title in ``language``, else the other one."""
        first, second = (self.title_en, self.title_zh) if language == "en" else (self.title_zh, self.title_en)
        return first or second or ""

    def description(self, language: str) -> str:
        """The description in ``language``, else the other one (may be empty)."""
        first, second = ((self.description_en, self.description_zh) if language == "en"
                         else (self.description_zh, self.description_en))
        return first or second or ""

    def affects(self, building: Optional[str]) -> bool:
        """Whether a resident of ``building`` is affected (every building when community-wide)."""
        return self.community_wide or (building is not None and normalise_building(building) in self.buildings)

    def explains(self, category: Optional[str]) -> bool:
        """Whether a repair report of ``category`` is what this incident is."""
        return category is not None and category in KIND_CATEGORIES.get(self.kind, ())

    def as_dict(self) -> Dict[str, Any]:
        """The incident for the desk API."""
        iso = lambda value: value.isoformat() if value else None  # noqa: E731
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "title_zh": self.title_zh,
            "title_en": self.title_en, "description_zh": self.description_zh, "description_en": self.description_en,
            "community_wide": self.community_wide, "buildings": self.buildings, "categories": list(
                KIND_CATEGORIES.get(self.kind, ())), "starts_at": iso(self.starts_at),
            "expected_end_at": iso(self.expected_end_at), "resolved_at": iso(self.resolved_at),
            "resolution_note": self.resolution_note, "created_by": self.created_by, "resolved_by": self.resolved_by,
            "alert_id": self.alert_id, "notified": self.notified_at is not None,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
            "links": {kind: self.links.get(kind, 0) for kind in LINK_TYPES},
        }


@dataclass(frozen=True)
class Link:
    """A resident linked to an incident."""

    id: int
    incident_id: int
    link_type: str
    conversation_id: str
    channel: str
    sender_id: str
    language: str
    ticket_number: Optional[str]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> "Link":
        m = row._mapping
        return cls(id=m["id"], incident_id=m["incident_id"], link_type=m["link_type"],
                   conversation_id=m["conversation_id"], channel=m["channel"], sender_id=m["sender_id"],
                   language=m["language"], ticket_number=m["ticket_number"], created_at=as_utc(m["created_at"]))

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "link_type": self.link_type, "resident": self.conversation_id,
                "channel": self.channel, "language": self.language, "ticket_number": self.ticket_number,
                "created_at": self.created_at.isoformat()}


def normalise_building(value: Any) -> str:
    """A building as tickets store it: "3号楼", " 3 ", "3栋" → "3"; "b" → "B"."""
    text = str(value).strip().upper()
    for suffix in ("号楼", "號樓", "栋", "棟", "幢", "座", "楼", "号"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    if text.startswith("BUILDING"):
        text = text[len("BUILDING"):].strip()
    return text


def _buildings(values: Any) -> List[str]:
    """Validated, de-duplicated building numbers from a list (or a comma-separated text)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(values, (list, tuple)):
        raise IncidentError("bad_buildings", "buildings must be a list of building numbers, e.g. [\"3\", \"5\"].")
    found: List[str] = []
    for value in values:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise IncidentError("bad_buildings", "buildings must be a list of building numbers, e.g. [\"3\", \"5\"].")
        building = normalise_building(value)
        if not building:
            continue
        if len(building) > 16 or not building.isalnum():
            raise IncidentError("bad_buildings", f"{value!r} is not a building number (e.g. 3, 12 or B).")
        if building not in found:
            found.append(building)
    return found


def _text(value: Any, name: str, limit: int) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise IncidentError("bad_field", f"{name} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise IncidentError("too_long", f"{name} is longer than {limit} characters.")
    return value or None


def _time(value: Any, name: str) -> Optional[datetime]:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise IncidentError("bad_time", f"{name} must be an ISO time, e.g. 2026-12-01T18:00:00+08:00.") from None
    else:
        raise IncidentError("bad_time", f"{name} must be an ISO time, e.g. 2026-12-01T18:00:00+08:00.")
    if parsed.tzinfo is None:
        from zoneinfo import ZoneInfo

        from bot.settings import Community

        parsed = parsed.replace(tzinfo=ZoneInfo(Community.read("timezone")))  # the community's local time
    return as_utc(parsed)


#: Fields staff may give when declaring or editing.
FIELDS = ("kind", "title_zh", "title_en", "description_zh", "description_en", "community_wide", "buildings",
          "starts_at", "expected_end_at")


def validate(data: Dict[str, Any], current: Optional[Incident] = None) -> Dict[str, Any]:
    """The columns for ``data`` (a whole declaration, or an edit of ``current``); raises IncidentError."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise IncidentError("unknown_field", f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(FIELDS)}.")
    merged: Dict[str, Any] = {} if current is None else {
        "kind": current.kind, "title_zh": current.title_zh, "title_en": current.title_en,
        "description_zh": current.description_zh, "description_en": current.description_en,
        "community_wide": current.community_wide, "buildings": current.buildings, "starts_at": current.starts_at,
        "expected_end_at": current.expected_end_at}
    merged.update(data)
    kind = merged.get("kind")
    if kind not in KINDS:
        raise IncidentError("bad_kind", f"kind must be one of {', '.join(KINDS)}.")
    values: Dict[str, Any] = {"kind": kind}
    values["title_zh"] = _text(merged.get("title_zh"), "title_zh", MAX_TITLE)
    values["title_en"] = _text(merged.get("title_en"), "title_en", MAX_TITLE)
    if not (values["title_zh"] or values["title_en"]):
        raise IncidentError("title_required", "Give a title in Chinese or English (title_zh, title_en).")
    values["description_zh"] = _text(merged.get("description_zh"), "description_zh", MAX_DESCRIPTION)
    values["description_en"] = _text(merged.get("description_en"), "description_en", MAX_DESCRIPTION)
    wide = merged.get("community_wide", False)
    if not isinstance(wide, bool):
        raise IncidentError("bad_field", "community_wide must be true or false.")
    buildings = _buildings(merged.get("buildings"))
    if not wide and not buildings:
        raise IncidentError("buildings_required", "Name the affected buildings, or set community_wide to true.")
    values["community_wide"] = wide
    values["buildings"] = None if wide else json.dumps(buildings)
    starts = _time(merged.get("starts_at"), "starts_at") or (current.starts_at if current else utcnow())
    ends = _time(merged.get("expected_end_at"), "expected_end_at")
    if ends is not None and ends <= starts:
        raise IncidentError("end_before_start", "expected_end_at must be after starts_at.")
    values["starts_at"], values["expected_end_at"] = starts, ends
    return values


class IncidentStore:
    """Incidents and their links on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # ------------------------------------------------------------ reading
    def get(self, incident_id: int) -> Incident:
        """One incident with its link counts; IncidentNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(it).where(it.c.id == incident_id)).first()
            if row is None:
                raise IncidentNotFound(incident_id)
            return Incident.from_row(row, self._link_counts(conn, [incident_id]).get(incident_id))

    def list(self, status: Optional[Sequence[str]] = None, limit: int = 100, offset: int = 0) -> List[Incident]:
        """Incidents, active first, newest first."""
        query = select(it)
        if status:
            query = query.where(it.c.status.in_(list(status)))
        query = query.order_by((it.c.status == ACTIVE).desc(), it.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            counts = self._link_counts(conn, [r.id for r in rows])
        return [Incident.from_row(r, counts.get(r.id)) for r in rows]

    def count(self, status: Optional[Sequence[str]] = None) -> int:
        query = select(func.count()).select_from(it)
        if status:
            query = query.where(it.c.status.in_(list(status)))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    @staticmethod
    def _link_counts(conn: Any, ids: List[int]) -> Dict[int, Dict[str, int]]:
        if not ids:
            return {}
        counts: Dict[int, Dict[str, int]] = {}
        rows = conn.execute(select(lt.c.incident_id, lt.c.link_type, func.count()).where(lt.c.incident_id.in_(ids))
                            .group_by(lt.c.incident_id, lt.c.link_type))
        for incident_id, link_type, count in rows:
            counts.setdefault(incident_id, {})[link_type] = int(count)
        return counts

    def active(self, now: Optional[datetime] = None) -> List[Incident]:
        """Incidents that last now: active and started (an announced one waits for its start)."""
        now = now or utcnow()
        return [i for i in self.list(status=[ACTIVE], limit=500) if i.starts_at <= now]

    def matching(self, buildings: Iterable[Optional[str]], kinds: Iterable[str] = (),
                 category: Optional[str] = None, now: Optional[datetime] = None) -> List[Incident]:
        """Active incidents affecting one of ``buildings`` (or the whole community) that are one of
        ``kinds`` or explain a report of ``category``; community-wide ones last, newest first."""
        wanted, places = set(kinds), [b for b in buildings if b]
        found = [i for i in self.active(now)
                 if (i.kind in wanted or i.explains(category))
                 and (i.community_wide or any(i.affects(b) for b in places))]
        return sorted(found, key=lambda i: (i.community_wide, -i.id))

    def links(self, incident_id: int) -> List[Link]:
        """Everyone linked to an incident, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(lt).where(lt.c.incident_id == incident_id).order_by(lt.c.id)).all()
        return [Link.from_row(r) for r in rows]

    # ------------------------------------------------------------ writing
    def declare(self, data: Dict[str, Any], actor: str, alert_id: Optional[int] = None) -> Incident:
        """A new active incident from staff's ``data`` (see :data:`FIELDS`); raises IncidentError."""
        values = validate(data)
        now = utcnow()
        with self.engine.begin() as conn:
            incident_id = conn.execute(insert(it).values(
                **values, status=ACTIVE, created_by=actor[:64], alert_id=alert_id, created_at=now, updated_at=now,
            )).inserted_primary_key[0]
        return self.get(int(incident_id))

    def edit(self, incident_id: int, data: Dict[str, Any], actor: str) -> Incident:
        """Change an active incident (a later expected end, another building); 409 once resolved."""
        current = self.get(incident_id)
        if current.status != ACTIVE:
            raise IncidentError("resolved", "A resolved incident cannot be changed.", status=409)
        values = validate(data, current)
        with self.engine.begin() as conn:
            conn.execute(update(it).where(it.c.id == incident_id, it.c.status == ACTIVE)
                         .values(**values, updated_at=utcnow()))
        return self.get(incident_id)

    def delete(self, incident_id: int) -> None:
        """Remove an incident declared by mistake, with its links (nobody is notified)."""
        with self.engine.begin() as conn:
            conn.execute(delete(lt).where(lt.c.incident_id == incident_id))
            if not conn.execute(delete(it).where(it.c.id == incident_id)).rowcount:
                raise IncidentNotFound(incident_id)

    def resolve(self, incident_id: int, actor: str, note: Optional[str] = None) -> Incident:
        """Mark it resolved with ``note``; IncidentError 409 when it already was."""
        note = _text(note, "note", MAX_NOTE)
        now = utcnow()
        with self.engine.begin() as conn:
            done = conn.execute(update(it).where(it.c.id == incident_id, it.c.status == ACTIVE).values(
                status=RESOLVED, resolved_at=now, resolved_by=actor[:64], resolution_note=note, updated_at=now))
        if not done.rowcount:
            self.get(incident_id)  # IncidentNotFound when there is none
            raise IncidentError("already_resolved", "This incident is already resolved.", status=409)
        return self.get(incident_id)

    def mark_notified(self, incident_id: int) -> None:
        """The resolution messages of every link are queued."""
        with self.engine.begin() as conn:
            conn.execute(update(it).where(it.c.id == incident_id).values(notified_at=utcnow()))

    def unnotified(self) -> List[Incident]:
        """Resolved incidents whose residents were not all queued their message yet (a crash)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(it).where(it.c.status == RESOLVED, it.c.notified_at.is_(None))).all()
        return [Incident.from_row(r) for r in rows]

    def link(self, incident_id: int, link_type: str, channel: str, sender_id: str, language: str,
             ticket_number: Optional[str] = None) -> bool:
        """Link a resident (``sender_id``: their platform id) to an incident; False when already linked so."""
        if link_type not in LINK_TYPES:
            raise ValueError(f"link_type must be one of {LINK_TYPES}")
        language = "en" if (language or "").startswith("en") else "zh"
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(lt).values(
                    incident_id=incident_id, link_type=link_type, conversation_id=resident_id(channel, sender_id),
                    channel=channel, sender_id=sender_id, language=language, ticket_number=ticket_number,
                    created_at=utcnow()))
            return True
        except IntegrityError:
            return False


def status_filter(value: Optional[str]) -> List[str]:
    """``?status=active,resolved`` (or ``all``/empty: every status); IncidentError on an unknown one."""
    if not value or value == "all":
        return []
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in wanted if v not in STATUSES]
    if bad:
        raise IncidentError("bad_status", f"status must be {', '.join(STATUSES)} or all.")
    return wanted
