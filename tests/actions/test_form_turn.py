"""Reading a message in the middle of a form: cancel, yes, change, question."""

from __future__ import annotations

import pytest

from actions.form_turn import description_change, is_cancel, is_edit_request, is_question, is_yes, named_fields

NO_INTENT: dict = {}


@pytest.mark.parametrize("text", ["算了", "不用了", "取消", "算了不报了", "不修了", "never mind", "Cancel", "forget it",
                                  "nah forget about it", "/stop", "stop", "不用了谢谢", "我不想报了"])
def test_cancel_phrases(text: str) -> None:
    assert is_cancel(text, NO_INTENT)


@pytest.mark.parametrize("text", ["取消门禁卡后要怎么重新办理？我家的卡丢了好几天了", "5栋1203", "不急", "明天下午"])
def test_not_cancel(text: str) -> None:
    assert not is_cancel(text, NO_INTENT)


def test_a_confident_stop_intent_is_a_cancel() -> None:
    assert is_cancel("我看还是先这样吧", {"name": "stop", "confidence": 0.9})
    assert not is_cancel("我看还是先这样吧", {"name": "stop", "confidence": 0.3})


@pytest.mark.parametrize("text", ["物业电话多少？", "物业几点下班", "维修要收费吗", "what's the office phone number?",
                                  "when does the office close", "can I pay by wechat"])
def test_questions(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", ["5栋1203", "13812345678", "不急", "厨房水管漏水了", "tomorrow afternoon", "/affirm"])
def test_not_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize("text", ["是", "是的", "确认", "ok", "Yes", "yep", "/affirm", "好的", "yes, submit it",
                                  "Yes please", "ok, go ahead", "是的，提交吧", "确认无误，提交", "嗯嗯", "好的谢谢",
                                  "that's right, thanks"])
def test_yes(text: str) -> None:
    assert is_yes(text, NO_INTENT)


@pytest.mark.parametrize("text", ["yes but the phone is wrong", "是的，不过电话改一下", "not right", "no", "不对",
                                  "yesterday", "yes it is not", "好的，位置是5栋1203", "submit a complaint"])
def test_not_a_plain_yes(text: str) -> None:
    assert not is_yes(text, NO_INTENT)


@pytest.mark.parametrize("text", ["不对", "no", "修改", "change", "wrong", "/deny", "不对，要改"])
def test_edit_requests(text: str) -> None:
    assert is_edit_request(text, NO_INTENT) and not is_yes(text, NO_INTENT)


def test_named_fields_and_new_descriptions() -> None:
    assert named_fields("改一下电话") == {"phone"}
    assert "unit" in named_fields("地址错了")
    assert named_fields("change the address") == {"unit"}
    assert description_change("问题是马桶堵了") == "马桶堵了"
    assert description_change("the problem is actually the shower drain") == "the shower drain"
    assert description_change("电话是13812345678") is None


def test_dont_know_and_what_are_answers_not_questions() -> None:
    assert not is_question("不知道几号")
    assert not is_question("啥？")
    assert not is_question("dunno, you tell me?")
    assert is_question("快递柜在哪儿来着")


def test_small_talk_needs_its_words() -> None:
    from actions.form_turn import is_small_talk

    assert is_small_talk("你好", {"name": "greet"})
    assert not is_small_talk("就在我家啊", {"name": "greet"})
    assert is_small_talk("谢谢啦", {"name": "thank"})
    assert is_small_talk("查一下工单", {"name": "check_ticket"})
