"""The knowledge-base content API on the ``kb_stack`` (a real Rasa server + action server).

Refusals on every route; FAQ editing, export and import; documents; and the whole loop
the issue asks for: edit an FAQ entry, re-index in the background, and a resident's REST
answer changes without a restart (then the previous version is restored).
"""

from __future__ import annotations

import base64
import http.client
import io
import re
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, urlparse

import pytest
import requests

from bot.web.kb_openapi import _paths
from knowledge.faq_io import FaqEntry, FaqText, read_faq_table, write_faq_table
from tests.handoff.conftest import AGENT_PASSWORD, Desk, create_account
from tests.servers import Stack

EDITOR_PASSWORD = "editor-pass-456"
QUESTION = "访客车辆可以进小区停车吗？"
ORIGINAL = "前2小时免费"


@pytest.fixture(scope="module")
def people(kb_stack: Stack) -> Dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    names = {"editor": f"kbeditor{suffix}", "agent": f"kbagent{suffix}"}
    create_account(kb_stack, names["editor"], EDITOR_PASSWORD, "editor")
    create_account(kb_stack, names["agent"], AGENT_PASSWORD, "agent")
    return names


def login(stack: Stack, username: str, password: str) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(username, password).status_code == 200
    return desk


@pytest.fixture
def editor(kb_stack: Stack, people: Dict[str, str]) -> Desk:
    return login(kb_stack, people["editor"], EDITOR_PASSWORD)


def call(desk: Desk, method: str, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
    if payload is None and method in ("post", "put", "delete"):
        payload = {}
    return desk.http.request(method.upper(), desk.base_url + path, json=payload, timeout=120, **kwargs)


def routes() -> List[Tuple[str, str]]:
    """Every documented route of this API, with example path parameters."""
    values = {"{faq_id}": "fees-rate", "{document_id}": "1", "{job_id}": "1", "{version_id}": "1"}
    found = []
    for path, operations in _paths()[0].items():
        for name, value in values.items():
            path = path.replace(name, value)
        found.extend((method, path) for method in operations)
    return found


def upload(name: str, data: bytes) -> Dict[str, str]:
    return {"filename": name, "content_base64": base64.b64encode(data).decode()}


def wait_for(check: Callable[[], Optional[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)


def finished(editor: Desk, job_id: int, timeout: float = 240) -> Dict[str, Any]:
    def done() -> Optional[Dict[str, Any]]:
        job = call(editor, "get", f"/api/kb/jobs/{job_id}").json()["job"]
        return job if job["status"] in ("done", "failed") else None

    return wait_for(done, timeout, f"re-index job {job_id}")


# ---------------------------------------------------------------- refusals
def test_every_route_refuses_without_a_session_and_to_agents(kb_stack: Stack, people: Dict[str, str],
                                                               editor: Desk) -> None:
    anonymous, agent = Desk(kb_stack.rasa_url), login(kb_stack, people["agent"], AGENT_PASSWORD)
    listed = routes()
    assert len(listed) == 20
    for method, path in listed:
        refused = call(anonymous, method, path)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthenticated", (method, path)
        refused = call(agent, method, path)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden", (method, path)
    # nothing changed
    assert call(editor, "get", "/api/kb/faq/fees-rate").status_code == 200
    # a cross-site form cannot write for a logged-in editor
    form = editor.http.post(f"{kb_stack.rasa_url}/api/kb/reindex", data="x=1", timeout=30,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415


# ---------------------------------------------------------------- FAQ
def test_faq_entries_are_listed_created_edited_and_deleted(editor: Desk) -> None:
    listed = call(editor, "get", "/api/kb/faq", params={"q": "访客", "category": "parking"}).json()
    assert "parking-visitor" in [e["faq_id"] for e in listed["entries"]] and listed["demo"] is True
    assert "parking" in listed["categories"] and listed["total"] == len(listed["entries"])
    assert call(editor, "get", "/api/kb/faq", params={"language": "fr"}).status_code == 400
    assert call(editor, "get", "/api/kb/faq", params={"limit": "many"}).status_code == 400

    category = f"gym{uuid.uuid4().hex[:6]}"
    entry = {"category": category, "zh": {"question": "健身房几点开门？", "answer": "每天6:00-22:00。"},
             "en": {"question": "When does the gym open?", "answer": "6:00 to 22:00 every day."}}
    created = call(editor, "post", "/api/kb/faq", entry)
    assert created.status_code == 201, created.text
    faq_id = created.json()["entry"]["faq_id"]
    assert faq_id == f"{category}-1" and created.json()["entry"]["demo"] is False
    assert created.json()["entry"]["updated_by"] == editor.user["username"]
    assert call(editor, "post", "/api/kb/faq", {**entry, "faq_id": faq_id}).status_code == 409
    for bad in ({"category": "x"}, {"category": "x", "zh": "text"}, {"category": "x", "zh": {"question": "q"}},
                {"faq_id": "a b", **entry}, {"category": ["x"], **{k: v for k, v in entry.items() if k != "category"}}):
        refused = call(editor, "post", "/api/kb/faq", bad)
        assert refused.status_code == 400 and refused.json()["message"], bad

    chinese = call(editor, "post", "/api/kb/faq", {**entry, "faq_id": f"健身-{category}"})
    assert chinese.status_code == 201
    fetched = call(editor, "get", f"/api/kb/faq/{quote(f'健身-{category}')}")
    assert fetched.status_code == 200 and fetched.json()["entry"]["zh"]["question"] == "健身房几点开门？"

    edited = call(editor, "put", f"/api/kb/faq/{faq_id}", {"category": category, "en": entry["en"]})
    assert edited.status_code == 200 and edited.json()["entry"]["zh"] is None
    assert call(editor, "put", "/api/kb/faq/no-such-entry", entry).status_code == 404
    assert call(editor, "put", f"/api/kb/faq/{faq_id}", {"category": category}).status_code == 400
    assert call(editor, "get", "/api/kb/faq", params={"category": category, "language": "zh"}).json()["total"] == 1
    for gone in (faq_id, quote(f"健身-{category}")):
        assert call(editor, "delete", f"/api/kb/faq/{gone}").json() == {"ok": True}
    assert call(editor, "delete", f"/api/kb/faq/{faq_id}").status_code == 404
    assert call(editor, "get", f"/api/kb/faq/{faq_id}").status_code == 404


def test_similar_questions_are_stored_returned_exported_and_checked(editor: Desk) -> None:
    category = f"gym{uuid.uuid4().hex[:6]}"
    entry = {"category": category,
             "zh": {"question": "健身房几点开门？", "answer": "每天6:00-22:00。",
                    "similar": ["健身房开放时间", " 几点能去健身 ", "健身房几点开门？", ""]},
             "en": {"question": "When does the gym open?", "answer": "6:00 to 22:00 every day."}}
    created = call(editor, "post", "/api/kb/faq", entry)
    assert created.status_code == 201, created.text
    faq_id = created.json()["entry"]["faq_id"]
    # trimmed, blank ones and the question itself dropped; a version without any has []
    stored = call(editor, "get", f"/api/kb/faq/{faq_id}").json()["entry"]
    assert stored["zh"]["similar"] == ["健身房开放时间", "几点能去健身"] and stored["en"]["similar"] == []

    changed = {**entry, "en": {**entry["en"], "similar": ["Gym opening hours"]}}
    edited = call(editor, "put", f"/api/kb/faq/{faq_id}", changed)
    assert edited.status_code == 200 and edited.json()["entry"]["en"]["similar"] == ["Gym opening hours"]
    stored = call(editor, "get", f"/api/kb/faq/{faq_id}").json()["entry"]
    assert stored["en"]["similar"] == ["Gym opening hours"] and stored["zh"]["similar"] == ["健身房开放时间", "几点能去健身"]

    # a string (not a list) or too many: 400, and nothing changes
    for bad in ({**entry, "zh": {**entry["zh"], "similar": "健身房开放时间"}},
                {**entry, "en": {**entry["en"], "similar": [f"Gym question {n}?" for n in range(31)]}}):
        refused = call(editor, "put", f"/api/kb/faq/{faq_id}", bad)
        assert refused.status_code == 400 and refused.json()["message"], refused.text
        assert call(editor, "get", f"/api/kb/faq/{faq_id}").json()["entry"] == stored
    refused = call(editor, "post", "/api/kb/faq", {**entry, "zh": {**entry["zh"], "similar": "健身房开放时间"}})
    assert refused.status_code == 400
    assert call(editor, "get", "/api/kb/faq", params={"category": category}).json()["total"] == 1

    # the export carries them (similar_zh, similar_en: one per line)
    exported = call(editor, "get", "/api/kb/faq/export", params={"format": "csv"})
    (mine,) = [e for e in read_faq_table("faq.csv", exported.content) if e.faq_id == faq_id]
    assert mine.zh.similar == ("健身房开放时间", "几点能去健身") and mine.en.similar == ("Gym opening hours",)
    assert call(editor, "delete", f"/api/kb/faq/{faq_id}").json() == {"ok": True}


def test_the_faq_exports_and_imports_as_csv_and_xlsx(editor: Desk) -> None:
    for fmt, mime in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
        exported = call(editor, "get", "/api/kb/faq/export", params={"format": fmt})
        assert exported.status_code == 200 and mime in exported.headers["Content-Type"]
        assert f'.{fmt}"' in exported.headers["Content-Disposition"]
        entries = {e.faq_id: e for e in read_faq_table(f"faq.{fmt}", exported.content)}
        assert entries["parking-visitor"].zh.question == QUESTION and entries["parking-visitor"].en is not None
    assert call(editor, "get", "/api/kb/faq/export", params={"format": "pdf"}).status_code == 400
    total = call(editor, "get", "/api/kb/faq").json()["total"]

    bad = "id,question_zh,answer_zh\nok-1,问题,答案\nbad-1,只有问题,\n".encode("gbk")
    refused = call(editor, "post", "/api/kb/faq/import", {**upload("faq.csv", bad), "mode": "merge"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["row"] == 3
    assert call(editor, "get", "/api/kb/faq").json()["total"] == total  # nothing imported
    for body, code in (({**upload("faq.txt", bad)}, 400), ({"filename": "faq.csv", "content_base64": "%%%"}, 400),
                       ({"content_base64": "eA=="}, 400), ({**upload("faq.csv", bad), "mode": "wipe"}, 400)):
        assert call(editor, "post", "/api/kb/faq/import", body).status_code == code, body
    for raw in (b"[1,2", b"[" * 1000):  # malformed; nested past the JSON parser's depth (was a 500)
        assert call(editor, "post", "/api/kb/faq/import", data=raw, headers={"Content-Type": "application/json"}
                    ).status_code == 400

    new_id = f"pool-{uuid.uuid4().hex[:6]}"
    table = write_faq_table([FaqEntry(new_id, "facilities", zh=FaqText("泳池开放吗？", "夏季开放。"))], "xlsx")
    imported = call(editor, "post", "/api/kb/faq/import", upload("faq.xlsx", table))
    assert imported.json() == {"created": 1, "updated": 0, "deleted": 0, "errors": []}, imported.text
    assert call(editor, "delete", f"/api/kb/faq/{new_id}").status_code == 200


# ---------------------------------------------------------------- documents
def _docx_with_table() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("收费标准", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "价格"
    table.cell(1, 0).text, table.cell(1, 1).text = "临时停车", "每小时6元"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_documents_are_uploaded_inspected_replaced_and_deleted(editor: Desk) -> None:
    from pypdf import PdfWriter

    name = f"收费标准-{uuid.uuid4().hex[:6]}.docx"
    added = call(editor, "post", "/api/kb/documents", upload(name, _docx_with_table()))
    assert added.status_code == 201, added.text
    document = added.json()["document"]
    assert document["kind"] == "docx" and document["chunks"] >= 1 and document["uploaded_by"] == editor.user["username"]
    assert name in [d["filename"] for d in call(editor, "get", "/api/kb/documents").json()["documents"]]
    chunks = call(editor, "get", f"/api/kb/documents/{document['id']}/chunks").json()
    assert "每小时6元" in " ".join(c["text"] for c in chunks["chunks"]) and chunks["document"]["id"] == document["id"]
    assert call(editor, "post", "/api/kb/documents", upload(name, _docx_with_table())).status_code == 409

    replaced = call(editor, "put", f"/api/kb/documents/{document['id']}",
                    upload(name.replace(".docx", ".txt"), "第一条 临时停车每小时8元。".encode("utf-8")))
    assert replaced.status_code == 200 and replaced.json()["document"]["kind"] == "txt"
    assert call(editor, "put", "/api/kb/documents/99999", upload("x.txt", b"text")).status_code == 404

    pdf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(pdf)
    scanned = call(editor, "post", "/api/kb/documents", upload("scan.pdf", pdf.getvalue()))
    assert scanned.status_code == 400 and scanned.json()["error"] == "no_text_layer" and "OCR" in scanned.json()["message"]
    assert call(editor, "post", "/api/kb/documents", upload("x.exe", b"MZ")).json()["error"] == "unsupported_type"
    assert call(editor, "post", "/api/kb/documents", upload("empty.txt", b"")).status_code == 400

    assert call(editor, "delete", f"/api/kb/documents/{document['id']}").json() == {"ok": True}
    assert call(editor, "delete", f"/api/kb/documents/{document['id']}").status_code == 404
    assert call(editor, "get", f"/api/kb/documents/{document['id']}/chunks").status_code == 404


def test_uploads_over_the_limit_get_413(kb_stack: Stack, people: Dict[str, str], editor: Desk) -> None:
    limit = 20 * 1024 * 1024  # LINLI_KB_MAX_UPLOAD_MB's default
    # A body within the base64 allowance whose file is one byte over the limit: read, then refused.
    over = call(editor, "post", "/api/kb/documents", upload("big.txt", b"x" * (limit + 1)))
    assert over.status_code == 413 and over.json()["error"] == "too_large"
    # A body declared larger than any upload: refused before it is read.
    token = requests.post(f"{kb_stack.rasa_url}/api/login", json={"username": people["editor"],
                                                                  "password": EDITOR_PASSWORD}).json()["token"]
    address = urlparse(kb_stack.rasa_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", "/api/kb/documents")
    for header, value in (("Content-Type", "application/json"), ("Authorization", f"Bearer {token}"),
                          ("Content-Length", str(100 * limit))):
        connection.putheader(header, value)
    connection.endheaders(b'{"filename": "huge.txt", "content_base64": "')
    answer = connection.getresponse()
    assert answer.status == 413
    connection.close()
    # Other routes keep the 1 MiB limit.
    assert call(editor, "post", "/api/kb/faq", {"category": "x" * (2 * 1024 * 1024)}).status_code == 413


# ---------------------------------------------------------------- re-index → residents' answers
def test_an_faq_edit_reaches_residents_after_a_reindex_without_a_restart(kb_stack: Stack, editor: Desk) -> None:
    assert ORIGINAL in kb_stack.say(f"kb-{uuid.uuid4().hex[:8]}", QUESTION)
    original = call(editor, "get", "/api/kb/faq/parking-visitor").json()["entry"]
    changed = {"category": "parking", "zh": {"question": QUESTION, "answer": "访客车辆登记后可停东门访客车位，前3小时免费，之后每小时8元。"},
               "en": original["en"]}
    assert call(editor, "put", "/api/kb/faq/parking-visitor", changed).status_code == 200
    assert call(editor, "get", "/api/kb/status").json()["dirty"] is True
    before = call(editor, "get", "/api/kb/versions").json()["active"]

    started = call(editor, "post", "/api/kb/reindex")
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    assert job["status"] == "queued" and job["started_by"] == editor.user["username"]
    busy = call(editor, "post", "/api/kb/reindex")
    assert busy.status_code == 409 and busy.json()["error"] == "job_running" and busy.json()["job"]["id"] == job["id"]
    done = finished(editor, job["id"])
    assert done["status"] == "done" and done["progress"] == 1.0, done
    # Unchanged content keeps its embeddings, the seeded content's included (no full re-embedding).
    assert int(re.search(r"(\d+) embedded now", done["message"]).group(1)) < 50, done["message"]
    status = call(editor, "get", "/api/kb/status").json()
    assert status["dirty"] is False and status["active_version"] == done["version_id"] != before
    assert status["job"]["id"] == job["id"] and status["reload_seconds"] == 0.5
    assert call(editor, "get", "/api/kb/jobs").json()["jobs"][0]["id"] == job["id"]

    wait_for(lambda: "前3小时免费" in kb_stack.say(f"kb-{uuid.uuid4().hex[:8]}", QUESTION), 60,
             "the resident's answer from the new version")

    # Restore the previous version: residents get the old answer back; the content is now ahead of it.
    restored = call(editor, "post", f"/api/kb/versions/{before}/activate")
    assert restored.json() == {"active": before, "reload_seconds": 0.5}
    assert call(editor, "get", "/api/kb/status").json()["dirty"] is True
    wait_for(lambda: ORIGINAL in kb_stack.say(f"kb-{uuid.uuid4().hex[:8]}", QUESTION), 60, "the restored answer")
    versions = call(editor, "get", "/api/kb/versions").json()
    assert versions["active"] == before and done["version_id"] in [v["id"] for v in versions["versions"]]
    assert call(editor, "post", "/api/kb/versions/999999/activate").status_code == 404

    # Leave the kb_stack as it was: the original entry, indexed.
    assert call(editor, "put", "/api/kb/faq/parking-visitor", {k: original[k] for k in ("category", "zh", "en")}
                ).status_code == 200
    again = finished(editor, call(editor, "post", "/api/kb/reindex").json()["job"]["id"])
    assert again["status"] == "done" and call(editor, "get", "/api/kb/status").json()["dirty"] is False


def test_jobs_status_and_setup_answer_and_refuse_bad_input(editor: Desk) -> None:
    assert call(editor, "get", "/api/kb/jobs", params={"limit": "x"}).status_code == 400
    assert call(editor, "get", "/api/kb/jobs/999999").status_code == 404
    setup = call(editor, "get", "/api/kb/setup").json()
    assert setup["demo_facts"]["community_name"] == {"zh": "阳光花园", "en": "Sunshine Garden"}
    assert len(setup["demo_facts"]["phones"]) == 4 and isinstance(setup["demo"], bool)
    revision = call(editor, "get", "/api/kb/status").json()["revision"]
    for bad in ({"mode": "wipe"}, {}, {"mode": "customise", "community_name_zh": "翠湖苑"},
                {"mode": "customise", "community_name_zh": "翠湖苑", "community_name_en": "Green Lake",
                 "office_hours_zh": "9-17", "office_hours_en": "9-17", "phones": {"110": "120"}}):
        refused = call(editor, "post", "/api/kb/setup", bad)
        assert refused.status_code == 400 and refused.json()["message"], bad
    assert call(editor, "get", "/api/kb/status").json()["revision"] == revision  # nothing changed
