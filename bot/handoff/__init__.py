"""Human handoff: a conversation leaves the bot for a member of staff and comes back.

* :mod:`bot.handoff.models` / :mod:`bot.handoff.store`: handoff state in the
  database (``DATABASE_URL``), so queued and active handoffs survive a restart.
* :mod:`bot.handoff.gate`: wraps the Rasa processor of ``bot.server`` so that a
  handed-off conversation is logged but never answered by the bot, resident
  messages reach the desk at once, and complaints / repeated misunderstandings
  open a handoff.
* :mod:`bot.handoff.desk`: what staff do (take, reply, close) and the timeout
  sweep, writing agent messages into the Rasa tracker and delivering them with
  :func:`bot.outbound.send_text`.
"""

from bot.handoff.models import ACTIVE_STATUSES, Handoff, HandoffStatus
from bot.handoff.store import HandoffConflict, HandoffNotFound, HandoffStore

__all__ = ["ACTIVE_STATUSES", "Handoff", "HandoffStatus", "HandoffStore", "HandoffConflict", "HandoffNotFound"]
