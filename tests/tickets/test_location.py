"""Where the problem is: flats in every notation, public places, and what is missing."""

from typing import Optional

import pytest

from bot.tickets.location import Location, address_spans, parse_location


@pytest.mark.parametrize(
    "text, building, entrance, room, canonical",
    [
        ("5栋1203", "5", None, "1203", "5栋1203"),
        ("5号楼1单元1203室", "5", "1", "1203", "5栋1单元1203"),
        ("5幢1203", "5", None, "1203", "5栋1203"),
        ("A座1203", "A", None, "1203", "A栋1203"),
        ("b栋2单元1101", "B", "2", "1101", "B栋2单元1101"),
        ("5-1-1203", "5", "1", "1203", "5栋1单元1203"),
        ("B5-1203", "5", None, "1203", "5栋1203"),
        ("5#1203", "5", None, "1203", "5栋1203"),
        ("5#1-1203", "5", "1", "1203", "5栋1单元1203"),
        ("5栋1-1203", "5", "1", "1203", "5栋1单元1203"),
        ("5号楼1203", "5", None, "1203", "5栋1203"),
        ("3栋2单元502", "3", "2", "502", "3栋2单元502"),
        ("5 栋 1 单元 1203", "5", "1", "1203", "5栋1单元1203"),
        ("５栋１２０３", "5", None, "1203", "5栋1203"),  # full-width digits from a Chinese keyboard
        ("7號樓2單元601", "7", "2", "601", "7栋2单元601"),  # traditional characters
        ("5号楼2单元12楼1203", "5", "2", "1203", "5栋2单元1203"),  # the floor is said too
        # Chinese numerals, positional and digit by digit, as voice input writes them
        ("三号楼二单元502", "3", "2", "502", "3栋2单元502"),
        ("三号楼二单元五零二", "3", "2", "502", "3栋2单元502"),
        ("十号楼三单元八零一室", "10", "3", "801", "10栋3单元801"),
        ("二十三栋幺二零三", "23", None, "1203", "23栋1203"),
        ("十二栋一千二百零三", "12", None, "1203", "12栋1203"),
        # English in any order, with or without labels
        ("Building 5, room 1203", "5", None, "1203", "5栋1203"),
        ("building 5 unit 1203", "5", None, "1203", "5栋1203"),  # a 4-digit unit is the room
        ("building 5 unit 1 room 203", "5", "1", "203", "5栋1单元203"),
        ("Bldg 12, unit 2, room 1803", "12", "2", "1803", "12栋2单元1803"),
        ("Block 5 #12-03", "5", None, "1203", "5栋1203"),  # floor-unit notation
        ("Blk 12 #05-11", "12", None, "511", "12栋511"),
        ("Flat 1203, Building 5", "5", None, "1203", "5栋1203"),
        ("Tower 2 Apt 1501", "2", None, "1501", "2栋1501"),
        ("room 502 building 3", "3", None, "502", "3栋502"),
        ("apartment 502 in building 3", "3", None, "502", "3栋502"),
        ("building five room 1203", "5", None, "1203", "5栋1203"),
        ("bldg B rm 1203", "B", None, "1203", "B栋1203"),
        ("bldg5 rm1203", "5", None, "1203", "5栋1203"),
        # inside sentences
        ("我住7号楼2单元601", "7", "2", "601", "7栋2单元601"),
        ("我家在五号楼二单元五零二 厨房下水道堵了", "5", "2", "502", "5栋2单元502"),
        ("我是5栋1203的，马桶堵了", "5", None, "1203", "5栋1203"),
        ("Hi, my toilet is blocked, I'm in 5-1203", "5", None, "1203", "5栋1203"),
        ("13栋1302 电话13812345678", "13", None, "1302", "13栋1302"),
    ],
)
def test_flats_in_every_notation(
    text: str, building: str, entrance: Optional[str], room: str, canonical: str
) -> None:
    location = parse_location(text)
    assert location == Location("flat", building=building, entrance=entrance, room=room)
    assert location.complete and location.canonical() == canonical


@pytest.mark.parametrize(
    "text, building, entrance, area, canonical",
    [
        ("3号楼1单元楼道", "3", "1", "楼道", "3号楼1单元楼道"),
        ("3栋楼梯间", "3", None, "楼梯间", "3号楼楼梯间"),
        ("5号楼电梯", "5", None, "电梯", "5号楼电梯"),
        ("5号楼的电梯又坏了", "5", None, "电梯", "5号楼电梯"),
        ("3号楼大堂", "3", None, "大堂", "3号楼大堂"),
        ("2号楼天台漏水", "2", None, "天台", "2号楼天台"),
        ("3号楼2单元门关不上", "3", "2", "单元门", "3号楼2单元门"),
        ("5号楼2单元3楼楼道", "5", "2", "3层楼道", "5号楼2单元3层楼道"),
        ("Building 3 lobby", "3", None, "大堂", "3号楼大堂"),
        ("the lift in block 5", "5", None, "电梯", "5号楼电梯"),
        ("the elevator in building 7 is stuck", "7", None, "电梯", "7号楼电梯"),
        ("stairwell of building 2", "2", None, "楼道", "2号楼楼道"),
        ("hallway on the 3rd floor of building 6", "6", None, "3层楼道", "6号楼3层楼道"),
        ("rooftop of building 4", "4", None, "天台", "4号楼天台"),
        ("the lift of tower B", "B", None, "电梯", "B栋电梯"),
        # the building comes from the resident's own address elsewhere in the message
        ("我住5栋1203，电梯坏了", "5", None, "电梯", "5号楼电梯"),
        ("the hallway light is out, I live in building 8 unit 2 room 301", "8", "2", "楼道", "8号楼2单元楼道"),
    ],
)
def test_building_scoped_public_places(
    text: str, building: str, entrance: Optional[str], area: str, canonical: str
) -> None:
    location = parse_location(text)
    assert location == Location("public", building=building, entrance=entrance, area=area)
    assert location.complete and location.canonical() == canonical


@pytest.mark.parametrize(
    "text, area",
    [
        ("地下车库B区", "地下车库B区"),
        ("车库", "地下车库"),
        ("地库B2", "地下车库B2层"),
        ("负一层车库的灯坏了", "地下车库B1层"),
        ("地下车库负二层", "地下车库B2层"),
        ("car park level B2", "地下车库B2层"),
        ("underground car park zone C", "地下车库C区"),
        ("parking lot", "停车场"),
        ("东门", "东门"),
        ("南门", "南门"),
        ("小区东门的道闸坏了", "东门"),
        ("北大门", "北门"),
        ("小区大门", "小区大门"),
        ("main gate", "小区大门"),
        ("east gate", "东门"),
        ("north-east gate", "东北门"),
        ("2号门", "2号门"),
        ("playground", "儿童游乐场"),
        ("儿童游乐场的滑梯坏了", "儿童游乐场"),
        ("垃圾房很臭", "垃圾房"),
        ("the bin room smells", "垃圾房"),
        ("花园", "小区花园"),
        ("绿化带", "绿化带"),
        ("健身房", "健身房"),
        ("the gym", "健身房"),
        ("会所", "会所"),
        ("会所二楼", "会所2层"),
        ("物业中心", "物业中心"),
        ("property office", "物业中心"),
        ("消防通道被堵了", "消防通道"),
        ("fire exit", "消防通道"),
        ("自行车棚", "自行车棚"),
        ("bike shed", "自行车棚"),
        ("岗亭", "岗亭"),
        ("security booth", "岗亭"),
        ("快递柜打不开", "快递柜"),
        ("南门外的路灯坏了", "南门"),
        ("车库的灯坏了，3号楼大堂也是", "地下车库"),  # the first place that is complete
    ],
)
def test_community_wide_places_need_no_building(text: str, area: str) -> None:
    location = parse_location(text)
    assert location is not None and location.kind == "public"
    assert location.area == area and location.building is None
    assert location.complete and location.canonical() == area


def test_a_community_place_keeps_a_building_only_when_named_with_it() -> None:
    assert parse_location("5号楼东门") == Location("public", building="5", area="东门")
    # the resident's flat is not part of the gate
    assert parse_location("5栋1203 东门道闸坏了") == Location("public", area="东门")


@pytest.mark.parametrize(
    "text, kind, missing",
    [
        # public places that cannot be found without their building
        ("楼道", "public", "building"),
        ("楼道灯不亮", "public", "building"),
        ("3楼楼道灯不亮", "public", "building"),
        ("楼梯扶手松了", "public", "building"),
        ("电梯里有人被困", "public", "building"),
        ("大堂", "public", "building"),
        ("天台", "public", "building"),
        ("屋顶漏水", "public", "building"),
        ("单元门坏了", "public", "building"),
        ("1单元楼道", "public", "building"),
        ("the lift", "public", "building"),
        ("the light in the stairwell is broken", "public", "building"),
        # a room without its building
        ("502", "flat", "building"),
        ("1203室", "flat", "building"),
        ("五零二", "flat", "building"),
        ("我住502", "flat", "building"),
        ("房间号是502", "flat", "building"),
        ("Room 1203", "flat", "building"),
        ("apt 1203", "flat", "building"),
        ("#12-03", "flat", "building"),
        ("unit 2", "flat", "building"),
        # a building without its room
        ("5号楼", "flat", "room"),
        ("5栋", "flat", "room"),
        ("A座", "flat", "room"),
        ("我住在三号楼", "flat", "room"),
        ("五号楼二单元", "flat", "room"),
        ("building 5", "flat", "room"),
        ("in block 3", "flat", "room"),
        ("tower A", "flat", "room"),
    ],
)
def test_ambiguous_answers_say_what_is_missing(text: str, kind: str, missing: str) -> None:
    location = parse_location(text)
    assert location is not None
    assert (location.kind, location.missing, location.complete) == (kind, missing, False)


def test_partial_answers_keep_what_was_said() -> None:
    assert parse_location("1203室") == Location("flat", room="1203", missing="building")
    assert parse_location("五号楼二单元") == Location("flat", building="5", entrance="2", missing="room")
    assert parse_location("1单元楼道") == Location("public", entrance="1", area="楼道", missing="building")


@pytest.mark.parametrize(
    "text",
    [
        "", "我家", "楼上", "楼下太吵了", "我家走廊灯坏了", "my hallway light is out", "我家屋顶漏水",
        "13812345678", "+86 138 1234 5678", "021-12345678", "BX-20261124-0001", "bx20261124-0001",
        "2026-11-24", "11月24日", "明天下午3点", "10:30", "9pm", "漏水三天了", "水管漏了100多升",
        "费用100-200元", "有一栋楼停电了", "三楼", "客厅灯不亮", "马桶堵了", "hello", "it has been leaking for 2 days",
    ],
)
def test_texts_without_a_location(text: str) -> None:
    assert parse_location(text) is None


def test_address_spans_leave_the_public_place_in_the_text() -> None:
    text = "3号楼1单元楼道灯不亮"
    assert [text[s:e] for s, e in address_spans(text)] == ["3号楼", "1单元"]
    text = "我住5栋1203，电梯坏了"
    assert [text[s:e] for s, e in address_spans(text)] == ["5栋1203"]


@pytest.mark.parametrize(
    "location, zh, en",
    [
        (Location("flat", building="5", entrance="1", room="1203"), "5栋1单元1203", "Building 5, Unit 1, Room 1203"),
        (Location("flat", building="5", room="1203"), "5栋1203", "Building 5, Room 1203"),
        (Location("flat", room="1203", missing="building"), "1203", "Room 1203"),
        (Location("flat", building="5", missing="room"), "5栋", "Building 5"),
        (Location("public", building="3", entrance="1", area="楼道"), "3号楼1单元楼道", "Building 3, Unit 1 stairwell"),
        (Location("public", building="5", area="电梯"), "5号楼电梯", "Building 5 lift"),
        (Location("public", building="B", area="大堂"), "B栋大堂", "Building B lobby"),
        (Location("public", building="6", area="3层楼道"), "6号楼3层楼道", "Building 6, 3rd floor stairwell"),
        (Location("public", area="地下车库B区"), "地下车库B区", "Underground garage, zone B"),
        (Location("public", area="地下车库B2层"), "地下车库B2层", "Underground garage, level B2"),
        (Location("public", area="东门"), "东门", "East gate"),
        (Location("public", area="小区大门"), "小区大门", "Main gate"),
        (Location("public", area="2号门"), "2号门", "Gate 2"),
        (Location("public", area="楼道", missing="building"), "楼道", "Stairwell"),
    ],
)
def test_display_in_both_languages(location: Location, zh: str, en: str) -> None:
    assert location.canonical() == zh
    assert location.english() == en
    assert location.display("zh") == zh
    assert location.display("en") == en and location.display("en-GB") == en


def test_parsed_english_addresses_display_the_same_place() -> None:
    location = parse_location("hallway on the 3rd floor of building 6")
    assert location is not None and location.english() == "Building 6, 3rd floor stairwell"
    assert parse_location("Bldg 12, unit 2, room 1803").english() == "Building 12, Unit 2, Room 1803"


@pytest.mark.parametrize("text", ["buidling 3 room 502", "bulding 3 room 502", "Building 3 room 502"])
def test_misspelt_building_still_reads(text: str) -> None:
    place = parse_location(text)
    assert place is not None and (place.building, place.room) == ("3", "502")


def test_a_room_followed_by_a_number_is_no_date() -> None:
    place = parse_location("Building 5 room 1203. 2 taps are leaking")
    assert place is not None and (place.building, place.room) == ("5", "1203")
    assert parse_location("2026-11-24 维修") is None and parse_location("2026年11月 报修") is None


def test_on_floor_moves_only_places_that_are_on_one_floor() -> None:
    from bot.tickets.location import on_floor

    stairwell = parse_location("2号楼3楼楼道")
    assert on_floor(stairwell, "4").canonical() == "2号楼4层楼道"
    assert on_floor(stairwell, "3") is None  # already there
    assert on_floor(parse_location("6号楼楼道"), "3").english() == "Building 6, 3rd floor stairwell"
    assert on_floor(parse_location("5号楼电梯"), "4") is None
    assert on_floor(parse_location("3栋1单元502"), "4") is None
    assert on_floor(None, "4") is None


@pytest.mark.parametrize("text, floor", [
    ("不对，是4楼", "4"), ("不是3楼，是5层", "5"), ("sorry, it's the 4th floor", "4"), ("the third floor", "3"),
    ("负一层", "B1"), ("不对，是4号楼", None), ("13812345678", None), ("明天下午3点", None),
])
def test_floor_named_reads_a_floor_said_on_its_own(text: str, floor: Optional[str]) -> None:
    from bot.tickets.location import floor_named

    assert floor_named(text) == floor


def test_on_floor_keeps_a_floor_already_named_unless_asked_to_replace_it() -> None:
    from bot.tickets.location import on_floor

    assert on_floor(parse_location("2号楼3楼楼道"), "4", replace=False) is None
    assert on_floor(parse_location("6号楼楼道"), "3", replace=False).canonical() == "6号楼3层楼道"
