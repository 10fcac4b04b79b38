"""The DSTC10 benchmark's entity tracker (benchmarks/dstc10_entities.py) on spoken-style dialogues."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from dstc10_entities import EntityTracker, words  # noqa: E402

KNOWLEDGE = {
    "restaurant": {
        "1": {"name": "Super Duper Burgers - Union Square", "docs": {}},
        "2": {"name": "Super Duper Burgers - Duboce Triangle", "docs": {}},
        "3": {"name": "DragonEats - SoMa", "docs": {}},
        "4": {"name": "Pier Market Seafood Restaurant", "docs": {}},
    },
    "hotel": {
        "5": {"name": "SW Hotel", "docs": {}},
        "6": {"name": "Laurel Inn, a Joie de Vivre Hotel", "docs": {}},
        "7": {"name": "Nob Hill Hotel", "docs": {}},
        "8": {"name": "Nob Hill Motor Inn", "docs": {}},
        "9": {"name": "Tilden Hotel", "docs": {}},
    },
    "attraction": {
        "10": {"name": "Union Square", "docs": {}},
        "11": {"name": "Museum Of 3D Illusions", "docs": {}},
    },
    "taxi": {"*": {"docs": {}}},
}


@pytest.fixture(scope="module")
def tracker() -> EntityTracker:
    return EntityTracker(KNOWLEDGE)


def test_words_joins_spelled_letters_and_ampersands() -> None:
    assert words("the s. w. hotel & bar") == ["the", "sw", "hotel", "and", "bar"]


@pytest.mark.parametrize(
    "turns, expected",
    [
        # spacing differs from the name: "dragon eats", "sea food"
        (["it's called dragon eats"], ("restaurant", "3")),
        (["i recommend the pier market sea food restaurant"], ("restaurant", "4")),
        # spelled letters and a name shortened at its comma
        (["there's the s. w. hotel"], ("hotel", "5")),
        (["one is called the laurel inn in pacific heights"], ("hotel", "6")),
        # digits in a name spoken as words
        (["the second is the museum of three d illusions"], ("attraction", "11")),
        # the latest mention wins
        (["how about the sw hotel", "or maybe tilden hotel"], ("hotel", "9")),
        # a neighbourhood after "in" or "street" is a place, not the attraction
        (["tilden hotel is at taylor street union square"], ("hotel", "9")),
        (["i found the sw hotel", "it's in union square"], ("hotel", "5")),
        (["i'd like to visit union square"], ("attraction", "10")),
        # "nob hill" (Nob Hill Hotel shortened) would claim Nob Hill Motor Inn: not a variant
        (["it's called nob hill motor inn", "ok nob hill sounds good"], ("hotel", "8")),
        # branches of one chain: the area named in the dialogue decides
        (["somewhere in duboce triangle", "try super duper burgers"], ("restaurant", "2")),
        (["a place in union square please", "super duper burgers is nearby"], ("restaurant", "1")),
        (["can you find me a taxi"], None),
    ],
)
def test_entity_of(tracker: EntityTracker, turns, expected) -> None:
    assert tracker.entity_of(turns) == expected
