"""Reading the resident's description: category, urgency, what is a description."""

import pytest

from bot.tickets.triage import clean_description, infer_category, infer_urgency, normalise_category, normalise_urgency


@pytest.mark.parametrize(
    "text, category",
    [
        ("电梯坏了", "elevator"),  # before "电" (electrical)
        ("楼道灯不亮", "public_area"),  # before "灯"
        ("热水器打不着火", "appliance"),
        ("门锁坏了", "doors_locks"),
        ("马桶堵了", "plumbing"),
        ("插座没电", "electrical"),
        ("my AC is broken", "appliance"),
        ("the light in my back room is out", "electrical"),  # "ac" inside "back" is no AC
        ("楼上太吵了", None),
    ],
)
def test_infer_category(text: str, category: str) -> None:
    assert infer_category(text) == category


@pytest.mark.parametrize(
    "answer, category",
    [("plumbing", "plumbing"), ("家电设备", "appliance"), ("门窗/门锁", "doors_locks"),
     ("Doors and locks", "doors_locks"), ("电梯", "elevator"), ("3", "elevator"), ("其它", "other"), ("嗯", None)],
)
def test_normalise_category_accepts_codes_labels_and_numbers(answer: str, category: str) -> None:
    assert normalise_category(answer) == category


def test_urgency() -> None:
    assert infer_urgency("有人被困在电梯里") == "urgent"
    assert infer_urgency("马桶堵了 不急") == "normal"
    assert infer_urgency("水龙头滴水") is None
    assert [normalise_urgency(a) for a in ("urgent", "紧急", "不紧急", "no rush", "?")] == [
        "urgent", "urgent", "normal", "normal", None]


def test_description_needs_more_than_a_request_to_repair() -> None:
    assert clean_description("我要报修") is None
    assert clean_description("I want to report a repair") is None
    assert clean_description("3栋2单元502卫生间漏水了，电话13812345678") == "卫生间漏水了"
    assert clean_description("the kitchen sink is leaking") == "the kitchen sink is leaking"


def test_labels_of_removed_units_and_numbers_go_with_them() -> None:
    assert clean_description("My kitchen tap is leaking, unit 3-1202, phone 13812345678") == \
        "My kitchen tap is leaking"
    assert clean_description("房号3-1202，电话13812345678，厨房水管爆了") == "厨房水管爆了"
    # a room that is not a label stays
    assert clean_description("no power in the living room") == "no power in the living room"


def test_coming_over_is_not_a_door() -> None:
    assert infer_category("家里有东西坏了，需要师傅上门看看") is None
    assert infer_category("单元门关不上了") == "doors_locks"
