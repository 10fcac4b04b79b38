"""Satisfaction ratings (满意度): residents rate a handoff or a resolved ticket from 1 to 5.

- :mod:`bot.satisfaction.models` / :mod:`~bot.satisfaction.store`: the ``satisfaction_ratings``
  table (one request per subject, answered in place) and its statistics;
- :mod:`~bot.satisfaction.asking`: the prompt, sent through the outbox when a handoff ends and
  with the notification that a ticket is resolved; it sets the ``rating_request`` slot;
- :mod:`~bot.satisfaction.parse`: "5", "4分", "五星", "⭐⭐⭐", "非常满意", "3 - slow but fixed";
- :mod:`~bot.satisfaction.policy`: the Rasa policy that sends the answer to ``actions/rating.py``
  and leaves every other message to the normal dialogue.

The desk reads them at ``GET /api/stats/satisfaction`` (:mod:`bot.web.satisfaction_api`) and on
the ticket page (``ticket_dict``'s ``rating``). Settings: ``LINLI_SATISFACTION``,
``LINLI_RATING_EXPIRY_HOURS`` (:class:`bot.settings.Satisfaction`).
"""
