"""Is a message a question? Shared by the NLU components and the form actions.

A resident's answer to the bot's question is seldom phrased as a question, so
forms and the report detector tell "物业电话多少？" (a question for the knowledge
base) from "5栋1203" (an answer). "不知道几号" (I don't know) and "啥？" (say
that again?) are not questions for the knowledge base.
"""

from __future__ import annotations

import re

# "咋办", "多久", and a final 不 after a verb ("收费不", "要预约不": 收不收费, 要不要预约).
_QUESTION_ZH = re.compile(r"(吗|呢|么)[？?。！!\s]*$|(?<=[\u4e00-\u9fff]{2})不[？?\s]*$|多少|多久|几点|几号|什么时候|怎么|咋|如何|哪里|哪儿|在哪|什么|是否|能不能|可不可以|可以.{0,8}吗|有没有|为什么|谁")
_QUESTION_EN = re.compile(
    r"^\W*(what|when|where|how|why|who|which|can|could|is|are|do|does|will|would|should|may)\b", re.IGNORECASE)
_DONT_KNOW = re.compile(
    r"^\W*(不知道|不清楚|不记得|记不清|忘了|搞不清|说不清|不确定|i don'?t know|dunno|no idea|not sure|i forgot|can'?t remember)",
    re.IGNORECASE)


def is_question(text: str) -> bool:
    """The message asks something (a question mark, a question word, a final 吗/呢).

    "不知道几号" is an answer ("I don't know"), and "啥？" asks to hear the question
    again: neither is a question for the knowledge base.
    """
    if not text or text.startswith("/") or _DONT_KNOW.search(text):
        return False
    if len(re.sub(r"[\W_]+", "", text)) <= 2:
        return False
    return "?" in text or "？" in text or bool(_QUESTION_ZH.search(text) or _QUESTION_EN.search(text))


def dont_know(text: str) -> bool:
    """"不知道", "不记得了", "dunno": the resident cannot answer."""
    return bool(_DONT_KNOW.search(text))
