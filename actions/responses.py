"""Render a domain response to text inside an action.

Most actions send responses by name (``dispatcher.utter_message(response=...)``).
An emergency reply is one message built from several responses and the
playbook's advice (one message reaches every channel at once, WeChat's passive
reply included), so it needs the response texts themselves.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk.types import DomainDict


def _matches(variation: Dict[str, Any], language: str) -> bool:
    conditions: List[Dict[str, Any]] = variation.get("condition") or []
    return all(c.get("name") != "language" or c.get("value") == language for c in conditions)


def render(domain: DomainDict, name: str, language: str, **values: Any) -> str:
    """The text of response ``name`` in ``language`` with ``{placeholders}`` filled."""
    variations = (domain.get("responses") or {}).get(name) or []
    conditional = [v for v in variations if v.get("condition") and _matches(v, language)]
    plain = [v for v in variations if not v.get("condition")]
    chosen = (conditional or plain or [{"text": ""}])[0]
    return str(chosen.get("text") or "").format(**values)
