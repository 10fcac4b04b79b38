"""Consume the events Rasa publishes, whatever broker the endpoints file configures.

* :class:`~bot.broker.inprocess.InProcessEventBroker` (embedded default): read its queue.
* Rasa's ``PikaEventBroker`` (RabbitMQ, production): consume the first queue it lists
  (``linli_events`` in ``deploy/endpoints.cluster.yml``). Every replica consumes the same
  durable queue, so each event is handled once, by one replica; a message is acknowledged
  after the handlers ran, so an event whose replica crashes mid-way is redelivered.
* Any other broker (Kafka, SQL…): Linli cannot read it back; the desk then learns of
  resident messages only from its periodic refresh, which the start-up log says.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, List
from urllib.parse import quote, urlparse, urlunparse

from bot.broker.inprocess import Handler, InProcessEventBroker

logger = logging.getLogger(__name__)

#: Seconds between reconnection attempts to RabbitMQ.
RETRY_SECONDS = 3.0
#: Events handled concurrently per replica (RabbitMQ prefetch).
PREFETCH = 32


async def consume(broker: Any, handlers: List[Handler]) -> None:
    """Run ``handlers`` on every event of ``broker`` until cancelled."""
    if broker is None:
        logger.warning("No event broker configured: resident messages do not reach the desk at once")
        return
    if isinstance(broker, InProcessEventBroker):
        await broker.consume(handlers)
        return
    from rasa.core.brokers.pika import PikaEventBroker

    if isinstance(broker, PikaEventBroker):
        await _consume_rabbitmq(broker, handlers)
        return
    logger.warning("Event broker %s cannot be consumed by Linli: resident messages reach the desk "
                   "only on its refresh; use RabbitMQ (type: pika) or the in-process broker", type(broker).__name__)


def _connection_arguments(broker: Any) -> dict:
    """aio-pika connection arguments from the Pika broker's own settings (as Rasa connects)."""
    host = str(broker.host)
    if host.startswith("amqp"):
        parsed = urlparse(host)
        if "@" not in parsed.netloc and broker.username:
            parsed = parsed._replace(netloc=f"{quote(broker.username)}:{quote(broker.password or '')}@{parsed.netloc}")
        return {"url": urlunparse(parsed)}
    return {"host": host, "port": int(broker.port), "login": broker.username, "password": broker.password}


async def _consume_rabbitmq(broker: Any, handlers: List[Handler]) -> None:
    import aio_pika

    queue_name = broker.queues[0]
    while True:
        try:
            connection = await aio_pika.connect_robust(**_connection_arguments(broker))
            async with connection:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=PREFETCH)
                # Declared as Rasa declares it (durable), so whichever starts first creates it.
                queue = await channel.declare_queue(queue_name, durable=True)
                logger.info("Consuming Rasa events from RabbitMQ queue %r", queue_name)
                async with queue.iterator() as messages:
                    async for message in messages:
                        await _handle(message, handlers)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("RabbitMQ event consumer stopped; reconnecting in %.0f s", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)


async def _handle(message: Any, handlers: List[Handler]) -> None:
    try:
        event = json.loads(message.body)
    except ValueError:
        logger.error("Dropping an event that is not JSON (%d bytes)", len(message.body or b""))
        await message.ack()
        return
    for handler in handlers:
        try:
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bad event must not block the queue: logged and acknowledged
            logger.exception("Event consumer %s failed on a %s event", handler, event.get("event"))
    await message.ack()
