"""Background tasks of the server process (the loops :func:`bot.server.services` starts)."""

from __future__ import annotations

import asyncio
from typing import Optional


async def cancel(task: "Optional[asyncio.Future]") -> None:
    """Cancel ``task`` and wait until it has stopped; what it raised on the way out is dropped."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
