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

    return [health, chat, api, outbox_api, desk_api, kb_review_api, kb_api, satisfaction_api, console, metrics]
