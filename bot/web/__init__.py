"""Linli's own web routes, served by the same process as Rasa (see bot.server).

Each feature contributes one Sanic blueprint (the chat widget page, the staff
desk, its JSON API). Add yours to :func:`blueprints`.
"""

from __future__ import annotations

from typing import List

from sanic import Blueprint


def blueprints() -> List[Blueprint]:
    """Every Linli blueprint to mount next to Rasa's API and channels."""
    from bot.web.health import blueprint as health
    from bot.web.chat import blueprint as chat  # chat widget + socket.io sender (issue 5)
    from bot.web.api import blueprint as api  # staff desk JSON API + handoff wiring (issue 6)
    from bot.web.console import blueprint as console  # staff desk page /console (issue 6)
    from bot.web.metrics import blueprint as metrics  # /metrics + webhook turn timing (issue 12)
    from bot.web.outbox_api import blueprint as outbox_api  # deliveries: dead letters, retry (issue 12)
    from bot.web.desk_api import blueprint as desk_api  # canned replies, resident panel, staff, export (issue 13)
    from bot.web.kb_review_api import blueprint as kb_review_api  # KB hit test + unanswered review (issue 13)
    from bot.web.satisfaction_api import blueprint as satisfaction_api  # satisfaction ratings (issue 13)
    from bot.web.kb_api import blueprint as kb_api  # KB content, re-index jobs, versions, setup (issue 13)
    from bot.web.media_api import blueprint as media_api  # photos and voice: desk, widget uploads (issue 14)
    from bot.web.notices_api import blueprint as notices_api  # notices (物业通知): compose, target, send, report (issue 14)
    from bot.web.incidents_api import blueprint as incidents_api  # incidents, early-warning alerts, rising (issue 14)
    from bot.web.assist_api import blueprint as assist_api  # reply suggestions during handoffs (issue 16)
    from bot.web.assistant_api import blueprint as assistant_api  # staff assistant chat (issue 16)

    return [health, chat, api, outbox_api, desk_api, kb_review_api, kb_api, satisfaction_api, media_api, notices_api, incidents_api, assist_api, assistant_api, console, metrics]
