"""Canned replies over the desk API: listing, ownership rules, validation, refusals."""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict

import pytest
import requests

from bot.web.desk_api import blueprint
from tests.handoff.conftest import Desk
from tests.servers import Stack


def _create(desk: Desk, **fields: Any) -> Dict[str, Any]:
    response = desk.post("/api/canned", {"language": "zh", "title": "物业电话", "text": "物业服务中心电话 0571-88886666。",
                                         **fields})
    assert response.status_code == 201, response.text
    return response.json()["reply"]


def _ids(desk: Desk, query: str = "") -> set:
    response = desk.get("/api/canned" + query)
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()["replies"]}


@pytest.mark.parametrize("method, path", [("GET", "/api/canned"), ("POST", "/api/canned"), ("PUT", "/api/canned/1"),
                                          ("DELETE", "/api/canned/1"), ("GET", "/api/staff")])
def test_canned_routes_refuse_without_a_session(stack: Stack, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = requests.request(method, stack.rasa_url + path, json={}, headers=headers, timeout=30)
        assert response.status_code == 401 and response.json()["error"] == "unauthenticated", (method, path)


def test_agents_keep_personal_replies_and_admins_the_shared_ones(agent: Desk, agent2: Desk, admin: Desk) -> None:
    tag = uuid.uuid4().hex[:6]
    mine = _create(agent, title=f"营业时间 {tag}", text="物业服务中心每天 8:00–20:00 营业。", shortcut=f"Hours{tag}")
    assert mine["shortcut"] == f"/hours{tag}" and mine["shared"] is False and mine["owner"] == agent.user["username"]
    assert mine["editable"] is True
    english = _create(agent, language="en", title=f"Hours {tag}", text="The service centre is open 8:00-20:00.",
                      shortcut=f"/hours{tag}")  # same shortcut, other language: allowed
    # An agent cannot create a shared reply; an admin can, and everyone sees it.
    refused = agent.post("/api/canned", {"language": "zh", "title": "x", "text": "y", "shared": True})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    shared = _create(admin, title=f"报修流程 {tag}", text="请告诉我们房号和问题，我们会安排师傅上门。", shortcut=f"/repair{tag}",
                     shared=True)
    assert shared["shared"] is True and shared["owner"] is None

    # Mine + shared; never another agent's.
    assert {mine["id"], english["id"], shared["id"]} <= _ids(agent)
    assert shared["id"] in _ids(agent2) and mine["id"] not in _ids(agent2)
    assert mine["id"] not in _ids(admin)  # personal means personal, admins included
    assert english["id"] not in _ids(agent, "?language=zh") and english["id"] in _ids(agent, "?language=en")
    assert agent.get("/api/canned?language=fr").status_code == 400
    listed = {r["id"]: r for r in agent.get("/api/canned").json()["replies"]}
    assert listed[shared["id"]]["editable"] is False and listed[mine["id"]]["editable"] is True

    # Changing or deleting the shared reply or someone else's is refused, and changes nothing.
    for desk, reply in ((agent, shared), (agent2, mine), (admin, mine)):
        assert desk.http.put(f"{desk.base_url}/api/canned/{reply['id']}", json={"text": "改掉"}, timeout=30).status_code == 403
        assert desk.http.delete(f"{desk.base_url}/api/canned/{reply['id']}", json={}, timeout=30).status_code == 403
    assert agent.http.put(f"{agent.base_url}/api/canned/{mine['id']}", json={"shared": True}, timeout=30).status_code == 403
    texts = {r["id"]: r["text"] for r in agent.get("/api/canned").json()["replies"]}
    assert texts[shared["id"]] == shared["text"] and texts[mine["id"]] == mine["text"]

    # The owner edits; the admin edits the shared one.
    edited = agent.http.put(f"{agent.base_url}/api/canned/{mine['id']}", json={"text": "物业服务中心每天 8:00–21:00 营业。"},
                            timeout=30)
    assert edited.status_code == 200 and edited.json()["reply"]["text"].endswith("21:00 营业。")
    assert edited.json()["reply"]["title"] == mine["title"]  # fields not sent stay as they were
    assert admin.http.put(f"{admin.base_url}/api/canned/{shared['id']}", json={"title": f"报修须知 {tag}"},
                          timeout=30).json()["reply"]["title"] == f"报修须知 {tag}"

    # Deleting.
    assert agent.http.delete(f"{agent.base_url}/api/canned/{english['id']}", json={}, timeout=30).json() == {"ok": True}
    assert english["id"] not in _ids(agent)
    assert agent.http.delete(f"{agent.base_url}/api/canned/{english['id']}", json={}, timeout=30).status_code == 404
    assert admin.http.delete(f"{admin.base_url}/api/canned/{shared['id']}", json={}, timeout=30).status_code == 200
    assert shared["id"] not in _ids(agent2)


def test_canned_input_is_validated(agent: Desk) -> None:
    tag = uuid.uuid4().hex[:6]
    base = {"language": "zh", "title": "标题", "text": "内容"}
    for wrong in ({"language": "fr"}, {"title": " "}, {"text": ""}, {"text": "长" * 4001}, {"title": 5},
                  {"shortcut": "/two words"}, {"shortcut": "/" + "x" * 40}, {"shared": "yes"}):
        response = agent.post("/api/canned", {**base, **wrong})
        assert response.status_code == 400, (wrong, response.text)
        assert response.json()["message"]
    first = _create(agent, shortcut=f"/dup{tag}")
    taken = agent.post("/api/canned", {**base, "shortcut": f"dup{tag}"})
    assert taken.status_code == 409 and f"/dup{tag}" in taken.json()["message"]
    other = _create(agent, shortcut=f"/other{tag}")
    clash = agent.http.put(f"{agent.base_url}/api/canned/{other['id']}", json={"shortcut": f"/dup{tag}"}, timeout=30)
    assert clash.status_code == 409
    unknown = agent.http.put(f"{agent.base_url}/api/canned/{other['id']}", json={"colour": "red"}, timeout=30)
    assert unknown.status_code == 400
    assert agent.http.put(f"{agent.base_url}/api/canned/999999999", json={"text": "x"}, timeout=30).status_code == 404
    assert agent.http.put(f"{agent.base_url}/api/canned/{2**40}", json={"text": "x"}, timeout=30).status_code == 404
    # A cookie session writes only JSON (a cross-site form cannot).
    form = agent.http.delete(f"{agent.base_url}/api/canned/{first['id']}", data="x", timeout=30)
    assert form.status_code == 415
    assert first["id"] in _ids(agent) and {r["shortcut"] for r in agent.get("/api/canned").json()["replies"]} >= {
        f"/dup{tag}", f"/other{tag}"}


def test_every_desk_essentials_route_is_in_the_openapi_document(agent: Desk) -> None:
    document = agent.get("/api/openapi.json").json()
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routes = {(method, "/api" + re.sub(r"<([^:>]+)(:[^>]+)?>", r"{\1}", route.uri))
              for route in blueprint._future_routes for method in route.methods}
    assert len(routes) == 9 and routes <= documented, routes - documented  # + resident units (notices)
    export = document["paths"]["/api/tickets/export"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in export
