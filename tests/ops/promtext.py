"""Read Prometheus' text exposition in tests (with the client library's own parser)."""

from __future__ import annotations

from typing import Dict, Optional, Set

from prometheus_client.parser import text_string_to_metric_families


def families(text: str) -> Set[str]:
    """Names of the metric families in an exposition (``linli_messages`` for ``linli_messages_total``)."""
    return {family.name for family in text_string_to_metric_families(text)}


def value(text: str, sample: str, labels: Optional[Dict[str, str]] = None) -> Optional[float]:
    """The value of one sample (``linli_turn_seconds_count``) with exactly these labels, or None."""
    wanted = labels or {}
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == sample and dict(item.labels) == wanted:
                return item.value
    return None
