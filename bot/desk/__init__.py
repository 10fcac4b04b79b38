"""Desk essentials: canned replies (:mod:`bot.desk.canned`), the resident panel
(:mod:`bot.desk.residents`) and ticket export (:mod:`bot.desk.export`).

The routes that serve them are in :mod:`bot.web.desk_api`; the desk's front end in
``bot/web/console_static/`` (``canned.js``, ``resident.js`` and the tickets part of
``console.js``).
"""
