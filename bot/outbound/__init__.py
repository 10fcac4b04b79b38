"""Messages sent outside a request/response cycle: late answers, ticket status
notifications, agent replies during a handoff.

The rest of the code calls :func:`send_text` with the channel name a
conversation came from (``tracker.get_latest_input_channel()`` or a ticket's
``channel``) and never needs to know how that channel delivers. Each channel
registers a :class:`Sender` for its name. Senders only deliver; the caller
records the message in the conversation's tracker (with its author), see
:func:`bot.conversations.append_events`.

Delivery paths: a sender may return a short string naming the path that delivered
(WeChat: ``customer_service`` or ``template``); one that returns ``None`` delivered by
the channel itself, and the path is the channel's name (``telegram``, ``webchat``...).
The outbox records it on the row (``delivered_via``, shown on the desk's Deliveries page).
A sender whose path depends on what the message is (WeChat's template messages) also has
``async send_message(recipient_id, text, *, buttons=None, payload=None, kind=None)``;
:func:`deliver` prefers it and passes the outbox row's ``payload`` and ``kind``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Protocol, runtime_checkable

from bot.channels.identity import platform_id
from bot.settings import redact

logger = logging.getLogger(__name__)


@runtime_checkable
class Sender(Protocol):
    """Delivers text to one recipient on one channel.

    A channel that shows buttons also has ``async send_buttons(recipient_id, text, buttons)``
    (Rasa's ``[{"title", "payload"}]``); without it, :func:`send_text` sends the text alone.
    """

    async def send_text(self, recipient_id: str, text: str) -> Optional[str]:
        """Send ``text`` to ``recipient_id``; raise :class:`DeliveryError` on failure.

        May return the delivery path (see the module docstring); ``None``: the channel's name.
        """


class DeliveryError(RuntimeError):
    """A message could not be delivered (no sender for the channel, API error...).

    ``permanent``: no retry can deliver it (the outbox marks it ``undeliverable`` at once).
    """

    def __init__(self, message: object = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


_senders: Dict[str, Sender] = {}


def register_sender(channel: str, sender: Sender) -> None:
    """Make ``sender`` responsible for proactive messages on ``channel``."""
    _senders[channel] = sender


def sender_for(channel: str) -> Optional[Sender]:
    """The registered sender of ``channel``, if any."""
    return _senders.get(channel)


async def send_text(channel: str, recipient_id: str, text: str,
                    buttons: Optional[List[Dict[str, Any]]] = None) -> str:
    """Send ``text`` to a resident on the channel they used (with ``buttons`` where it shows them:
    the text must make sense alone, e.g. "reply 1-5", since other channels get only the text).

    ``recipient_id`` is the platform id (a ticket's ``sender_id``) or the conversation
    id ``"<channel>:<platform id>"`` (a handoff's); the sender always gets the platform id.
    Raises :class:`DeliveryError` when the channel cannot deliver proactive
    messages (for example the plain REST channel, which only answers requests); its
    text never contains a secret (API URLs with ``secret=``, bot tokens), because
    callers show it to staff and store it. Returns the path that delivered (module docstring).
    """
    return await deliver(channel, recipient_id, text, buttons=buttons)


async def deliver(channel: str, recipient_id: str, text: str, *, buttons: Optional[List[Dict[str, Any]]] = None,
                  payload: Optional[Dict[str, Any]] = None, kind: Optional[str] = None) -> str:
    """:func:`send_text` for an outbox row: the sender's ``send_message`` gets its ``payload`` and
    ``kind`` too (WeChat picks a template message from them). Returns the path that delivered."""
    sender = _senders.get(channel)
    if sender is None:
        raise DeliveryError(f"no proactive sender registered for channel {channel!r}")
    to = platform_id(channel, recipient_id)
    try:
        if hasattr(sender, "send_message"):
            path = await sender.send_message(to, text, buttons=buttons, payload=payload, kind=kind)  # type: ignore[attr-defined]
        elif buttons and hasattr(sender, "send_buttons"):
            path = await sender.send_buttons(to, text, buttons)  # type: ignore[attr-defined]
        else:
            path = await sender.send_text(to, text)
    except DeliveryError as exc:
        raise DeliveryError(redact(exc), permanent=bool(getattr(exc, "permanent", False))) from None
    except Exception as exc:  # a channel bug: logged (the log filter redacts), no secret in what callers see
        logger.exception("Sender for %s failed", channel)
        raise DeliveryError(redact(f"{type(exc).__name__}: {exc}")) from None
    return path if isinstance(path, str) and path else channel
