"""Human handoff: a conversation leaves the bot for a member of staff and comes back.

* :mod:`bot.handoff.models` / :mod:`bot.handoff.store`: handoff state in the
  database (``DATABASE_URL``), so queued and active handoffs survive a restart.
* Rasa's own mechanisms keep a handed-off conversation with staff: ``action_handoff``
  returns ``ConversationPaused`` (Rasa logs the resident's messages and predicts
  nothing), ``action_session_start`` pauses a new session again while a handoff is
  open, and rules send complaints (``LINLI_COMPLAINTS_TO_HUMAN``) and repeated
  misunderstandings (``actions/fallback.py``) to ``action_handoff``.
* :mod:`bot.handoff.relay`: a consumer of Rasa's event broker that brings resident
  messages to the desk at once and answers an emergency during a handoff.
* :mod:`bot.handoff.desk`: what staff do (take, reply, close) and the timeout
  sweep, writing agent messages into the Rasa tracker and delivering them through
  the outbox (:mod:`bot.outbox`: retries, dead letters on the desk).
"""

from bot.handoff.models import ACTIVE_STATUSES, Handoff, HandoffStatus
from bot.handoff.store import HandoffConflict, HandoffNotFound, HandoffStore

__all__ = ["ACTIVE_STATUSES", "Handoff", "HandoffStatus", "HandoffStore", "HandoffConflict", "HandoffNotFound"]
