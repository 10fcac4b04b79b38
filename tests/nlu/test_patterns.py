"""Units, phones, ticket numbers and language: what residents actually type."""

import pytest

from bot.nlu.language import detect_language
from bot.nlu.patterns import chinese_numeral, find_entities, find_units, normalise_phone, parse_unit


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("3栋2单元502", "3栋2单元502"),
        ("3栋2单元502室", "3栋2单元502"),
        ("5号楼1203", "5栋1203"),
        ("12幢1803", "12栋1803"),
        ("A座1203", "A栋1203"),
        ("Building 3 Unit 502", "3栋502"),
        ("bldg 12, unit 2, room 1803", "12栋2单元1803"),
        ("Block 5 Apt 1203", "5栋1203"),
        ("B3-502", "3栋502"),
        ("3-2-502", "3栋2单元502"),
        ("我住7号楼2单元601，谢谢", "7栋2单元601"),
        ("5号楼1单元1203室", "5栋1单元1203"),
        ("5#1203", "5栋1203"),
        ("5-1-1203", "5栋1单元1203"),
        ("B5-1203", "5栋1203"),
        ("三号楼二单元502", "3栋2单元502"),
        ("三号楼二单元五零二", "3栋2单元502"),
        ("十二栋幺二零三", "12栋1203"),
        ("Building 5, room 1203", "5栋1203"),
        ("building 5 unit 1203", "5栋1203"),  # a 4-digit unit is the room, not unit 1 room 203
        ("Building 5 Unit 1 Room 203", "5栋1单元203"),
        ("Block 5 #12-03", "5栋1203"),
        ("Flat 1203, Building 5", "5栋1203"),
        ("Tower 2 Apt 1501", "2栋1501"),
        ("room 502 building 3", "3栋502"),
        ("５号楼１２０３", "5栋1203"),
    ],
)
def test_units_are_parsed_to_one_notation(text: str, canonical: str) -> None:
    unit = parse_unit(text)
    assert unit is not None and unit.canonical() == canonical


@pytest.mark.parametrize(
    "text",
    ["502", "我家", "楼上", "building", "13812345678", "", "5号楼", "building 5", "1203室", "楼道",
     "BX-20261124-0001", "2026-11-24", "12月5号1203", "费用100-200元", "5号楼 有300多户", "有一栋楼停电了"],
)
def test_text_without_building_and_room_is_not_a_unit(text: str) -> None:
    assert parse_unit(text) is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("021-12345678", "02112345678"),
        ("+1 415 555 0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_valid_phones_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["1381234", "12345678901", "23812345678", "phone", "+0 123", "138123456789"])
def test_invalid_phones_are_rejected(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_entities_have_exact_offsets_in_chinese_text() -> None:
    text = "3栋2单元502卫生间漏水了，电话13812345678，单号BX-20261124-0007"
    found = {m.entity: m for m in find_entities(text)}
    assert set(found) == {"unit", "phone", "ticket_id"}
    for match in found.values():
        assert text[match.start : match.end] == match.text
    assert found["unit"].text == "3栋2单元502"
    assert found["phone"].value == "13812345678"
    assert found["ticket_id"].value == "BX-20261124-0007"


def test_units_in_chinese_numerals_keep_their_offsets() -> None:
    text = "你好，三号楼二单元五零二的马桶堵了"
    [unit] = find_units(text)
    assert (unit.text, unit.value) == ("三号楼二单元五零二", "3栋2单元502")
    assert text[unit.start : unit.end] == unit.text


def test_every_unit_of_a_message_is_found() -> None:
    assert [m.value for m in find_units("5栋1203和6栋2单元502都停水了")] == ["5栋1203", "6栋2单元502"]


@pytest.mark.parametrize(
    "text, digits",
    [("三", "3"), ("十", "10"), ("十二", "12"), ("二十三", "23"), ("五零二", "502"), ("幺二零三", "1203"),
     ("五百零二", "502"), ("一千二百零三", "1203"), ("十二零三", "1203"), ("1203", "1203"), ("五楼", None), ("", None)],
)
def test_chinese_numerals(text: str, digits: str) -> None:
    assert chinese_numeral(text) == digits


def test_ticket_number_digits_are_not_read_as_a_phone_or_unit() -> None:
    entities = find_entities("查一下bx-20261124-0007")
    assert [(m.entity, m.value) for m in entities] == [("ticket_id", "BX-20261124-0007")]


@pytest.mark.parametrize(
    "text, language",
    [
        ("你好", "zh"),
        ("hello", "en"),
        ("我家的 elevator 坏了", "zh"),
        ("my 水管 is leaking badly", "en"),
        ("13812345678", None),
        ("/affirm", None),
        ("B3-502", None),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_pattern_extractor_replaces_learned_entities_of_its_types() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.pattern_extractor import PatternEntityExtractor

    text = "电话 138 1234 5678，其他问题"
    learned = [
        {"entity": "unit", "start": 11, "end": 15, "value": "5678", "extractor": "TransformerNLU"},  # unconfirmed
        {"entity": "phone", "start": 3, "end": 11, "value": "138 1234", "extractor": "TransformerNLU"},  # overlaps
        {"entity": "color", "start": 16, "end": 20, "value": "其他问题", "extractor": "TransformerNLU"},  # other type
    ]
    message = Message(data={"text": text, "entities": learned})
    extractor = PatternEntityExtractor({**PatternEntityExtractor.get_default_config()})
    entities = extractor.process([message])[0].get("entities")
    assert [(e["entity"], e["value"], e["extractor"]) for e in entities] == [
        ("phone", "13812345678", "PatternEntityExtractor"),
        ("color", "其他问题", "TransformerNLU"),
    ]


def test_full_width_ticket_numbers_are_found() -> None:
    [match] = [m for m in find_entities("ＢＸ－２０２６１１２４－０００７ 进度") if m.entity == "ticket_id"]
    assert match.value == "BX-20261124-0007" and (match.start, match.end) == (0, 16)
