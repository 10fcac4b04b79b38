"""Small HTTP helpers every Linli route and channel uses: JSON errors and shared secrets."""

from __future__ import annotations

import hmac

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse


def error(status: int, code: str, message: str) -> HTTPResponse:
    """A JSON error: ``{"error": code, "message": what to do next}``."""
    return response.json({"error": code, "message": message}, status=status)


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer …`` header, or ``""``."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing (the route stays closed)."""
    return bool(expected) and bool(given) and hmac.compare_digest(given.encode(), expected.encode())
