"""Residents' personal information (个人信息保护法): masking, the staff audit log,
retention, export and deletion on request, and the identity migration.

Command line (``source scripts/env.sh`` first, so it uses the service's databases)::

    python -m bot.privacy export --channel wechat --id <openid> [--out resident.json]
    python -m bot.privacy delete --channel wechat --id <openid> --yes
    python -m bot.privacy purge [--days 365] [--dry-run]     # what the scheduled job does
    python -m bot.privacy audit [--limit 50]                  # who viewed or exported what
    python -m bot.privacy migrate                             # namespace identities of old rows

- **Masking**: :func:`mask_phones` hides the middle digits of phone numbers in lists,
  queues and dashboards (``138****5678``); only a ticket's own page shows the number.
- **Audit log** (table ``audit_log``): every staff view of a ticket, a transcript or an
  attachment, and every export or deletion, with who, when and whose data; admins read
  it at ``GET /api/audit``.
- **Retention** (``LINLI_RETENTION_DAYS``, default 365, 0 = keep): the server runs
  :func:`purge` every ``LINLI_RETENTION_INTERVAL_SECONDS``; conversations inactive for
  longer are deleted, resolved/closed tickets and ended handoffs older than that are
  anonymised (reporter, phone, address, photos removed; the ticket stays for statistics),
  waiting photos and media (photos, voice: bot/media) no ticket refers to any more are deleted.
- **Export and erasure** include the resident's media (records and files).
- **Identity migration**: conversations and handoffs written before identities were
  namespaced get their ``"<channel>:"`` prefix (:func:`migrate_identities`, run at start).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import sys
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, delete, insert,
                        inspect, select, text, update)
from sqlalchemy.engine import Engine

from bot import ROOT
from bot.channels.identity import CHANNELS, conversation_id, split
from bot import db
from bot.db import get_engine
from bot.settings import Databases, Settings

logger = logging.getLogger(__name__)

metadata = MetaData()

audit_table = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False, index=True),  # epoch seconds
    Column("actor", String(128), nullable=False, index=True),  # staff:<username> | cli:<user> | system
    Column("action", String(32), nullable=False),  # view_ticket | view_transcript | view_attachment | export | delete | purge
    Column("resident", String(255), index=True),  # conversation id "<channel>:<platform id>"
    Column("subject", String(64)),  # ticket number, handoff id...
    Column("detail", Text),
)

migrations_table = Table(
    "linli_migrations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("at", Float, nullable=False),
)

ERASED = "erased"
IDENTITY_MIGRATION = "identity-namespacing-1"

# ---------------------------------------------------------------- masking
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})([- ]?)(\d{3,4})([- ]?)(\d{4})(?!\d)")


def mask_phone(phone: Optional[str]) -> Optional[str]:
    """``13812345678`` → ``138****5678``; other numbers keep only their last 4 digits."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(0, len(digits) - 4) + digits[-4:]


def mask_phones(value: Optional[str]) -> Optional[str]:
    """Phone numbers inside a text masked (for lists, queues, dashboards)."""
    if not value:
        return value
    value = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(4)}{m.group(5)}", value)


# ---------------------------------------------------------------- audit log
class AuditLog:
    """Who looked at or exported which resident's data."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def record(self, actor: str, action: str, resident: Optional[str] = None, subject: Optional[str] = None,
               detail: Optional[str] = None) -> None:
        """Append one entry."""
        with self.engine.begin() as conn:
            conn.execute(insert(audit_table).values(at=time.time(), actor=actor[:128], action=action[:32],
                                                    resident=(resident or None) and resident[:255],
                                                    subject=(subject or None) and str(subject)[:64], detail=detail))

    def list(self, limit: int = 100, offset: int = 0, actor: Optional[str] = None,
             resident: Optional[str] = None) -> List[Dict[str, Any]]:
        """Entries, newest first."""
        query = select(audit_table).order_by(audit_table.c.id.desc())
        if actor:
            query = query.where(audit_table.c.actor == actor)
        if resident:
            query = query.where(audit_table.c.resident == resident)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [{**dict(r), "at": datetime.fromtimestamp(r["at"], timezone.utc).isoformat()} for r in rows]


@lru_cache(maxsize=None)
def audit_log(url: Optional[str] = None) -> AuditLog:
    """The audit log on ``DATABASE_URL``."""
    return AuditLog(get_engine(url))


# ---------------------------------------------------------------- databases
def tracker_url() -> str:
    """The tracker store's SQLAlchemy URL, as endpoints.yml configures it."""
    databases = Databases.from_env()
    url = databases.tracker_url
    if url and "://" in url:
        return url
    path = Path(databases.tracker_db)
    if not path.is_absolute():
        path = ROOT / path
    return f"sqlite:///{path}"


def _tracker_engine(url: str) -> Engine:
    # The shared engine factory: SQLite with WAL and a 30 s busy timeout, so a purge and
    # Rasa's own writes wait for each other instead of failing with "database is locked".
    return db.get_engine(url)


def tracker_engine() -> Optional[Engine]:
    """An engine on Rasa's tracker database, or ``None`` when it has no ``events`` table yet."""
    url = tracker_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return None
    engine = _tracker_engine(url)
    return engine if inspect(engine).has_table("events") else None


def _tables(engine: Engine) -> set:
    return set(inspect(engine).get_table_names())


# ---------------------------------------------------------------- identity migration
def _legacy_channel(conn: Any, sender_id: str) -> Optional[str]:
    """The channel of a pre-namespacing conversation: its latest message's input channel."""
    for (data,) in conn.execute(text(
            "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id DESC LIMIT 5"),
            {"s": sender_id}):
        try:
            channel = json.loads(data or "{}").get("input_channel")
        except ValueError:
            continue
        if channel in CHANNELS:
            return channel
    return None


def migrate_identities(engine: Optional[Engine] = None, trackers: Optional[Engine] = None) -> Dict[str, int]:
    """Give conversations and handoffs from before namespacing their ``"<channel>:"`` prefix.

    Tickets already keep (channel, platform id) in two columns and need nothing.
    Idempotent; recorded in ``linli_migrations`` once the tracker store was migrated.
    """
    engine = engine or get_engine()
    metadata.create_all(engine)
    with engine.connect() as conn:
        if conn.scalar(select(migrations_table.c.name).where(migrations_table.c.name == IDENTITY_MIGRATION)):
            return {"conversations": 0, "handoffs": 0}
    done = {"conversations": 0, "handoffs": 0}
    if "handoffs" in _tables(engine):
        with engine.begin() as conn:
            for row_id, sender, channel in conn.execute(text("SELECT id, sender_id, channel FROM handoffs")).all():
                if split(sender)[0] == "unknown" and channel in CHANNELS:
                    conn.execute(text("UPDATE handoffs SET sender_id = :s WHERE id = :i"),
                                 {"s": conversation_id(channel, sender), "i": row_id})
                    done["handoffs"] += 1
    trackers = trackers or tracker_engine()
    if trackers is None:
        return done  # no conversations yet: check again at the next start
    with trackers.begin() as conn:
        senders = [s for (s,) in conn.execute(text("SELECT DISTINCT sender_id FROM events"))]
        existing = set(senders)
        for sender in senders:
            if split(sender)[0] != "unknown":
                continue
            channel = _legacy_channel(conn, sender)
            if channel is None:
                continue  # a conversation of no known channel stays no one's
            new = conversation_id(channel, sender)
            if new in existing:
                continue
            conn.execute(text("UPDATE events SET sender_id = :new WHERE sender_id = :old"), {"new": new, "old": sender})
            done["conversations"] += 1
    with engine.begin() as conn:
        conn.execute(insert(migrations_table).values(name=IDENTITY_MIGRATION, at=time.time()))
    return done


# ---------------------------------------------------------------- export / delete
def _ticket_models():  # type: ignore[no-untyped-def]
    from bot.tickets.models import Ticket, TicketAttachment, TicketEvent

    return Ticket, TicketEvent, TicketAttachment


def _personal_columns(ticket_cls: Any) -> List[str]:
    """Ticket columns that describe the resident (whichever the schema has)."""
    names = ("phone", "unit", "location", "building", "entrance", "room", "area", "visit_time")
    return [n for n in names if hasattr(ticket_cls, n)]


def export_resident(channel: str, platform_id: str, engine: Optional[Engine] = None) -> Dict[str, Any]:
    """Everything stored about one resident, as JSON-ready data."""
    from sqlalchemy.orm import Session, selectinload

    from bot.web.serialize import ticket_dict

    engine = engine or get_engine()
    Ticket, _, _ = _ticket_models()
    from bot.tickets.models import Base as TicketBase

    TicketBase.metadata.create_all(engine)
    conversation = conversation_id(channel, platform_id)
    with Session(engine) as session:
        tickets = list(session.scalars(
            select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.attachments))
            .where(Ticket.channel == channel, Ticket.sender_id == platform_id).order_by(Ticket.id)))
        ticket_data = [ticket_dict(t) for t in tickets]
    handoffs: List[Dict[str, Any]] = []
    tables = _tables(engine)
    if "handoffs" in tables:
        from bot.handoff.models import Handoff

        with Session(engine) as session:
            handoffs = [h.as_dict() for h in session.scalars(
                select(Handoff).where(Handoff.sender_id == conversation).order_by(Handoff.id))]
    photos: List[str] = []
    if "channel_pending_photos" in tables:
        from bot.channels.state import pending_photos_table as pt

        with engine.connect() as conn:
            photos = [r for (r,) in conn.execute(select(pt.c.ref).where(pt.c.channel == channel,
                                                                          pt.c.sender_id == platform_id))]
    transcript: List[Dict[str, Any]] = []
    trackers = tracker_engine()
    if trackers is not None:
        with trackers.connect() as conn:
            for (data,) in conn.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                                        {"s": conversation}):
                try:
                    transcript.append(json.loads(data))
                except ValueError:
                    pass
    outgoing: List[Dict[str, Any]] = []
    if "outbox" in tables:
        from bot.outbox.models import outbox_table as ot

        with engine.connect() as conn:
            outgoing = [{"kind": r.kind, "text": r.text, "status": r.status, "created_at": r.created_at,
                         "sent_at": r.sent_at}
                        for r in conn.execute(select(ot).where(ot.c.conversation_id == conversation).order_by(ot.c.id))]
    unanswered: List[Dict[str, Any]] = []
    if "kb_unanswered" in tables:
        from knowledge.tables import kb_unanswered as ut

        with engine.connect() as conn:
            unanswered = [{"question": r.question, "language": r.language, "at": str(r.created_at)}
                          for r in conn.execute(select(ut).where(ut.c.sender_id == conversation).order_by(ut.c.id))]
    ratings: List[Dict[str, Any]] = []
    if "satisfaction_ratings" in tables:
        from bot.satisfaction.models import ratings_table as rt

        with engine.connect() as conn:
            ratings = [{"subject_type": r.subject_type, "subject_id": r.subject_id, "rating": r.rating,
                        "comment": r.comment, "asked_at": r.asked_at, "answered_at": r.answered_at}
                       for r in conn.execute(select(rt).where(rt.c.resident == conversation).order_by(rt.c.id))]
    media = _media_export(engine, conversation) if "media" in tables else []
    return {"resident": {"channel": channel, "id": platform_id, "conversation": conversation},
            "exported_at": datetime.now(timezone.utc).isoformat(), "tickets": ticket_data,
            "handoffs": handoffs, "pending_photos": photos, "transcript": transcript,
            "outgoing_messages": outgoing, "unanswered_questions": unanswered, "satisfaction_ratings": ratings,
            "media": media}


def _media_export(engine: Engine, conversation: str) -> List[Dict[str, Any]]:
    """The resident's photos and voice messages (bot/media): each record with its bytes in base64."""
    import base64

    from bot.media import MediaNotFound, media_store

    store = media_store(engine)
    found: List[Dict[str, Any]] = []
    for record in store.list_for(conversation):
        item = record.as_dict()
        try:
            item["content_base64"] = base64.b64encode(store.read(record.id)[1]).decode("ascii")
        except MediaNotFound:
            item["content_base64"] = None  # the record outlived its file
        found.append(item)
    return found


def _anonymise_tickets(engine: Engine, where: Any) -> int:
    """Remove the reporter, contact, address and photos from the tickets matching ``where``."""
    from sqlalchemy.orm import Session

    Ticket, TicketEvent, TicketAttachment = _ticket_models()
    count = 0
    with Session(engine) as session, session.begin():
        for ticket in session.scalars(select(Ticket).where(where)):
            resident = f"{ticket.channel}:{ticket.sender_id}"
            for column in _personal_columns(Ticket):
                setattr(ticket, column, None)
            ticket.description = mask_phones(ticket.description) or ""
            ticket.sender_id = f"{ERASED}-{ticket.id}"
            session.execute(update(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                      TicketEvent.actor == resident).values(actor="resident"))
            session.execute(update(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                      TicketEvent.action == "attachment").values(note=None))
            session.execute(delete(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id))
            count += 1
    return count


def _anonymise_handoffs(engine: Engine, where_sql: str, params: Dict[str, Any]) -> int:
    if "handoffs" not in _tables(engine):
        return 0
    with engine.begin() as conn:
        ids = [i for (i,) in conn.execute(text(f"SELECT id FROM handoffs WHERE {where_sql}"), params)]
        for handoff_id in ids:
            conn.execute(text("UPDATE handoffs SET sender_id = :s, last_message = NULL WHERE id = :i"),
                         {"s": f"{ERASED}-{handoff_id}", "i": handoff_id})
    return len(ids)


def delete_resident(channel: str, platform_id: str, engine: Optional[Engine] = None) -> Dict[str, int]:
    """Erase one resident: their conversation, waiting photos and channel memory are deleted,
    their tickets and handoffs anonymised (the ticket numbers and histories stay)."""
    engine = engine or get_engine()
    Ticket, _, _ = _ticket_models()
    from bot.tickets.models import Base as TicketBase

    TicketBase.metadata.create_all(engine)
    conversation = conversation_id(channel, platform_id)
    done = {"tickets": _anonymise_tickets(engine, (Ticket.channel == channel) & (Ticket.sender_id == platform_id)),
            "handoffs": _anonymise_handoffs(engine, "sender_id = :s", {"s": conversation}),
            "pending_photos": 0, "events": 0}
    if "channel_pending_photos" in _tables(engine):
        from bot.channels.state import pending_photos_table as pt

        with engine.begin() as conn:
            done["pending_photos"] = conn.execute(delete(pt).where(pt.c.channel == channel,
                                                                   pt.c.sender_id == platform_id)).rowcount or 0
    tables = _tables(engine)
    if "outbox" in tables:
        from bot.outbox.store import OutboxStore

        done["outgoing_messages"] = OutboxStore(engine).forget(conversation)
    if "kb_unanswered" in tables:
        from knowledge.tables import kb_unanswered as ut

        with engine.begin() as conn:
            done["unanswered_questions"] = conn.execute(delete(ut).where(ut.c.sender_id == conversation)).rowcount or 0
    if "satisfaction_ratings" in tables:
        from bot.satisfaction.store import SatisfactionStore

        done["satisfaction_ratings"] = SatisfactionStore(engine).forget(conversation)
    if "media" in tables:  # photos and voice messages, with their files (bot/media)
        from bot.media import media_store

        done["media"] = media_store(engine).delete_for(conversation)
    try:
        from bot.channels.state import kv_store

        for key in (f"lang:{channel}:{platform_id}", f"buttons:{channel}:{platform_id}"):
            kv_store().delete(key)
    except Exception:
        logger.exception("Could not delete the channel memory of %s", conversation)
    trackers = tracker_engine()
    if trackers is not None:
        with trackers.begin() as conn:
            done["events"] = conn.execute(text("DELETE FROM events WHERE sender_id = :s"),
                                          {"s": conversation}).rowcount or 0
    return done


# ---------------------------------------------------------------- retention
def _purge_media(engine: Engine, cutoff: float) -> int:
    """Delete media older than ``cutoff`` that no ticket or waiting photo refers to any more."""
    from bot.media import media_id_of, media_store

    refs: List[str] = []
    tables = _tables(engine)
    with engine.connect() as conn:
        if "ticket_attachments" in tables:
            refs += [r for (r,) in conn.execute(text("SELECT ref FROM ticket_attachments WHERE ref LIKE 'media:%'"))]
        if "channel_pending_photos" in tables:
            refs += [r for (r,) in conn.execute(text("SELECT ref FROM channel_pending_photos WHERE ref LIKE 'media:%'"))]
    return media_store(engine).purge(cutoff, keep=[m for m in map(media_id_of, refs) if m])


def purge(days: int, engine: Optional[Engine] = None, now: Optional[float] = None,
          dry_run: bool = False) -> Dict[str, int]:
    """Delete or anonymise what is older than ``days`` (see the module docstring)."""
    if days <= 0:
        return {}
    engine = engine or get_engine()
    cutoff = (now or time.time()) - days * 86400
    cutoff_dt = datetime.fromtimestamp(cutoff, timezone.utc)
    Ticket, _, _ = _ticket_models()
    from bot.tickets.models import Base as TicketBase

    TicketBase.metadata.create_all(engine)
    done: Dict[str, int] = {}
    old_tickets = ((Ticket.status.in_(["resolved", "closed"])) & (Ticket.updated_at < cutoff_dt)
                   & (~Ticket.sender_id.like(f"{ERASED}-%")))
    if dry_run:
        from sqlalchemy import func

        with engine.connect() as conn:
            done["tickets"] = conn.scalar(select(func.count()).select_from(Ticket).where(old_tickets)) or 0
    else:
        done["tickets"] = _anonymise_tickets(engine, old_tickets)
        done["handoffs"] = _anonymise_handoffs(
            engine, "status IN ('closed', 'timed_out') AND created_at < :c AND sender_id NOT LIKE 'erased-%'",
            {"c": cutoff_dt.replace(tzinfo=None) if engine.dialect.name == "sqlite" else cutoff_dt})
        if "channel_pending_photos" in _tables(engine):
            from bot.channels.state import pending_photos_table as pt

            with engine.begin() as conn:
                done["pending_photos"] = conn.execute(delete(pt).where(pt.c.created_at < cutoff)).rowcount or 0
        if "media" in _tables(engine):
            done["media"] = _purge_media(engine, cutoff)
    trackers = tracker_engine()
    if trackers is not None:
        stale = ("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :c")
        with trackers.begin() as conn:
            if dry_run:
                done["conversations"] = len(conn.execute(text(stale), {"c": cutoff}).all())
            else:
                senders = [s for (s,) in conn.execute(text(stale), {"c": cutoff})]
                for sender in senders:
                    conn.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
                done["conversations"] = len(senders)
    if not dry_run and any(done.values()):
        audit_log().record("system", "purge", detail=json.dumps({"days": days, **done}))
    return done


async def retention_loop(days: int, interval: float) -> None:
    """Background task of the server: :func:`purge` now and every ``interval`` seconds."""
    import asyncio

    if days <= 0:
        logger.info("Retention disabled (LINLI_RETENTION_DAYS=0)")
        return
    while True:
        try:
            done = await asyncio.to_thread(purge, days)
            if any(done.values()):
                logger.info("Retention (%s days): %s", days, done)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Retention job failed; retrying later")
        await asyncio.sleep(max(60.0, interval))


# ---------------------------------------------------------------- command line
def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def main(argv: Optional[List[str]] = None) -> int:
    """Run one privacy command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.privacy", description="Residents' personal data.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("export", "delete"):
        p = sub.add_parser(name, help=f"{name} one resident's data")
        p.add_argument("--channel", required=True, choices=CHANNELS)
        p.add_argument("--id", required=True, help="the platform id (OpenID, chat id, widget session, REST sender)")
        if name == "export":
            p.add_argument("--out", help="write the JSON here (default: standard output)")
        else:
            p.add_argument("--yes", action="store_true", help="really delete (otherwise only say what would go)")
    p = sub.add_parser("purge", help="apply the retention period now")
    p.add_argument("--days", type=int, default=Settings.read("retention_days"))
    p.add_argument("--dry-run", action="store_true")
    p = sub.add_parser("audit", help="show the audit log")
    p.add_argument("--limit", type=int, default=50)
    sub.add_parser("migrate", help="namespace the identities of rows from before namespacing")
    args = parser.parse_args(argv)

    if args.command in ("export", "delete", "migrate") or (args.command == "purge" and not args.dry_run):
        migrate_identities()  # reads and writes need today's identities; `audit` and dry runs write nothing
    if args.command == "export":
        data = export_resident(args.channel, args.id)
        audit_log().record(_actor(), "export", conversation_id(args.channel, args.id),
                           detail=f"{len(data['tickets'])} tickets, {len(data['transcript'])} events")
        out = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        if args.out:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(out)
            print(f"Exported {args.channel}:{args.id} to {args.out}", file=sys.stderr)
        else:
            print(out)
    elif args.command == "delete":
        if not args.yes:
            data = export_resident(args.channel, args.id)
            print(f"Would erase {len(data['transcript'])} conversation events, anonymise {len(data['tickets'])} "
                  f"tickets and {len(data['handoffs'])} handoffs of {args.channel}:{args.id}. Add --yes.")
            return 1
        done = delete_resident(args.channel, args.id)
        audit_log().record(_actor(), "delete", conversation_id(args.channel, args.id), detail=json.dumps(done))
        print(f"Erased {args.channel}:{args.id}: {done}")
    elif args.command == "purge":
        print(json.dumps(purge(args.days, dry_run=args.dry_run)))
    elif args.command == "audit":
        for entry in audit_log().list(args.limit):
            print(f"{entry['at']}\t{entry['actor']}\t{entry['action']}\t{entry['resident'] or '-'}\t"
                  f"{entry['subject'] or '-'}\t{entry['detail'] or ''}")
    else:
        print(json.dumps(migrate_identities()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
