"""Sending a notice: one outbox message per targeted resident, in their language.

Each message goes through the outbox (:func:`bot.outbox.enqueue`, kind ``notice``, dedupe key
``notice:<id>:<conversation>``), which delivers it on the resident's own channel, retries, and
writes it to the resident's transcript once delivered (metadata ``{"notice": id}``). The
payload carries the notice as a template (``{"template": {"name": "notice", "fields": {"title",
"body", "time"}}}``) for channels that send template messages when a free-form message is not
allowed (WeChat outside its customer-service window). Opted-out residents are recorded as
skipped unless the notice is urgent. A send that stopped half-way (a crash) can be resumed:
residents already recorded are not sent to again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.notices.models import OPTED_OUT, QUEUED, SKIPPED
from bot.notices.store import Notice, NoticeStore
from bot.notices.targeting import LanguageOf, recipients
from bot.responses import render
from bot.settings import Community

logger = logging.getLogger(__name__)

Enqueue = Callable[..., Awaitable[int]]


def notice_time(at: float, zone: Optional[str] = None) -> str:
    """``2026-12-01 20:48`` in the community's time zone (``LINLI_TIMEZONE``)."""
    return datetime.fromtimestamp(at, ZoneInfo(zone or Community.read("timezone"))).strftime("%Y-%m-%d %H:%M")


def message_text(notice: Notice, language: str) -> str:
    """What the resident reads: the notice's title and body under a heading, and how to opt out
    (urgent notices reach everyone, so they do not offer it)."""
    name = "utter_notice_urgent" if notice.urgent else "utter_notice"
    return render(name, language, title=notice.title(language), body=notice.body(language))


def payload(notice: Notice, language: str, at: float) -> Dict[str, Any]:
    """The outbox payload: the notice as a template message (the contract of WeChat's fallback)."""
    return {"template": {"name": "notice", "fields": {"title": notice.title(language), "body": notice.body(language),
                                                       "time": notice_time(at)}}}


async def default_enqueue(channel: str, sender_id: str, text: str, kind: str, **options: Any) -> int:
    """:func:`bot.outbox.enqueue` (imported late: the outbox worker is the server process's)."""
    from bot import outbox

    return await outbox.enqueue(channel, sender_id, text, kind, **options)


async def send_notice(store: NoticeStore, notice_id: int, actor: str, *, trackers: Optional[Engine] = None,
                      language_of: Optional[LanguageOf] = None, enqueue: Enqueue = default_enqueue) -> Notice:
    """Send a draft to everyone its target includes; the notice, now ``sent``.

    Raises :class:`~bot.notices.store.NoticeNotFound` or :class:`~bot.notices.store.NoticeConflict`
    (already sent, or being sent right now) before anything is queued.
    """
    notice = await asyncio.to_thread(store.claim, notice_id, actor)
    found = await asyncio.to_thread(recipients, store.engine, notice.audience, trackers, language_of)
    done = await asyncio.to_thread(store.delivered_to, notice_id)
    at = notice.sending_at or time.time()
    queued = skipped = 0
    for resident in found:
        if resident.conversation in done:
            continue
        if not resident.subscribed and not notice.urgent:
            await asyncio.to_thread(store.record, notice_id, resident.channel, resident.sender_id, resident.language,
                                    SKIPPED, reason=OPTED_OUT)
            skipped += 1
            continue
        language = resident.language
        outbox_id = await enqueue(resident.channel, resident.sender_id, message_text(notice, language), kind="notice",
                                  dedupe_key=f"notice:{notice_id}:{resident.conversation}",
                                  payload=payload(notice, language, at), transcript={"notice": notice_id})
        await asyncio.to_thread(store.record, notice_id, resident.channel, resident.sender_id, language, QUEUED,
                                outbox_id=outbox_id)
        queued += 1
    logger.info("Notice %s sent by %s: %d queued, %d skipped (opted out)", notice_id, actor, queued, skipped)
    return await asyncio.to_thread(store.finish, notice_id, len(found))
