"""The knowledge-base page's review routes: hit testing and unanswered questions.

On the ``kb_stack`` (a real Rasa server + action server); the hit test's failure paths also
in-process against a closed port and the real action server with a wrong token.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

import pytest
from sqlalchemy import create_engine, func, select

from bot.staff.store import Identity
from knowledge.config import load_config
from knowledge.tables import kb_unanswered
from knowledge.unanswered import UnansweredStore
from tests.handoff.conftest import AGENT_PASSWORD, ADMIN_PASSWORD, Desk, create_account
from tests.servers import Stack, built_index, free_port

EDITOR_PASSWORD = "editor-pass-123"
# `make index` adds the shared regulations (Beijing's, Qingdao's, ... among them) when present:
# the stack serves that index, so its manifest says whether they are in the base.
HAS_OTHER_CITIES = any(Path(f).name.startswith("北京市物业管理条例")
                       for f in json.loads((built_index() / "manifest.json").read_text(encoding="utf-8"))["files"])
ROUTES = [("post", "/api/kb/hit-test", {"question": "物业费怎么交？"}), ("get", "/api/kb/unanswered", None),
          ("post", "/api/kb/unanswered/ignore", {"ids": [1]}),
          ("post", "/api/kb/unanswered/answered", {"ids": [1], "faq_id": "fees-payment"})]


@pytest.fixture(scope="module")
def kb_accounts(kb_stack: Stack) -> Dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    names = {"editor": f"editor{suffix}", "agent": f"agent{suffix}", "admin": f"admin{suffix}"}
    create_account(kb_stack, names["editor"], EDITOR_PASSWORD, "editor")
    create_account(kb_stack, names["agent"], AGENT_PASSWORD, "agent")
    create_account(kb_stack, names["admin"], ADMIN_PASSWORD, "admin")
    return names


def login(stack: Stack, username: str, password: str) -> Desk:
    desk = Desk(stack.rasa_url)
    assert desk.login(username, password).status_code == 200
    return desk


@pytest.fixture(scope="module")
def editor(kb_stack: Stack, kb_accounts: Dict[str, str]) -> Desk:
    """One editor session for the module (a login hashes the password: slow on purpose)."""
    return login(kb_stack, kb_accounts["editor"], EDITOR_PASSWORD)


@pytest.fixture
def engine(kb_stack: Stack) -> Iterator[Any]:
    engine = create_engine(kb_stack.database_url, future=True)
    yield engine
    engine.dispose()


def logged(engine: Any, question: str) -> int:
    """How often ``question`` was recorded as unanswered."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(kb_unanswered)
                            .where(kb_unanswered.c.question == question)).scalar_one()


def send(desk: Desk, method: str, path: str, payload: Any) -> Any:
    return desk.get(path) if method == "get" else desk.post(path, payload)


# ---------------------------------------------------------------- refusals
def test_every_review_route_refuses_without_a_session_and_to_agents(kb_stack: Stack, kb_accounts: Dict[str, str],
                                                                      editor: Desk) -> None:
    anonymous, agent = Desk(kb_stack.rasa_url), login(kb_stack, kb_accounts["agent"], AGENT_PASSWORD)
    admin = login(kb_stack, kb_accounts["admin"], ADMIN_PASSWORD)
    for method, path, payload in ROUTES:
        refused = send(anonymous, method, path, payload)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthenticated", path
        refused = send(agent, method, path, payload)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden", path
        if method == "post":  # a cross-site form cannot post for a logged-in editor
            form = editor.http.post(kb_stack.rasa_url + path, data="ids=1", timeout=30,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert form.status_code == 415, path
    assert admin.get("/api/kb/unanswered").status_code == 200  # admins have every role


# ---------------------------------------------------------------- hit test
def check_decision(result: Dict[str, Any]) -> None:
    """The decision is the one the thresholds give for the best score (answer.py's rules)."""
    cfg, lang = load_config(), result["language"]
    # The demo base has 49 FAQ questions per language or more: its threshold is measured on them
    # (knowledge/calibration.py), a percentile of held-out cosines, not the fixed fallback.
    abstention = result["abstention"]
    assert abstention["measured"] and abstention["percentile"] == cfg.abstain_quantile
    assert abstention["questions"] >= 49  # the demo FAQ's, plus any entry an earlier test added
    threshold = result["thresholds"]["abstain_below"]
    assert 0.8 < threshold < 0.95
    assert result["thresholds"] == {"abstain_below": threshold,
                                    "extractive_faq_above": cfg.extractive_faq_above(lang), "min_support": cfg.min_support}
    # The stack's community is in Hangzhou: another city's regulation is never among the passages.
    region = result["region"]
    assert region["name"] == "浙江省杭州市"
    assert not any(h["title"] in region["not_cited"] or h["title"].startswith(("北京市", "上海市", "青岛市"))
                   for h in result["hits"]), result["hits"]
    assert all(not title.startswith(("物业管理条例", "中华人民共和国")) for title in region["not_cited"]), region
    if HAS_OTHER_CITIES:
        assert {"北京市物业管理条例", "青岛市物业管理条例"} <= set(region["not_cited"]), region
    best = result["hits"][0]
    assert result["confidence"] == best["score"] and best["rank"] == 1
    if best["score"] < threshold:
        assert result["decision"] == "abstain" and result["mode"] == "abstained"
    elif best["kind"] == "faq" and best["score"] >= cfg.extractive_faq_above(lang):
        assert result["decision"] == "faq" and result["mode"] == "extractive"
        assert result["reply"].startswith(best["text"])
    else:
        assert result["decision"] == "generate" and result["mode"] in ("generated", "fallback")


@pytest.mark.parametrize("question,language", [("物业费怎么交？", "zh"), ("How do I pay the management fee?", "en")])
def test_the_hit_test_reply_is_exactly_what_a_resident_gets(kb_stack: Stack, editor: Desk, sender: str,
                                                             question: str, language: str) -> None:
    answer = editor.post("/api/kb/hit-test", {"question": question})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["intent"]["knowledge_base"], result["intent"]  # the NLU sends it to the knowledge base
    assert result["language"] == language and isinstance(result["kb_version"], int)
    assert len(result["hits"]) == load_config().top_k
    assert [h["rank"] for h in result["hits"]] == list(range(1, len(result["hits"]) + 1))
    assert {"chunk_id", "kind", "title", "citation", "section", "text", "score"} <= set(result["hits"][0])
    check_decision(result)
    assert result["decision"] != "abstain"  # the demo answers it
    assert kb_stack.say(sender, question) == result["reply"]


def test_a_regulation_question_is_never_answered_with_another_citys_rules(kb_stack: Stack, editor: Desk,
                                                                           sender: str) -> None:
    # Qingdao's regulation (第二十八条) answered this before the stack's region was set.
    question = "业主大会的决定需要多少业主同意？"
    result = editor.post("/api/kb/hit-test", {"question": question}).json()
    check_decision(result)
    reply = kb_stack.say(sender, question)
    assert reply == result["reply"]
    assert not any(city in reply for city in ("北京", "上海", "青岛")), reply


def test_a_hit_test_is_never_logged_as_unanswered(kb_stack: Stack, editor: Desk, engine: Any, sender: str) -> None:
    question = "小区里可以举办烧烤派对吗？"
    result = editor.post("/api/kb/hit-test", {"question": question}).json()
    check_decision(result)
    assert result["decision"] == "abstain", result["hits"][0]
    assert logged(engine, question) == 0
    assert kb_stack.say(sender, question) == result["reply"]
    assert logged(engine, question) == 1  # the resident's question is (the test can fail)


def test_the_hit_test_language_is_the_messages_else_the_one_asked_for(editor: Desk) -> None:
    assert editor.post("/api/kb/hit-test", {"question": "物业费怎么交？", "language": "en"}).json()["language"] == "zh"
    neutral = editor.post("/api/kb/hit-test", {"question": "12345", "language": "en"}).json()
    assert neutral["language"] == "en" and neutral["reply"].startswith(("Sorry", neutral["hits"][0]["text"][:10]))
    assert editor.post("/api/kb/hit-test", {"question": "12345"}).json()["language"] == "zh"


@pytest.mark.parametrize("payload,code", [({}, "missing_question"), ({"question": "  "}, "missing_question"),
                                          ({"question": 7}, "missing_question"), ({"question": "x" * 1001}, "too_long"),
                                          ({"question": "物业费怎么交？", "language": "fr"}, "bad_language")])
def test_a_bad_hit_test_request_is_a_400_that_says_what_to_send(editor: Desk, payload: Dict[str, Any], code: str) -> None:
    answer = editor.post("/api/kb/hit-test", payload)
    assert answer.status_code == 400 and answer.json()["error"] == code and answer.json()["message"]


class FakeAgent:
    """What the desk route uses of Rasa's agent: the action endpoint and the NLU."""

    def __init__(self, url: str, token: str) -> None:
        self.processor = object()
        self.action_endpoint = SimpleNamespace(url=url, headers={"Authorization": f"Bearer {token}"})

    async def parse_message(self, text: str) -> Dict[str, Any]:
        return {"intent": {"name": "ask_question", "confidence": 0.9}}


def desk_request(agent: Any, payload: Dict[str, Any]) -> Any:
    """A request as Sanic hands it to the route: an editor's bearer session, a JSON body."""
    staff = SimpleNamespace(identity=lambda token: Identity(1, "ed", "Ed", "editor") if token == "editor-token" else None)
    return SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace(staff_store=staff, agent=agent)), json=payload,
                           headers={"authorization": "Bearer editor-token"}, cookies={}, method="POST",
                           content_type="application/json", ctx=SimpleNamespace())


async def call_route(agent: Any, payload: Dict[str, Any]) -> Any:
    from bot.web.kb_review_api import hit_test

    response = await hit_test(desk_request(agent, payload))
    return response.status, json.loads(response.body)


async def test_the_hit_test_says_502_when_the_action_server_is_down_and_503_while_loading() -> None:
    status, data = await call_route(FakeAgent(f"http://127.0.0.1:{free_port()}/webhook", "x"), {"question": "物业费怎么交？"})
    assert status == 502 and data["error"] == "action_server_down" and "python -m bot.action_server" in data["message"]
    status, data = await call_route(None, {"question": "物业费怎么交？"})
    assert status == 503 and data["error"] == "loading"
    status, data = await call_route(FakeAgent(f"http://127.0.0.1:{free_port()}/webhook", "x"), {"question": ""})
    assert status == 400  # checked before anything is called


async def test_the_hit_test_reaches_the_action_server_behind_its_token(kb_stack: Stack) -> None:
    status, data = await call_route(FakeAgent(f"{kb_stack.action_url}/webhook", "wrong-token"), {"question": "物业费怎么交？"})
    assert status == 502 and data["error"] == "action_server_refused" and "ACTION_SERVER_TOKEN" in data["message"]
    status, data = await call_route(FakeAgent(f"{kb_stack.action_url}/webhook/", kb_stack.action_token), {"question": "物业费怎么交？"})
    assert status == 200 and data["reply"] and data["intent"]["knowledge_base"]


def test_the_action_servers_base_url_comes_from_the_webhook_url() -> None:
    from bot.web.kb_review_api import action_base_url

    assert action_base_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055"
    assert action_base_url("https://actions.example/linli/webhook/") == "https://actions.example/linli"
    assert action_base_url("http://10.0.0.5:5055") == "http://10.0.0.5:5055"


# ---------------------------------------------------------------- unanswered questions
def rare_topic() -> str:
    """Three rare characters: a topic no other test's questions share."""
    return "".join(chr(random.randint(0x9A00, 0x9EFF)) for _ in range(3))


def groups_of(desk: Desk, topic: str, status: str = "new") -> List[Dict[str, Any]]:
    answer = desk.get(f"/api/kb/unanswered?status={status}&limit=500")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == status
    return [g for g in answer.json()["groups"] if topic in g["question"]]


def test_unanswered_questions_are_grouped_ignored_and_answered(kb_stack: Stack, editor: Desk, engine: Any) -> None:
    topic = rare_topic()
    store = UnansweredStore(engine)
    for question in (f"{topic}在哪里？", f"{topic}多少钱", f"{topic}在哪", f"我电话13812345678，{topic}在哪"):
        store.record(question, "zh", 0.8, "rest:resident")
    groups = groups_of(editor, topic)
    where = next(g for g in groups if g["count"] == 3)
    cost = next(g for g in groups if g["count"] == 1)
    assert len(groups) == 2 and cost["question"] == f"{topic}多少钱"
    assert len(where["ids"]) == 3 and where["language"] == "zh" and where["last_at"].endswith("Z")
    assert f"我电话138****5678，{topic}在哪" in where["examples"]  # a review list: phones masked
    assert not any("13812345678" in json.dumps(g, ensure_ascii=False) for g in groups)

    ignored = editor.post("/api/kb/unanswered/ignore", {"ids": where["ids"]})
    assert ignored.status_code == 200 and ignored.json() == {"updated": 3}
    assert [g["question"] for g in groups_of(editor, topic)] == [cost["question"]]
    assert groups_of(editor, topic, "ignored")[0]["count"] == 3
    answered = editor.post("/api/kb/unanswered/answered", {"ids": cost["ids"], "faq_id": "fees-lockers"})
    assert answered.json() == {"updated": 1} and groups_of(editor, topic) == []
    assert store.latest(1, "answered")[0]["faq_id"] == "fees-lockers"
    # The dashboard lists only questions nobody reviewed.
    top = editor.get("/api/stats/unanswered").json()["top"]
    assert not any(topic in t["question"] for t in top)


@pytest.mark.parametrize("payload", [{}, {"ids": []}, {"ids": "1"}, {"ids": ["1"]}, {"ids": [True]}, {"ids": [0]},
                                     {"ids": [2**31]}, {"ids": [1.5]}, {"ids": list(range(1, 2002))}])
def test_review_marks_need_ids(editor: Desk, payload: Dict[str, Any]) -> None:
    for path in ("/api/kb/unanswered/ignore", "/api/kb/unanswered/answered"):
        answer = editor.post(path, {**payload, "faq_id": "x"})
        assert answer.status_code == 400 and answer.json()["error"] in ("missing_ids", "bad_ids", "too_many_ids"), answer.text


def test_answered_needs_the_faq_id_and_the_list_checks_its_parameters(editor: Desk) -> None:
    for faq_id in (None, "", "  ", 7, "x" * 256):
        answer = editor.post("/api/kb/unanswered/answered", {"ids": [1], "faq_id": faq_id})
        assert answer.status_code == 400 and answer.json()["error"] == "missing_faq_id"
    assert editor.get("/api/kb/unanswered?status=done").status_code == 400
    assert editor.get("/api/kb/unanswered?limit=many").status_code == 400
    assert editor.get("/api/kb/unanswered?limit=0").status_code == 200  # clamped to 1


def test_the_review_routes_are_in_the_openapi_document(editor: Desk) -> None:
    paths = editor.get("/api/openapi.json").json()["paths"]
    assert {"/api/kb/hit-test", "/api/kb/unanswered", "/api/kb/unanswered/ignore", "/api/kb/unanswered/answered"} <= set(paths)
    assert set(paths["/api/kb/hit-test"]["post"]["responses"]) >= {"200", "400", "401", "403", "502", "503"}
