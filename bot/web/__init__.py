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

    return [health]
