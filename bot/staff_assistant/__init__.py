"""The staff assistant: front-desk staff chat with Linli in the desk (``/console``, ``/console/assistant``).

It does not go through the residents' Rasa model (see docs/architecture.md, "Staff
assistant"): a small intent layer built from the project's own parsers reads what staff
type (:mod:`bot.staff_assistant.intents`), and each intent is answered from the ticket
store (:mod:`.lookup`), by a repair draft that staff confirm (:mod:`.repair`), or by the
knowledge base through the action server's hit test (:mod:`.knowledge`), phrased for staff.
:mod:`.assistant` ties them together; :mod:`bot.web.assistant_api` serves it.

Agent assist (reply suggestions during a handoff) lives here too: :mod:`.suggest` turns a
hit test into at most three suggested replies, :mod:`.counters` counts how often agents
use them (shown / inserted / sent, by day); :mod:`bot.web.assist_api` serves both.
"""
