"""Delivery that loses nothing: every message sent to a resident outside a request goes through
one outbox (ticket notifications, agent replies and handoff messages, WeChat late answers).

- :mod:`bot.outbox.models`: the ``outbox`` table and its statuses;
- :mod:`bot.outbox.store`: enqueue / claim / complete / fail / reclaim / list / retry;
- :mod:`bot.outbox.worker`: the delivery loop (retries with backoff, dead letters);
- :mod:`bot.outbox.service`: the process-wide store and worker; :func:`send` and :func:`enqueue`;
- :mod:`bot.outbox.settings`: ``LINLI_OUTBOX_*``.

Staff see dead letters on the desk (Deliveries, ``GET /api/outbox?status=dead``) and send them
again (``POST /api/outbox/<id>/retry``, admins).
"""

from bot.outbox.service import enqueue, outbox_store, send, wake

__all__ = ["enqueue", "outbox_store", "send", "wake"]
