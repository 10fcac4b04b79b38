"""An outbox worker in a process of its own, as on another replica (used by test_race.py).

``python -m tests.outbox.worker_process <WeChat API base URL> <worker name>``: delivers the
outbox of ``DATABASE_URL`` to the WeChat API at that URL until its stdin is closed.
"""

from __future__ import annotations

import asyncio
import sys


async def serve(api_base_url: str, name: str) -> None:
    from bot.channels.state import SqlKeyValueStore
    from bot.channels.wechat import LinliWeChatClient, SharedTokenStorage, WeChatSender
    from bot.db import get_engine
    from bot.outbound import register_sender
    from bot.outbox.settings import OutboxSettings
    from bot.outbox.store import OutboxStore
    from bot.outbox.worker import Worker

    engine = get_engine()
    client = LinliWeChatClient("wx-race-test", "race-secret", api_base_url, SharedTokenStorage(SqlKeyValueStore(engine)))
    register_sender("wechat", WeChatSender(client))
    worker = Worker(OutboxStore(engine), OutboxSettings(interval=0.05, concurrency=4, lease=60), name=name)
    worker.start()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # the test closes stdin to stop us
    await worker.stop()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
