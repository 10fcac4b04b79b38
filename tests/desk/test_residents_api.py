"""The resident panel's route: what Linli knows about a resident, masked, audited."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import requests
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.handoff.conftest import Desk, handoff_of
from tests.servers import Stack


def test_resident_panel_shows_units_masked_phones_tickets_and_handoffs(stack: Stack, agent: Desk, admin: Desk,
                                                                       sender: str) -> None:
    store = TicketStore(create_engine(stack.database_url, future=True))
    first = store.create(ticket_type="repair", channel="rest", sender_id=sender, description="厨房水管漏水，电话13812345678",
                         unit="3栋2单元502", category="plumbing", phone="13812345678")
    second = store.create(ticket_type="complaint", channel="rest", sender_id=sender, description="楼道堆放杂物",
                          location="3号楼1单元楼道", phone="13812345678")
    store.create(ticket_type="repair", channel="rest", sender_id=f"{sender}-other", description="别人的工单",
                 unit="9栋101", phone="13900001111")
    assert "转接人工客服" in stack.say(sender, "转人工")
    handoff = handoff_of(agent, sender)
    assert handoff["sender_id"] == f"rest:{sender}"

    response = agent.get(f"/api/residents/{quote(handoff['sender_id'], safe='')}")
    assert response.status_code == 200, response.text
    resident = response.json()["resident"]
    assert (resident["id"], resident["channel"], resident["platform_id"]) == (f"rest:{sender}", "rest", sender)
    assert resident["units"] == ["3号楼1单元楼道", "3栋2单元502"]  # newest first, each once
    assert resident["phones"] == ["138****5678"]
    assert "13812345678" not in response.text and "13900001111" not in response.text  # masked, others' data absent
    assert [t["number"] for t in resident["tickets"]] == [second.number, first.number]
    assert resident["tickets"][1]["labels"]["status"] == {"zh": "待处理", "en": "open"}
    assert resident["tickets"][1]["summary"] == "厨房水管漏水，电话138****5678"
    assert resident["tickets_total"] == 2 and resident["open_tickets"] == 2
    assert [h["id"] for h in resident["handoffs"]] == [handoff["id"]] and resident["handoffs_total"] == 1
    assert resident["handoffs"][0]["status"] == "queued" and resident["language"] == "zh"
    # The unencoded form works too.
    assert agent.get(f"/api/residents/rest:{sender}").json()["resident"]["id"] == f"rest:{sender}"

    # Every view is in the audit log, with who looked at whose data.
    entries = admin.get(f"/api/audit?resident={quote(f'rest:{sender}')}").json()["entries"]
    assert [e["actor"] for e in entries if e["action"] == "view_resident"][:2] == [f"staff:{agent.user['username']}"] * 2
    assert agent.post(f"/api/handoffs/{handoff['id']}/close").status_code == 200
    closed = agent.get(f"/api/residents/rest:{sender}").json()["resident"]["handoffs"][0]
    assert closed["status"] == "closed" and closed["closed_at"]


def test_resident_panel_refusals_and_odd_ids(stack: Stack, agent: Desk, admin: Desk) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        refused = requests.get(f"{stack.rasa_url}/api/residents/rest:someone", headers=headers, timeout=30)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthenticated"
    unknown = agent.get(f"/api/residents/rest:nobody-{uuid.uuid4().hex}")
    assert unknown.status_code == 404 and "no ticket or handoff" in unknown.json()["message"]
    assert agent.get("/api/residents/no-channel-prefix").status_code == 400
    assert agent.get(f"/api/residents/rest:{'x' * 300}").status_code == 400
    # A platform id with a slash, a space and a percent sign (REST senders are free text).
    odd = f"odd/{uuid.uuid4().hex[:6]} 100%"
    TicketStore(create_engine(stack.database_url, future=True)).create(
        ticket_type="repair", channel="rest", sender_id=odd, description="门锁坏了", unit="1栋101")
    found = agent.get(f"/api/residents/{quote('rest:' + odd, safe='')}")
    assert found.status_code == 200, found.text
    body = found.json()["resident"]
    assert body["platform_id"] == odd and body["units"] == ["1栋101"] and body["handoffs"] == [] and body["phones"] == []
    audited = admin.get(f"/api/audit?resident={quote('rest:' + odd, safe='')}").json()["entries"]
    assert audited and audited[0]["action"] == "view_resident" and json.dumps(audited[0]["resident"]) == json.dumps(f"rest:{odd}")
