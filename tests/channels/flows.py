"""Drive a repair report to its confirmation question, whatever the bot asks first."""

from __future__ import annotations

from typing import Callable

ANSWERS = [
    (("房屋地址", "Which flat", "什么位置", "Where is"), "3栋2单元502"),
    (("哪一类", "Which kind"), "水管漏水"),
    (("紧急吗", "Is it urgent"), "不紧急"),
    (("联系电话", "contact phone"), "13812345678"),
    (("描述一下问题", "describe the problem"), "厨房水管漏水"),
    (("上门时间", "visit"), "随时"),
]
CONFIRM = ("请确认报修信息", "Please confirm your repair request")


def fill_repair_form(say: Callable[[str], str], first_reply: str, max_turns: int = 8) -> str:
    """Answer the repair form's questions until it asks for confirmation; returns that question."""
    reply = first_reply
    for _ in range(max_turns):
        if any(marker in reply for marker in CONFIRM):
            return reply
        answer = next((a for markers, a in ANSWERS if any(m in reply for m in markers)), None)
        assert answer is not None, f"unexpected question in the repair form: {reply!r}"
        reply = say(answer)
    raise AssertionError(f"the repair form did not reach confirmation; last reply: {reply!r}")
