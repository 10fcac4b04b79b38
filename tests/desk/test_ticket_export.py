"""Tickets: the staff picker's list, assignee validation, "my tickets", paging and CSV/XLSX export."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Dict, List

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.handoff.conftest import Desk
from tests.servers import Stack

FORMULA = "=HYPERLINK(\"http://evil.example\",\"点我\") 电话13812345678"


@pytest.fixture(scope="module")
def batch(stack: Stack) -> Dict[str, str]:
    """Three tickets of one made-up building, found with ``unit=<tag>``."""
    tag = f"Q{uuid.uuid4().hex[:5]}"
    store = TicketStore(create_engine(stack.database_url, future=True))
    leak = store.create(ticket_type="repair", channel="wechat", sender_id="o-export-1", description="卫生间漏水，电话13812345678",
                        unit=f"{tag}栋2单元502", category="plumbing", urgency="urgent", phone="13812345678")
    lamp = store.create(ticket_type="repair", channel="telegram", sender_id="4242", description=FORMULA,
                        unit=f"{tag}栋1单元101", category="electrical", urgency="normal", phone="021-6123-4567")
    noise = store.create(ticket_type="complaint", channel="rest", sender_id="export-3", description="楼上装修太吵",
                         location=f"{tag}栋楼道")
    return {"tag": tag, "leak": leak.number, "lamp": lamp.number, "noise": noise.number}


def page(desk: Desk, query: str) -> dict:
    response = desk.get("/api/tickets" + query)
    assert response.status_code == 200, response.text
    return response.json()


def test_staff_list_and_new_routes_refuse_without_a_session(stack: Stack, agent: Desk, admin: Desk,
                                                            accounts: Dict[str, str]) -> None:
    for path in ("/api/staff", "/api/tickets/export", "/api/tickets/export?format=xlsx"):
        response = requests.get(stack.rasa_url + path, headers={"Authorization": "Bearer forged"}, timeout=30)
        assert response.status_code == 401 and response.json()["error"] == "unauthenticated"
    name = f"gone{uuid.uuid4().hex[:6]}"
    assert admin.post("/api/users", {"username": name, "password": "gone-pass-1"}).status_code == 201
    staff = {s["username"]: s for s in agent.get("/api/staff").json()["staff"]}
    assert {accounts["agent"], accounts["agent2"], accounts["admin"], name} <= set(staff)
    assert set(staff[accounts["agent"]]) == {"username", "display_name", "role"}
    assert staff[accounts["admin"]]["role"] == "admin"
    assert admin.post(f"/api/users/{name}/active", {"active": False}).status_code == 200
    assert name not in {s["username"] for s in agent.get("/api/staff").json()["staff"]}  # disabled: not offered


def test_assignee_must_be_an_active_staff_account(agent: Desk, admin: Desk, accounts: Dict[str, str],
                                                  batch: Dict[str, str]) -> None:
    number = batch["noise"]
    name = f"left{uuid.uuid4().hex[:6]}"
    assert admin.post("/api/users", {"username": name, "password": "left-pass-1"}).status_code == 201
    assert admin.post(f"/api/users/{name}/active", {"active": False}).status_code == 200
    display_name = agent.user["display_name"]
    for wrong in ("nobody-" + uuid.uuid4().hex[:6], name, display_name + " 师傅", "x" * 80, "a\u0000b"):
        refused = agent.post(f"/api/tickets/{number}/assign", {"assignee": wrong})
        assert refused.status_code == 400 and refused.json()["error"] == "unknown_assignee", (wrong, refused.text)
        assert "/api/staff" in refused.json()["message"]
    ticket = agent.get(f"/api/tickets/{number}").json()["ticket"]
    assert ticket["status"] == "open" and ticket["assignee"] is None  # refusals changed nothing
    done = agent.post(f"/api/tickets/{number}/assign", {"assignee": accounts["agent2"].upper(), "note": "明早处理"})
    assert done.status_code == 200, done.text
    assert done.json()["ticket"]["assignee"] == accounts["agent2"] and done.json()["ticket"]["status"] == "assigned"


def test_my_tickets_and_paging(agent: Desk, agent2: Desk, accounts: Dict[str, str], batch: Dict[str, str]) -> None:
    tag = batch["tag"]
    assert agent.post(f"/api/tickets/{batch['leak']}/assign", {"assignee": accounts["agent"]}).status_code == 200
    assert agent.post(f"/api/tickets/{batch['lamp']}/assign", {"assignee": accounts["agent2"]}).status_code == 200
    assert [t["number"] for t in page(agent, f"?unit={tag}&assignee=me")["tickets"]] == [batch["leak"]]
    mine2 = {t["number"] for t in page(agent2, f"?unit={tag}&assignee=me")["tickets"]}
    assert batch["lamp"] in mine2 and batch["leak"] not in mine2
    assert [t["number"] for t in page(agent2, f"?unit={tag}&assignee={accounts['agent']}")["tickets"]] == [batch["leak"]]
    assert page(agent, f"?unit={tag}&assignee=nobody-at-all")["total"] == 0
    assert agent.get("/api/tickets?assignee=" + "y" * 100).status_code == 400

    everything = page(agent, f"?unit={tag}")
    newest_first = [batch["noise"], batch["lamp"], batch["leak"]]
    assert [t["number"] for t in everything["tickets"]] == newest_first and everything["total"] == 3
    first = page(agent, f"?unit={tag}&limit=2")
    second = page(agent, f"?unit={tag}&limit=2&offset=2")
    assert (first["total"], first["limit"], first["offset"], len(first["tickets"])) == (3, 2, 0, 2)
    assert (second["total"], second["offset"], len(second["tickets"])) == (3, 2, 1)
    assert [t["number"] for t in first["tickets"] + second["tickets"]] == newest_first
    assert page(agent, f"?unit={tag}&limit=2&offset=9")["tickets"] == [] and page(agent, f"?unit={tag}&type=repair")["total"] == 2


def _csv(desk: Desk, query: str) -> List[List[str]]:
    response = desk.get("/api/tickets/export" + query)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_csv_export_is_the_filtered_list_masked_in_the_desk_language(agent: Desk, admin: Desk, accounts: Dict[str, str],
                                                                    batch: Dict[str, str]) -> None:
    tag = batch["tag"]
    query = f"unit={tag}&type=repair"
    listed = page(agent, "?" + query)["tickets"]
    rows = _csv(agent, f"?format=csv&lang=zh&{query}")
    header, body = rows[0], rows[1:]
    assert header[:3] == ["工单号", "类型", "状态"] and "电话（已隐藏）" in header
    assert [r[0] for r in body] == [t["number"] for t in listed] == [batch["lamp"], batch["leak"]]
    by_number = {r[0]: dict(zip(header, r)) for r in body}
    leak = by_number[batch["leak"]]
    assert leak["类型"] == "报修" and leak["类别"] == "水管/漏水" and leak["紧急程度"] == "紧急"
    assert leak["电话（已隐藏）"] == "138****5678" and leak["描述"] == "卫生间漏水，电话138****5678"
    assert leak["地点"] == f"{tag}栋2单元502" and leak["渠道"] == "wechat"
    assert leak["负责人"].endswith(f"({accounts['agent']})") or leak["负责人"] == accounts["agent"]
    assert len(leak["提交时间"]) == 16 and leak["提交时间"][4] == "-"  # local "YYYY-MM-DD HH:MM"
    lamp = by_number[batch["lamp"]]
    assert lamp["描述"].startswith("'=HYPERLINK") and "138****5678" in lamp["描述"]  # never a formula
    assert lamp["电话（已隐藏）"] == "*******4567"
    raw = agent.get(f"/api/tickets/export?format=csv&{query}").content.decode("utf-8-sig")
    assert "13812345678" not in raw and "o-export-1" not in raw and "021-6123" not in raw

    english = _csv(agent, f"?format=csv&lang=en&{query}&status=assigned")
    assert english[0][:3] == ["Number", "Type", "Status"]
    assert [r[0] for r in english[1:]] == [t["number"] for t in page(agent, f"?{query}&status=assigned")["tickets"]]
    assert {r[2] for r in english[1:]} == {"assigned"} and english[1][1] == "repair"
    assert _csv(agent, f"?lang=en&unit={tag}&status=closed") == [english[0]]  # nothing matches: the header only

    audited = admin.get(f"/api/audit?actor=staff:{accounts['agent']}").json()["entries"]
    exports = [e for e in audited if e["action"] == "export_tickets"]
    assert exports and exports[0]["subject"] == "0 tickets csv" and f"unit={tag}" in exports[0]["detail"]


def test_xlsx_export_reads_back_with_openpyxl(agent: Desk, batch: Dict[str, str]) -> None:
    response = agent.get(f"/api/tickets/export?format=xlsx&lang=en&unit={batch['tag']}")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"') and response.headers["X-Linli-Rows"] == "3"
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "Tickets" and values[0][:2] == ("Number", "Type") and sheet["A1"].font.bold
    assert [r[0] for r in values[1:]] == [batch["noise"], batch["lamp"], batch["leak"]]
    lamp = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == batch["lamp"])
    description = lamp[[c.value for c in sheet[1]].index("Description")]
    assert description.data_type == "s" and description.value.startswith("=HYPERLINK")  # text, not a formula
    created = lamp[[c.value for c in sheet[1]].index("Created")].value
    assert created.year >= 2024  # a real date cell
    assert "13812345678" not in str(values)


def test_export_refuses_bad_parameters(agent: Desk) -> None:
    for query in ("format=pdf", "lang=fr", "since=yesterday", "assignee=" + "z" * 70):
        response = agent.get(f"/api/tickets/export?{query}")
        assert response.status_code == 400 and response.json()["error"] == "bad_parameter", query
