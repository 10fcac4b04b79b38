"""Handoff settings: :class:`bot.settings.Handoff`, under the name the handoff code uses."""

from __future__ import annotations

from bot.settings import Handoff as HandoffSettings

__all__ = ["HandoffSettings"]
