"""A ticket staff filed for a caller becomes visible to the resident once its unit and its phone
are both the resident's own (bot/residence/linked.py), through "查询工单" (action_check_ticket)."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine

import actions.ticket_status as ticket_status
from bot.nlu.patterns import Unit
from bot.residence.linked import linked_ticket, linked_tickets
from bot.residence.store import ResidenceStore
from bot.tickets import TicketStore
from tests.actions.conftest import domain, make_tracker  # noqa: F401  (domain: a fixture)

PHONE = "13812345678"


@pytest.fixture
def stores(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url, future=True)
    from bot.residence.models import metadata as residence_tables

    residence_tables.drop_all(engine)
    return TicketStore(engine), ResidenceStore(engine)


def _staff_ticket(tickets: TicketStore, phone: str = PHONE, room: str = "502", channel: str = "phone"):  # type: ignore[no-untyped-def]
    return tickets.create(ticket_type="repair", channel=channel, sender_id=f"{channel}-1", description="厨房水管漏水",
                          unit=f"3栋2单元{room}", building="3", entrance="2", room=room, phone=phone,
                          actor="staff:wang")


def test_unit_and_phone_both_link_and_either_alone_does_not(stores) -> None:  # type: ignore[no-untyped-def]
    tickets, residence = stores
    filed = _staff_ticket(tickets)
    _staff_ticket(tickets, phone="13900000000")          # the flat, another phone
    _staff_ticket(tickets, room="503", channel="walk-in")  # the phone, another flat
    assert linked_tickets(tickets.engine, "wechat", "o-1") == []  # nothing known of the resident yet
    residence.confirm("wechat", "o-1", Unit(building="3", room="502", entrance="2"))
    assert linked_tickets(tickets.engine, "wechat", "o-1") == []  # the unit alone is not enough
    tickets.create(ticket_type="complaint", channel="wechat", sender_id="o-1", description="噪音", phone=PHONE)
    assert [t.number for t in linked_tickets(tickets.engine, "wechat", "o-1")] == [filed.number]
    assert linked_ticket(tickets.engine, "wechat", "o-1", filed.number.lower()).number == filed.number
    assert linked_tickets(tickets.engine, "wechat", "o-2") == []  # another resident sees nothing


async def test_check_ticket_lists_and_shows_a_linked_ticket(stores, domain: Dict[str, Any],  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    tickets, residence = stores
    monkeypatch.setattr(ticket_status, "ticket_store", lambda: tickets)
    filed = _staff_ticket(tickets)
    residence.confirm("telegram", "42", Unit(building="3", room="502", entrance="2"))
    tickets.create(ticket_type="complaint", channel="telegram", sender_id="42", description="噪音", phone=PHONE)

    dispatcher = CollectingDispatcher()
    await ticket_status.ActionCheckTicket().run(dispatcher, make_tracker("查询工单", intent="check_ticket",
                                                                          sender="telegram:42"), domain)
    assert filed.number in dispatcher.messages[0]["tickets"]

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(f"{filed.number} 现在什么状态", intent="check_ticket", sender="telegram:42",
                           entities=[{"entity": "ticket_id", "value": filed.number}])
    await ticket_status.ActionCheckTicket().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_ticket_detail" and dispatcher.messages[0]["number"] == filed.number

    dispatcher = CollectingDispatcher()
    await ticket_status.ActionCheckTicket().run(dispatcher, make_tracker(
        f"{filed.number} 现在什么状态", intent="check_ticket", sender="telegram:99",
        entities=[{"entity": "ticket_id", "value": filed.number}]), domain)
    assert dispatcher.messages[0]["response"] == "utter_ticket_not_found"
