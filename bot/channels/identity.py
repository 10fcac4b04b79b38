"""A resident's identity is (channel, platform id), namespaced everywhere it is stored.

- Rasa conversations (tracker sender ids) and handoffs use the *conversation id*
  ``"<channel>:<platform id>"``: ``wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M``,
  ``telegram:123456789``, ``socketio:<widget session>``, ``rest:<sender>``.
  Each channel builds it itself; no caller can choose another channel's prefix
  (the REST channel always prefixes ``rest:``, whatever the sender says).
- Tickets, pending photos and channel memory keep the two parts in two columns
  (``channel``, ``sender_id`` = the platform id).

:func:`split` turns a conversation id back into ``(channel, platform id)``; an id
without a known prefix (a conversation from before namespacing, or a channel
Linli does not know) belongs to no channel (``"unknown"``), so it can never be
mistaken for a WeChat or Telegram resident.
"""

from __future__ import annotations

from typing import Optional, Tuple

#: Channels whose conversation ids are namespaced by Linli.
CHANNELS = ("wechat", "telegram", "socketio", "rest")
UNKNOWN = "unknown"


def conversation_id(channel: str, platform_id: str) -> str:
    """The Rasa sender id of a resident: ``"<channel>:<platform id>"``."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{channel}:{platform_id}"


def resident_id(channel: str, platform: str) -> str:
    """The conversation id of a ticket's or a row's reporter, also for a channel Linli does not
    namespace (tests, imports): always ``"<channel>:<platform id>"``."""
    return f"{channel}:{platform}"


def split(conversation: str) -> Tuple[str, str]:
    """``(channel, platform id)`` of a conversation id; ``("unknown", id)`` when not namespaced."""
    channel, sep, rest = (conversation or "").partition(":")
    if sep and channel in CHANNELS and rest:
        return channel, rest
    return UNKNOWN, conversation


def channel_of(conversation: str) -> Optional[str]:
    """The channel of a namespaced conversation id, else ``None``."""
    channel, _ = split(conversation)
    return None if channel == UNKNOWN else channel


def platform_id(channel: str, recipient: str) -> str:
    """``recipient`` without its ``"<channel>:"`` prefix (callers may pass either form)."""
    prefix = f"{channel}:"
    return recipient[len(prefix):] if recipient.startswith(prefix) else recipient
