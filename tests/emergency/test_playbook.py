"""The emergency playbook: hazards found as residents report them, and not where they are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.emergency import detect_hazards, load_playbook
from bot.emergency.playbook import is_not_now


def hazard_ids(text: str) -> list:
    return [m.hazard.id for m in detect_hazards(text)]


@pytest.mark.parametrize(
    "text, hazard",
    [
        ("厨房好大一股煤气味", "gas"),
        ("家里有煤气味该怎么办", "gas"),
        ("闻到天然气的味道了", "gas"),
        ("I smell gas in the kitchen", "gas"),
        ("gas leak in flat 1203!!", "gas"),
        ("着火了", "fire"),
        ("楼道里冒烟了好大的烟", "fire"),
        ("there's smoke coming out of the stairwell", "fire"),
        ("my neighbour's flat is on fire", "fire"),
        ("我被困在3号楼电梯里了", "lift_trapped"),
        ("电梯困人了快来", "lift_trapped"),
        ("我儿子被关在电梯里出不来", "lift_trapped"),
        ("I'm stuck in the lift", "lift_trapped"),
        ("my daughter is trapped in the elevator", "lift_trapped"),
        ("水管爆了水漫出来了", "flooding"),
        ("家里被淹了", "flooding"),
        ("a pipe burst and water is everywhere", "flooding"),
        ("my flat is flooding", "flooding"),
        ("插座冒火花", "electrical"),
        ("电线烧起来了", "electrical"),
        ("the light switch sparks when I touch it", "electrical"),
        ("burning smell from the socket", "electrical"),
        ("有人晕倒了", "injury"),
        ("老人摔倒了起不来", "injury"),
        ("my mum fainted in the lobby", "injury"),
        ("someone fell down the stairs and is bleeding", "injury"),
        ("有人在撬我家门", "break_in"),
        ("家里进小偷了", "break_in"),
        ("someone is breaking into my flat", "break_in"),
        ("煤气味好浓 没标点 快点", "gas"),
    ],
)
def test_hazards_are_recognised_in_both_languages(text: str, hazard: str) -> None:
    assert hazard in hazard_ids(text)


@pytest.mark.parametrize(
    "text",
    [
        "没有煤气味，就是灶打不着火",
        "热水器打不着火",
        "如果电梯困人怎么办？",
        "万一着火了应该往哪跑",
        "what should I do if I smell gas?",
        "in case of fire where is the exit",
        "昨天电梯困人了你们怎么处理的",
        "fire drill next week?",
        "小区有灭火器吗",
        "电梯坏了",
        "the lift is broken",
        "漏水三天了",
        "the kitchen tap is leaking",
        "can I smoke in the lobby?",
        "my car is stuck in the garage",
        "no smoke, just the light is broken",
        "it's not flooding, just a drip",
        "饭烧焦了",
        "",
        "/affirm",
    ],
)
def test_no_emergency_where_there_is_none_now(text: str) -> None:
    assert hazard_ids(text) == []


def test_a_negation_in_another_clause_does_not_hide_a_hazard() -> None:
    assert hazard_ids("不是很急，但是水漫出来了") == ["flooding"]


def test_most_pressing_hazard_leads() -> None:
    # Sparks that smoke: the electrical advice (cut the power) comes first, fire is also named.
    assert hazard_ids("插座冒烟了")[:2] == ["electrical", "fire"]


def test_hypothetical_wording() -> None:
    assert is_not_now("如果着火了怎么办")
    assert not is_not_now("着火了怎么办")


def test_every_hazard_has_advice_numbers_and_both_languages() -> None:
    playbook = load_playbook()
    assert playbook.duty_phone
    for hazard in (*playbook.hazards, playbook.generic):
        assert hazard.advice["zh"] and hazard.advice["en"], hazard.id
        assert hazard.label["zh"] and hazard.label["en"], hazard.id
        for key in hazard.numbers:
            assert key in playbook.numbers, (hazard.id, key)
    numbers = " ".join(playbook.number_lines([playbook.hazard("lift_trapped")], "zh"))
    assert "96333" in numbers and playbook.duty_phone in numbers


def test_the_duty_phone_is_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_DUTY_PHONE", "021-5555 0000")
    assert load_playbook().duty_phone == "021-5555 0000"


def test_a_company_can_use_its_own_playbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Path(load_playbook.__globals__["DEFAULT_PATH"]).read_text(encoding="utf-8")
    own = tmp_path / "playbook.yml"
    own.write_text(source.replace('"0571-8765 4300"', '"400-123-4567"').replace(
        "- id: gas\n", "- id: gas\n    # edited by the property company\n"), encoding="utf-8")
    monkeypatch.setenv("LINLI_EMERGENCY_PLAYBOOK", str(own))
    assert load_playbook().duty_phone == "400-123-4567"


@pytest.mark.parametrize("text, hazard", [
    ("我家煤汽味好重啊怎么办", "gas"),          # typo 汽
    ("厨房有很重的 gas 味道", "gas"),            # mixed language
    ("电梯停在半中间 里面有个老人出不来", "lift_trapped"),
    ("车库进水了 水已经没过轮子", "flooding"),
    ("我爸叫了半天没反应", "injury"),
])
def test_how_people_really_say_it(text: str, hazard: str) -> None:
    assert hazard in hazard_ids(text)


@pytest.mark.parametrize("text", ["电梯里有人乱贴广告", "电梯按钮按了没反应", "刷卡没反应", "the gas bill is too high",
                                  "not an emergency, help me fix the tap"])
def test_everyday_words_are_no_hazard(text: str) -> None:
    assert hazard_ids(text) == []


def test_cooking_fumes_are_no_fire() -> None:
    assert hazard_ids("楼下天天烧烤 油烟太大了") == []
