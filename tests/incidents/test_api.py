"""The incidents API over the real server: who may do what, and bad input refused with a code
while nothing changes (the store's own rules are in test_store.py)."""

from __future__ import annotations

from typing import Dict

import requests

from tests.incidents.conftest import desk
from tests.servers import Stack


def count(client) -> int:
    return client.get("/api/incidents?status=all").json()["total"]


def test_refusals_change_nothing(incident_stack: Stack, staff: Dict[str, str]) -> None:
    admin, agent, editor = (desk(incident_stack, staff, role) for role in ("admin", "agent", "editor"))
    anonymous = requests.get(f"{incident_stack.rasa_url}/api/incidents", timeout=30)
    assert anonymous.status_code == 401
    assert requests.get(f"{incident_stack.rasa_url}/api/stats/rising", timeout=30).status_code == 401
    before = count(agent)
    good = {"kind": "power", "title_zh": "12号楼停电检修", "buildings": ["12"]}
    refused = agent.post("/api/incidents", good)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    for body, code in (({**good, "kind": "fire"}, "bad_kind"), ({"kind": "power", "buildings": ["12"]}, "title_required"),
                       ({**good, "buildings": []}, "buildings_required"), ({**good, "expected_end_at": "soon"}, "bad_time"),
                       ({**good, "colour": "red"}, "unknown_field"), ({**good, "buildings": "12;DROP TABLE"}, "bad_buildings")):
        answer = editor.post("/api/incidents", body)
        assert (answer.status_code, answer.json()["error"]) == (400, code), body
    not_json = editor.http.post(f"{incident_stack.rasa_url}/api/incidents", data="[1, 2]",
                                headers={"Content-Type": "application/json"}, timeout=30)
    assert (not_json.status_code, not_json.json()["error"]) == (400, "bad_json")
    form = editor.http.post(f"{incident_stack.rasa_url}/api/incidents", data={"kind": "power"}, timeout=30)
    assert form.status_code == 415  # a cookie session writes JSON only
    assert count(agent) == before

    created = editor.post("/api/incidents", good)
    assert created.status_code == 201
    incident = created.json()["incident"]
    assert incident["categories"] == ["electrical"] and incident["created_by"] == f"staff:{staff['editor']}"
    assert agent.get(f"/api/incidents/{incident['id']}").status_code == 200  # agents read
    assert agent.post(f"/api/incidents/{incident['id']}/resolve", {"note": "x"}).status_code == 403
    assert editor.post(f"/api/incidents/{incident['id']}/resolve", {"colour": "x"}).json()["error"] == "unknown_field"
    edited = editor.http.put(f"{incident_stack.rasa_url}/api/incidents/{incident['id']}",
                             json={"expected_end_at": "2026-01-01T00:00:00+08:00", "starts_at": "2026-01-02T00:00:00+08:00"},
                             timeout=30)
    assert (edited.status_code, edited.json()["error"]) == (400, "end_before_start")
    assert agent.get(f"/api/incidents/{incident['id']}").json()["incident"]["expected_end_at"] is None
    assert admin.get("/api/incidents/999999").status_code == 404
    assert admin.post("/api/incidents/999999/resolve", {}).status_code == 404
    assert admin.post(f"/api/incidents/{incident['id']}/resolve", {}).status_code == 200
    again = admin.post(f"/api/incidents/{incident['id']}/resolve", {})
    assert (again.status_code, again.json()["error"]) == (409, "already_resolved")
    late = admin.http.put(f"{incident_stack.rasa_url}/api/incidents/{incident['id']}", json={"title_zh": "x"}, timeout=30)
    assert late.status_code == 409

    assert agent.get("/api/incidents?status=gone").json()["error"] == "bad_status"
    assert agent.get("/api/incidents/alerts?status=gone").json()["error"] == "bad_status"
    assert agent.get("/api/stats/rising?days=many").status_code == 400
    assert agent.post("/api/incidents/alerts/1/dismiss").status_code == 403
    assert editor.post("/api/incidents/alerts/999999/dismiss").status_code == 404
    assert editor.post("/api/incidents/alerts/999999/declare").status_code == 404
    assert agent.get("/api/stats/rising").json()["baseline_days"] == 7
    document = agent.get("/api/openapi.json").json()
    assert {"/api/incidents", "/api/incidents/{incident_id}/resolve", "/api/incidents/alerts",
            "/api/incidents/alerts/{alert_id}/declare", "/api/stats/rising"} <= set(document["paths"])
