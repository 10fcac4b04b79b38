"""Linli's health and metrics blueprints on a bare Sanic app (no Rasa model): for tests.

    python -m tests.ops.bare_app HOST PORT
"""

from __future__ import annotations

import sys

from sanic import Sanic

from bot.web.health import blueprint as health
from bot.web.metrics import blueprint as metrics

app = Sanic("linli_bare_ops")
app.blueprint(health)
app.blueprint(metrics)

if __name__ == "__main__":
    app.run(host=sys.argv[1], port=int(sys.argv[2]), workers=1, access_log=False)
