"""The staff assistant's replies, in Chinese and English (staff-facing: not domain.yml, which is the residents')."""

from __future__ import annotations

from typing import Dict

TEXTS: Dict[str, Dict[str, str]] = {
    "help": {
        "zh": "我可以帮您：代来电/来访业主登记报修（如“给3栋2单元502登记报修，厨房水管漏水，业主电话13812345678，不急”）；"
              "查询某栋未处理的报修（“5号楼还有哪些没处理的报修？”）；查工单状态（“BX-20261201-0001 现在什么状态”）；"
              "统计（“今天新增了多少投诉”）；回答规章制度和常见问题（先给出条款出处）。",
        "en": "I can: file a repair for a caller or walk-in (\"file a repair for building 3 unit 2 room 502, kitchen pipe "
              "leaking, phone 13812345678, not urgent\"); list open repairs in a building (\"open repairs in building 5\"); "
              "tell a ticket's status (\"status of BX-20261201-0001\"); count tickets (\"how many complaints today\"); "
              "answer regulation and FAQ questions (the article first).",
    },
    "draft": {
        "zh": "请核对报修信息，可直接修改，确认后登记：",
        "en": "Check the repair details (you can edit them), then file it:",
    },
    "draft_missing": {
        "zh": "还缺：{fields}。请在卡片里补充。",
        "en": "Still missing: {fields}. Fill them in on the card.",
    },
    "filed": {
        "zh": "已登记工单 {number}（渠道：{channel}，登记人：{creator}）。",
        "en": "Filed ticket {number} (channel: {channel}, filed by {creator}).",
    },
    "open_in_building": {
        "zh": "{building}号楼未处理的{kind}共 {count} 条：",
        "en": "{count} open {kind} in building {building}:",
    },
    "none_in_building": {
        "zh": "{building}号楼目前没有未处理的{kind}。",
        "en": "No open {kind} in building {building}.",
    },
    "more": {
        "zh": "（只列出最新的 {shown} 条，工单列表里按楼栋筛选可看全部）",
        "en": "(the newest {shown} shown; filter the ticket list by building for all)",
    },
    "status": {
        "zh": "{number}：{status}（{kind}，{category}，{place}）；负责人：{assignee}；最近更新：{updated}。",
        "en": "{number}: {status} ({kind}, {category}, {place}); assignee: {assignee}; last update: {updated}.",
    },
    "no_ticket": {
        "zh": "没有找到工单 {number}。",
        "en": "There is no ticket {number}.",
    },
    "count": {
        "zh": "{period}新增{kind} {count} 条（未处理 {open} 条）。",
        "en": "{period}: {count} new {kind} ({open} still open).",
    },
    "kb_answer": {
        "zh": "【{sources}】{answer}",
        "en": "[{sources}] {answer}",
    },
    "kb_abstain": {
        "zh": "知识库没有可靠的答案（最高相关度 {score}，低于阈值 {threshold}），不要凭印象答复；可以转相关负责人。",
        "en": "The knowledge base has no reliable answer (best match {score}, below the threshold {threshold}); "
              "do not answer from memory, refer it to the person in charge.",
    },
    "kb_down": {
        "zh": "知识库暂时无法回答：{message}",
        "en": "The knowledge base cannot answer right now: {message}",
    },
    "not_allowed": {
        "zh": "您的角色（{role}）不能登记工单，请联系客服或管理员。",
        "en": "Your role ({role}) cannot file tickets; ask an agent or an admin.",
    },
    "unassigned": {"zh": "未派单", "en": "unassigned"},
    "today": {"zh": "今天", "en": "Today"},
    "yesterday": {"zh": "昨天", "en": "Yesterday"},
    "week": {"zh": "近7天", "en": "Last 7 days"},
    "month": {"zh": "本月", "en": "This month"},
    "kind_repair": {"zh": "报修", "en": "repairs"},
    "kind_complaint": {"zh": "投诉", "en": "complaints"},
    "kind_all": {"zh": "工单", "en": "tickets"},
    "channel_phone": {"zh": "电话", "en": "phone"},
    "channel_walk-in": {"zh": "到访", "en": "walk-in"},
    "field_description": {"zh": "问题描述", "en": "description"},
    "field_place": {"zh": "位置", "en": "place"},
    "field_phone": {"zh": "电话", "en": "phone"},
    "field_category": {"zh": "类别", "en": "category"},
    "field_urgency": {"zh": "紧急程度", "en": "urgency"},
    "field_visit_time": {"zh": "上门时间", "en": "visit time"},
}


def text(key: str, language: str, **values: object) -> str:
    """The text ``key`` in ``language`` (Chinese unless ``en``), formatted with ``values``."""
    entry = TEXTS[key]
    template = entry["en"] if language == "en" else entry["zh"]
    return template.format(**values) if values else template
