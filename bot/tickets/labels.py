"""Bilingual display labels for ticket codes (categories, statuses, urgency)."""

from __future__ import annotations

from typing import Dict, Optional

LABELS: Dict[str, Dict[str, Dict[str, str]]] = {
    "category": {
        "plumbing": {"zh": "水管/漏水", "en": "plumbing"},
        "electrical": {"zh": "电路/照明", "en": "electrical"},
        "elevator": {"zh": "电梯", "en": "elevator"},
        "doors_locks": {"zh": "门窗/门锁", "en": "doors and locks"},
        "public_area": {"zh": "公共区域", "en": "public area"},
        "appliance": {"zh": "家电设备", "en": "appliance"},
        "other": {"zh": "其他", "en": "other"},
    },
    "status": {
        "open": {"zh": "待处理", "en": "open"},
        "assigned": {"zh": "已派单", "en": "assigned"},
        "in_progress": {"zh": "处理中", "en": "in progress"},
        "resolved": {"zh": "已解决", "en": "resolved"},
        "closed": {"zh": "已关闭", "en": "closed"},
    },
    "urgency": {
        "urgent": {"zh": "紧急", "en": "urgent"},
        "normal": {"zh": "一般", "en": "normal"},
    },
    # The repair form's fields, for "已更新电话：…" (keys are the form's slots).
    "field": {
        "unit": {"zh": "位置", "en": "place"},
        "phone": {"zh": "电话", "en": "phone"},
        "urgency": {"zh": "紧急程度", "en": "urgency"},
        "repair_description": {"zh": "问题描述", "en": "description"},
        "repair_category": {"zh": "类别", "en": "category"},
        "visit_time": {"zh": "上门时间", "en": "visit time"},
    },
    "type": {
        "repair": {"zh": "报修", "en": "repair"},
        "complaint": {"zh": "投诉", "en": "complaint"},
    },
}


def label(kind: str, code: Optional[str], language: str) -> str:
    """The display label of ``code`` (e.g. kind "status", code "open") in ``language``."""
    if not code:
        return "-"
    entry = LABELS.get(kind, {}).get(code)
    if entry is None:
        return code
    return entry.get(language) or entry["zh"]
