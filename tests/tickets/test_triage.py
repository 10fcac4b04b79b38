"""Reading the resident's description: category, urgency, description, problems, visit time."""

import pytest

from bot.tickets.triage import (
    clean_description,
    extract_visit_time,
    infer_category,
    infer_urgency,
    normalise_category,
    normalise_urgency,
    split_problems,
)


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


# ---------------------------------------------------------------- categories of public places
@pytest.mark.parametrize(
    "text, category",
    [
        ("楼道灯不亮", "public_area"),
        ("3楼楼道的感应灯坏了", "public_area"),
        ("the hallway light is out", "public_area"),
        ("the light in the stairwell is broken", "public_area"),
        ("车库的灯不亮", "public_area"),
        ("car park lights are off", "public_area"),
        ("客厅灯不亮", "electrical"),
        ("卧室的灯闪", "electrical"),
        ("the bedroom light is flickering", "electrical"),
    ],
)
def test_public_lights_are_public_area_and_flat_lights_electrical(text: str, category: str) -> None:
    assert infer_category(text) == category


# ---------------------------------------------------------------- urgency
@pytest.mark.parametrize(
    "text",
    [
        # negations, hedges and degrees in front of "急"
        "不太急", "不是很急", "不算急", "不着急", "没那么急", "不怎么急", "也不是特别急", "其实不急", "没有很急",
        "不用太着急", "不是特别紧急", "不算太急", "暂时不急", "不急，慢慢修", "没事不着急", "马桶堵了 不急",
        "漏水不严重", "不用马上来", "不太緊急",
        # it can wait
        "可以等", "慢慢来", "有空再来", "有时间再弄", "等你们有空再来", "晚点也行", "急不急都行",
        # English
        "not really urgent", "not that urgent", "not very urgent", "isn't urgent", "it's not urgent at all",
        "I dont think its urgent", "no rush", "no hurry", "it can wait", "whenever is fine", "not an emergency",
        "take your time", "no need to rush", "doesn't need to be fixed today", "not a big deal",
        "it's fine to wait", "nah not urgent",
        # the resident's statement beats what the description implies
        "大量漏水 不过不急",
    ],
)
def test_negated_or_hedged_urgency_is_normal(text: str) -> None:
    assert infer_urgency(text) == "normal"


@pytest.mark.parametrize(
    "text",
    [
        "急", "很急", "挺急的", "急死了", "特别急", "非常紧急", "有点急", "比较急", "急急急", "很着急", "十万火急",
        "马上来", "赶紧来", "尽快", "越快越好", "请立刻派人", "不能等", "等不了",
        "urgent", "it's urgent after all", "asap", "pretty urgent", "quite urgent", "kind of urgent", "really urgent",
        "emergency", "come right away", "as soon as possible", "please hurry", "can't wait",
        # descriptions that imply urgency
        "卫生间大量漏水", "水漫出来了", "全家停电了", "漏水很严重", "有人被困在电梯里", "插座冒烟了", "厨房有煤气味",
        "water is pouring from the ceiling", "the pipe burst", "sparks coming out of the socket", "I smell gas",
        "someone is stuck in the lift",
        # the later statement wins; danger always wins
        "不急…算了还是挺急的", "not urgent… actually it's urgent", "不急 但是有人被困在电梯里",
        # a negation does not reach past its clause
        "not working, urgent please",
    ],
)
def test_urgency_and_its_degrees_are_urgent(text: str) -> None:
    assert infer_urgency(text) == "urgent"


@pytest.mark.parametrize(
    "text",
    ["水龙头滴水", "the tap drips", "灯不亮", "hello", "急不急", "is it urgent?", "门关不上", "区别不大", "the window is stuck", ""],
)
def test_no_word_about_urgency_is_none(text: str) -> None:
    assert infer_urgency(text) is None


@pytest.mark.parametrize(
    "answer, urgency",
    [
        ("urgent", "urgent"), ("normal", "normal"), ("/urgent", "urgent"), ("1", "urgent"), ("2", "normal"),
        # yes/no to "is it urgent?"
        ("是", "urgent"), ("是的", "urgent"), ("对", "urgent"), ("嗯", "urgent"), ("yes", "urgent"),
        ("yes please", "urgent"), ("yeah", "urgent"), ("Yes!", "urgent"),
        ("不是", "normal"), ("不", "normal"), ("否", "normal"), ("还好", "normal"), ("no", "normal"),
        ("nope", "normal"), ("nah", "normal"), ("not really", "normal"), ("No.", "normal"),
        # free answers
        ("是的很急", "urgent"), ("不是，可以等", "normal"), ("不太急", "normal"), ("pretty urgent", "urgent"),
        ("紧急", "urgent"), ("不紧急", "normal"), ("no rush", "normal"), ("?", None), ("明天吧", None),
    ],
)
def test_normalise_urgency_answers(answer: str, urgency: str) -> None:
    assert normalise_urgency(answer) == urgency


# ---------------------------------------------------------------- descriptions
@pytest.mark.parametrize(
    "text, description",
    [
        # addresses in every notation, with their labels
        ("我是5栋1203的，马桶堵了", "马桶堵了"),
        ("我家在五号楼二单元五零二 厨房下水道堵了", "厨房下水道堵了"),
        ("卫生间漏水在3栋2单元502", "卫生间漏水"),
        ("3栋2单元502的业主，家里停电了", "家里停电了"),
        ("502 toilet blocked", "toilet blocked"),
        ("Building 5 room 1203. The toilet is blocked.", "The toilet is blocked"),
        ("please help, water is coming through the ceiling, flat 1203 building 5", "water is coming through the ceiling"),
        ("hi there, I'm the resident of flat 1203 building 5, the shower is broken", "the shower is broken"),
        # the public place stays, its building goes
        ("3号楼1单元楼道灯不亮", "楼道灯不亮"),
        ("楼道灯不亮", "楼道灯不亮"),
        ("电梯坏了 5号楼", "电梯坏了"),
        ("the hallway light in building 6 is out", "the hallway light is out"),
        ("the lift in block 5 is broken", "the lift is broken"),
        ("stairwell of building 2 light broken", "stairwell light broken"),
        ("3栋楼梯间的灯坏了，我住3栋2单元502，电话13912345678", "楼梯间的灯坏了"),
        # phones with their labels
        ("师傅你好 热水器不出热水了 电话138 1234 5678", "热水器不出热水了"),
        ("Hello, the bathroom light is flickering. My number is +86 138 1234 5678. Thanks!",
         "the bathroom light is flickering"),
        ("my phone number is 13812345678 and the toilet is blocked", "the toilet is blocked"),
        # greetings, "I want to report", politeness
        ("你好，我要报修，5栋1203卫生间马桶堵了，麻烦尽快派人来修一下，谢谢", "卫生间马桶堵了"),
        ("麻烦帮我看一下，阳台门关不上", "阳台门关不上"),
        ("麻烦师傅来看一下 马桶堵了", "马桶堵了"),
        ("在吗 师傅 我家马桶堵了 你们能来修一下吗", "我家马桶堵了"),
        ("可以派个师傅过来吗 热水器打不着火", "热水器打不着火"),
        ("物业你好，3号楼电梯又坏了，麻烦派人来看看", "电梯又坏了"),
        ("我在5号楼，楼道灯不亮", "楼道灯不亮"),
        ("7號樓2單元601 馬桶堵了", "馬桶堵了"),
        ("报修：厨房水龙头漏水", "厨房水龙头漏水"),
        ("Hi, I'd like to report a repair. My toilet is blocked, I'm in building 5 room 1203", "My toilet is blocked"),
        ("I want to report that my kitchen tap is leaking", "my kitchen tap is leaking"),
        ("I want to report a repair: the kitchen tap is leaking", "the kitchen tap is leaking"),
        ("Hello, I need a plumber, my sink is clogged", "my sink is clogged"),
        ("hello there, the hallway light is out, can you send someone to fix it please", "the hallway light is out"),
        ("the toilet is blocked, please send someone asap", "the toilet is blocked"),
        # address fragments the resident has not finished
        ("the toilet is leaking, I'm in", "the toilet is leaking"),
        ("hey there my sink is clogged I live in", "my sink is clogged"),
        ("厨房水管漏水 我住在", "厨房水管漏水"),
        ("卫生间漏水 位置是", "卫生间漏水"),
        ("the shower is leaking at", "the shower is leaking"),
        # words that only look like fragments stay
        ("水龙头关不住了", "水龙头关不住了"),
        ("现在厨房没水了", "现在厨房没水了"),
        ("水管漏水而且很急", "水管漏水而且很急"),
    ],
)
def test_descriptions_are_what_staff_need_to_read(text: str, description: str) -> None:
    assert clean_description(text) == description


@pytest.mark.parametrize(
    "text",
    ["我要报修", "I want to report a repair", "hi", "hello", "502", "您好 在吗", "谢谢", "thanks", "5栋1203",
     "Building 5, room 1203", "电话13812345678", "我住在", "师傅", "", "/affirm"],
)
def test_nothing_left_to_describe_is_none(text: str) -> None:
    assert clean_description(text) is None


# ---------------------------------------------------------------- several problems
@pytest.mark.parametrize(
    "description, problems",
    [
        ("the toilet is blocked and the hallway light is out", ["the toilet is blocked", "the hallway light is out"]),
        ("马桶堵了，还有楼道灯也不亮", ["马桶堵了", "楼道灯也不亮"]),
        ("水龙头漏水 另外阳台门关不上", ["水龙头漏水", "阳台门关不上"]),
        ("马桶堵了，楼道灯也不亮", ["马桶堵了", "楼道灯也不亮"]),
        ("马桶堵了 楼道灯不亮", ["马桶堵了", "楼道灯不亮"]),
        ("热水器坏了；厨房插座没电", ["热水器坏了", "厨房插座没电"]),
        ("the tap is leaking. also the bedroom window won't close", ["the tap is leaking", "the bedroom window won't close"]),
        ("the fridge is broken, plus the kitchen light flickers", ["the fridge is broken", "the kitchen light flickers"]),
        ("水龙头漏水，马桶漏水", ["水龙头漏水", "马桶漏水"]),  # two things of one category
        ("厨房水管漏水、卫生间地漏堵了", ["厨房水管漏水", "卫生间地漏堵了"]),
        ("电梯坏了 楼道灯也不亮 还有垃圾房很臭", ["电梯坏了", "楼道灯也不亮", "垃圾房很臭"]),
        ("门锁坏了还有窗户关不上", ["门锁坏了", "窗户关不上"]),
        # one problem, however it is told
        ("水管漏水而且很急", ["水管漏水而且很急"]),
        ("卫生间漏水，水流到客厅了", ["卫生间漏水，水流到客厅了"]),
        ("水管漏水，水管爆了", ["水管漏水，水管爆了"]),
        ("马桶堵了，很急，麻烦快点", ["马桶堵了，很急，麻烦快点"]),
        ("the sink is leaking and it's getting worse", ["the sink is leaking and it's getting worse"]),
        ("the bedroom light and the kitchen light are both out", ["the bedroom light and the kitchen light are both out"]),
        ("空调不制冷 还有点漏水", ["空调不制冷 还有点漏水"]),
        ("门锁坏了 打不开", ["门锁坏了 打不开"]),
        ("the kitchen tap and the pipe under the sink are leaking", ["the kitchen tap and the pipe under the sink are leaking"]),
        ("hot and cold water taps are both dripping", ["hot and cold water taps are both dripping"]),
        ("the light is flickering and makes noise", ["the light is flickering and makes noise"]),
        ("", []),
    ],
)
def test_split_problems(description: str, problems: list) -> None:
    assert split_problems(description) == problems


# ---------------------------------------------------------------- visit time
@pytest.mark.parametrize(
    "text, when",
    [
        ("明天下午都在家", "明天下午"),
        ("周六上午", "周六上午"),
        ("工作日晚上6点以后", "工作日晚上6点以后"),
        ("随时都可以", "随时"),
        ("什么时候都行", "随时"),
        ("今晚8点前", "今晚8点前"),
        ("周末都可以", "周末"),
        ("明天上午10点左右", "明天上午10点左右"),
        ("下午三点以后有人", "下午三点以后"),
        ("马桶堵了，明天上午来修吧", "明天上午"),
        ("3号楼2单元502 明天下午在家", "明天下午"),
        ("明天", "明天"),
        ("after 6pm on weekdays", "after 6pm on weekdays"),
        ("anytime", "anytime"),
        ("anytime is fine", "anytime"),
        ("this weekend", "this weekend"),
        ("tomorrow morning", "tomorrow morning"),
        ("tomorrow works", "tomorrow"),
        ("I'm free after 6", "after 6"),
        ("between 2 and 4pm tomorrow", "between 2 and 4pm tomorrow"),
        ("tonight after 8pm please", "tonight after 8pm"),
        ("any time after 5", "any time after 5"),
        ("tomorrow between 9 and 12", "tomorrow between 9 and 12"),
        ("I'm home all day tomorrow", "all day tomorrow"),
        ("明天全天都在", "明天全天"),
        ("明天上午9点到11点", "明天上午9点到11点"),
        ("周一到周五晚上", "周一到周五晚上"),
        ("请周六上午来", "周六上午"),
        # the time the resident is not there is skipped
        ("工作日白天家里没人，周末可以", "周末"),
        ("明天上午不在家，下午可以", "下午"),
        ("weekdays I'm at work, saturday is fine", "saturday"),
    ],
)
def test_visit_times_as_the_resident_said_them(text: str, when: str) -> None:
    assert extract_visit_time(text) == when


@pytest.mark.parametrize(
    "text",
    [
        "漏水三天了", "漏了两天了", "it has been leaking for 2 days", "今天早上发现漏水", "since yesterday the light is out",
        "every morning the tap drips", "有一点漏水", "快一点来", "随时可能爆", "5号楼1203", "3号楼电梯坏了", "马桶堵了",
        "12月5号1203", "昨天晚上停电了", "晚上灯不亮", "每天晚上都漏水", "it started yesterday morning",
        "the light went out this morning", "漏水两个小时了", "",
    ],
)
def test_durations_and_past_events_are_not_visit_times(text: str) -> None:
    assert extract_visit_time(text) is None


@pytest.mark.parametrize("text, expected", [
    ("the hallway light stays on", "the hallway light stays on"),   # "on" is part of the problem
    ("bathroom fan won't turn on", "bathroom fan won't turn on"),
    ("白天也在滴水", "白天也在滴水"),                                   # 在 inside a clause stays
    ("厨房漏水，在5栋1203", "厨房漏水"),                                # a dangling 在 goes with the address
])
def test_only_dangling_address_words_are_cut(text: str, expected: str) -> None:
    assert clean_description(text) == expected
