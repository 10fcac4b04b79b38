"""Bilingual texts the desk and the gate send outside Rasa's responses."""

from __future__ import annotations

from typing import Dict, Optional

TEXTS: Dict[str, Dict[str, str]] = {
    "taken": {
        "zh": "客服{agent}已接入，请问有什么可以帮您？",
        "en": "{agent} from the property office has joined the conversation. How can I help?",
    },
    "resumed": {
        "zh": "人工客服已结束本次对话，邻里小助手回来啦 🏠 还有什么可以帮您？",
        "en": "The member of staff has ended the conversation; Linli, your assistant, is back 🏠 Anything else I can help with?",
    },
    "timeout": {
        "zh": "抱歉，目前没有客服人员可以接待您。需要为您登记回电吗？回复“是”，工作人员会尽快联系您。",
        "en": "Sorry, no member of staff is available right now. Would you like us to call you back? Reply \"yes\" and we will contact you soon.",
    },
    "callback_created": {
        "zh": "已为您登记回电，编号：{number}。工作人员会尽快联系您{phone}。",
        "en": "Your callback request is registered, number {number}. A member of staff will contact you soon{phone}.",
    },
    "callback_failed": {
        "zh": "抱歉，暂时无法登记回电，请稍后再试或直接拨打物业服务电话。",
        "en": "Sorry, the callback could not be registered right now. Please try again later or call the property office.",
    },
    "declined": {
        "zh": "好的。还有什么可以帮您的吗？",
        "en": "OK. Is there anything else I can help with?",
    },
    "nothing_pending": {
        "zh": "好的。请问有什么可以帮您？您可以报修、查询工单、投诉建议，或说“转人工”。",
        "en": "OK. What can I do for you? You can report a repair, check a ticket, make a complaint or say \"talk to a human\".",
    },
    "handoff_failed": {
        "zh": "抱歉，暂时无法转接人工客服，请稍后再试或直接拨打物业服务电话。",
        "en": "Sorry, I can't reach a member of staff right now. Please try again later or call the property office.",
    },
}


def text(key: str, language: Optional[str], **values: str) -> str:
    """The text ``key`` in ``language`` (Chinese when unknown), formatted with ``values``."""
    entry = TEXTS[key]
    return entry.get(language or "zh", entry["zh"]).format(**values)
