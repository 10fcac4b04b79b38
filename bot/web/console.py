"""``GET /console``: the staff desk, a single page (vanilla JS) over the JSON API in :mod:`bot.web.api`.

The page itself is public (it only shows a login form until ``/api/me``
answers); every piece of data comes from the authenticated API.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

STATIC = Path(__file__).resolve().parent / "console_static"

blueprint = Blueprint("linli_console")
blueprint.static("/console/static", str(STATIC), name="console_static")

#: The page must not be framed (clickjacking) and loads nothing from other origins.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@blueprint.get("/console")
async def console(request: Request) -> HTTPResponse:
    """The desk's single page."""
    return await response.file(str(STATIC / "index.html"), headers=SECURITY_HEADERS)
