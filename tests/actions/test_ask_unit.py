"""action_ask_unit offers the resident's known units (bot/residence) as one-tap answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

from actions.repair_prompts import ActionAskUnit
from bot.nlu.patterns import Unit
from bot.residence import store as residence
from bot.tickets.location import parse_location
from tests.actions.conftest import make_tracker


@pytest.fixture
def units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> residence.ResidenceStore:
    store = residence.ResidenceStore(create_engine(f"sqlite:///{tmp_path / 'units.db'}", future=True))
    monkeypatch.setattr(residence, "residence_store", lambda: store)
    return store


async def _ask(lang: str, sender: str, domain: Dict[str, Any]) -> Dict[str, Any]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我要报修" if lang == "zh" else "I want to report a repair", intent="report_repair",
                           requested="unit", slots={"language": lang}, sender=sender)
    await ActionAskUnit().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_unit"
    return message


@pytest.mark.parametrize("lang, shown", [("zh", "2栋1单元301"), ("en", "Building 2, Unit 1, Room 301")])
async def test_a_confirmed_unit_is_offered_and_its_payload_is_a_complete_place(
        units: residence.ResidenceStore, domain: Dict[str, Any], lang: str, shown: str) -> None:
    units.confirm("wechat", "o-abc", Unit(building="2", room="301", entrance="1"))
    message = await _ask(lang, "wechat:o-abc", domain)
    assert message["buttons"] == [{"title": shown, "payload": shown}]
    place = parse_location(message["buttons"][0]["payload"])
    assert place is not None and place.complete and place.display("zh") == "2栋1单元301"


async def test_nothing_is_offered_to_a_resident_with_no_known_unit(units: residence.ResidenceStore,
                                                                   domain: Dict[str, Any]) -> None:
    units.confirm("wechat", "o-someone-else", Unit(building="2", room="301", entrance="1"))
    message = await _ask("zh", "wechat:o-new", domain)
    assert not message.get("buttons")
