"""Two Linli replicas and two action servers behind nginx, on PostgreSQL, Redis and RabbitMQ.

What a property group's cluster must do (issue 12): a resident on one replica and an agent
on the other talk to each other (WeChat and the web widget), a replica that crashes mid-form
loses nothing, one WeChat message delivered three times to different replicas makes one
ticket, and a notification sent while WeChat's API is down arrives once it is back. WeChat's
API is the local double of tests/channels/fakes.py; everything else is real.
"""

from __future__ import annotations

import concurrent.futures
import signal
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.wechat_client import WeChatServer, next_msg_id, text_xml
from tests.cluster import Cluster, ServiceUnavailable, start_cluster
from tests.handoff.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, Desk, create_account, handoff_of
from tests.handoff.resident import WidgetResident
from tests.servers import post_json, tickets_of

@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeApis]:
    apis = FakeApis().start()
    yield apis
    apis.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, fakes: FakeApis) -> Iterator[Cluster]:
    try:
        running = start_cluster(tmp_path_factory.mktemp("cluster"), trained_model, replicas=2, extra_env={
            "WECHAT_TOKEN": WECHAT_TOKEN, "WECHAT_APP_ID": WECHAT_APP_ID, "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
            "WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY, "WECHAT_API_BASE_URL": f"{fakes.url}/wechat",
            "LINLI_NOTIFY_INTERVAL": "1", "LINLI_OUTBOX_INTERVAL": "1", "LINLI_OUTBOX_BACKOFF": "1",
            "LINLI_OUTBOX_MAX_BACKOFF": "2", "KNOWLEDGE_WARM_UP": "0", "HANDOFF_TIMEOUT_SECONDS": "0",
        })
    except ServiceUnavailable as exc:
        pytest.skip(f"the cluster needs PostgreSQL, Redis, RabbitMQ and nginx: {exc}")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def agent_on_b(cluster: Cluster) -> Desk:
    """A member of staff logged in on replica 1 (B)."""
    username = f"agent{uuid.uuid4().hex[:6]}"
    create_account(cluster, username, AGENT_PASSWORD, "agent")  # type: ignore[arg-type]
    desk = Desk(cluster.replicas[1].rasa_url)
    assert desk.login(username, AGENT_PASSWORD).status_code == 200
    return desk


def wechat(replica_url: str) -> WeChatServer:
    return WeChatServer(replica_url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)


def sent_to(fakes: FakeApis, openid: str) -> List[str]:
    return [c.params["text"]["content"] for c in fakes.find("wechat", "message/custom/send", touser=openid)]


def say_on(url: str, token: str, sender: str, message: str) -> str:
    """One REST message straight to one replica (not through nginx)."""
    replies = post_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": message},
                        headers={"Authorization": f"Bearer {token}"})
    return "\n".join(m.get("text", "") for m in replies)


def test_a_wechat_resident_on_a_and_an_agent_on_b_talk(cluster: Cluster, agent_on_b: Desk, fakes: FakeApis) -> None:
    openid = f"o{uuid.uuid4().hex[:20]}"
    on_a = wechat(cluster.replicas[0].rasa_url)
    reply = on_a.post(text_xml(openid, "我要转人工"), openid=openid)
    assert reply.status == 200 and "转接人工客服" in (reply.content or ""), reply
    handoff = handoff_of(agent_on_b, openid)  # B's desk sees the handoff A opened
    # The resident writes again on A: B's long poll wakes with it (Redis pub/sub).
    waited = time.monotonic()
    on_a.post(text_xml(openid, "我家卫生间漏水了"), openid=openid)
    messages = agent_on_b.get(f"/api/handoffs/{handoff['id']}/messages?after=0&wait=20").json()["messages"]
    assert ("resident", "我家卫生间漏水了") in [(m["from"], m.get("text")) for m in messages]
    assert time.monotonic() - waited < 15
    answer = agent_on_b.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "您好，维修师傅十分钟后到。"})
    assert answer.status_code == 200, answer.text
    fakes.wait_for(lambda: "您好，维修师傅十分钟后到。" in sent_to(fakes, openid))


def test_a_widget_resident_on_a_gets_the_reply_an_agent_sends_through_b(cluster: Cluster, agent_on_b: Desk) -> None:
    resident = WidgetResident(cluster.replicas[0].rasa_url)
    try:
        resident.say("我要转人工")
        resident.wait_for("转接人工客服")
        handoff = handoff_of(agent_on_b, resident.session_id)
        answer = agent_on_b.post(f"/api/handoffs/{handoff['id']}/reply", {"text": "我是物业小王，请讲。"})
        assert answer.status_code == 200 and answer.json()["delivered"] is True, answer.text
        resident.wait_for("我是物业小王", timeout=20)  # socket.io room on A, emitted by B through Redis
    finally:
        resident.close()


#: What a resident answers to each of the repair form's questions.
ANSWERS = {"请确认报修信息": "确认", "哪一类": "水管", "紧急吗": "不急", "联系电话": "13812345678",
           "上门时间": "明天上午十点以后"}  # the confirmation first: it repeats the other questions' words


def answer_to(question: str) -> str:
    return next(answer for key, answer in ANSWERS.items() if key in question)


def test_a_replica_killed_mid_form_loses_nothing(cluster: Cluster) -> None:
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    a = cluster.replicas[0]
    said = ["5栋1203卫生间水管漏水了，要报修"]
    question = say_on(a.rasa_url, cluster.rest_token, sender, said[0])
    said.append(answer_to(question))
    question = say_on(a.rasa_url, cluster.rest_token, sender, said[1])
    cluster.kill(0, signal.SIGKILL)  # a crash: no shutdown work at all
    try:
        # The form goes on on B, through nginx as a resident's phone would.
        for _ in range(6):
            if "报修已提交" in question:
                break
            question = cluster.say(sender, answer_to(question))
        assert "报修已提交" in question, question
        tickets = tickets_of(cluster, sender)  # type: ignore[arg-type]
        assert len(tickets) == 1
        ticket = tickets[0]
        assert (ticket.building, ticket.room, ticket.phone) == ("5", "1203", "13812345678")
        assert "漏水" in ticket.description
        users = [e["text"] for e in cluster.tracker(sender)["events"] if e["event"] == "user"]
        assert users[:2] == said  # what A handled before it died is kept
    finally:
        cluster.revive(0)


def test_three_deliveries_of_one_wechat_message_to_different_replicas_make_one_ticket(cluster: Cluster) -> None:
    openid = f"o{uuid.uuid4().hex[:20]}"
    xml = text_xml(openid, "3栋502厨房煤气味很重", msg_id=next_msg_id())
    urls = [cluster.replicas[0].rasa_url, cluster.replicas[1].rasa_url, cluster.replicas[0].rasa_url]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda url: wechat(url).post(xml, openid=openid), urls))
    assert all(r.status == 200 for r in replies), replies
    time.sleep(2)  # let a late duplicate finish if one slipped through
    tickets = tickets_of(cluster, openid, channel="wechat")  # type: ignore[arg-type]
    assert len(tickets) == 1 and tickets[0].urgency == "urgent", tickets
    users = [e for e in cluster.tracker(openid, channel="wechat")["events"] if e["event"] == "user"]
    assert len(users) == 1


def test_a_notification_sent_while_wechat_is_down_arrives_once_it_is_back(cluster: Cluster, agent_on_b: Desk,
                                                                          fakes: FakeApis) -> None:
    openid = f"o{uuid.uuid4().hex[:20]}"
    wechat(cluster.replicas[0].rasa_url).post(text_xml(openid, "2栋301客厅有煤气味"), openid=openid)
    tickets = tickets_of(cluster, openid, channel="wechat")  # type: ignore[arg-type]
    assert len(tickets) == 1
    number = tickets[0].number
    fakes.fail_wechat_send = True
    try:
        changed = agent_on_b.post(f"/api/tickets/{number}/status", {"status": "in_progress", "note": "师傅已出发"})
        assert changed.status_code == 200, changed.text
        fakes.wait_for(lambda: fakes.find("wechat", "message/custom/send (refused)", touser=openid), timeout=30)
        assert not any(number in text for text in sent_to(fakes, openid))
    finally:
        fakes.fail_wechat_send = False
    fakes.wait_for(lambda: any(number in text for text in sent_to(fakes, openid)), timeout=60)
    time.sleep(3)
    assert sum(number in text and "师傅已出发" in text for text in sent_to(fakes, openid)) == 1


def admin_on(cluster: Cluster, index: int) -> Desk:
    """A new admin logged in on replica ``index``."""
    username = f"admin{uuid.uuid4().hex[:6]}"
    create_account(cluster, username, ADMIN_PASSWORD, "admin")  # type: ignore[arg-type]
    desk = Desk(cluster.replicas[index].rasa_url)
    assert desk.login(username, ADMIN_PASSWORD).status_code == 200
    return desk


def test_a_notice_and_an_incident_across_replicas_reach_the_resident_once(cluster: Cluster, fakes: FakeApis) -> None:
    """Issue 14 in the cluster: a WeChat resident states where they live on B; a notice sent from
    A to their building reaches them once; an incident declared on A answers their outage question
    on B; resolved on B, they are told once (every replica runs an outbox worker and the incident loop)."""
    admin_a, admin_b = admin_on(cluster, 0), admin_on(cluster, 1)
    openid = f"o{uuid.uuid4().hex[:20]}"
    on_b = wechat(cluster.replicas[1].rasa_url)
    assert "对吗" in (on_b.post(text_xml(openid, "我住8栋1单元801"), openid=openid).content or "")
    assert "已记下" in (on_b.post(text_xml(openid, "是"), openid=openid).content or "")

    target = {"kind": "buildings", "buildings": ["8"]}
    preview = admin_a.post("/api/notices/preview", {"target": target})
    assert preview.status_code == 200 and preview.json()["preview"]["will_send"] == 1, preview.text
    created = admin_a.post("/api/notices", {"title_zh": "8号楼电梯保养", "body_zh": "周六上午电梯保养，请走楼梯。",
                                            "title_en": "Lift service", "body_en": "Lift service on Saturday.",
                                            "target": target})
    assert created.status_code == 201, created.text
    assert admin_a.post(f"/api/notices/{created.json()['notice']['id']}/send").status_code == 200
    fakes.wait_for(lambda: any("8号楼电梯保养" in t for t in sent_to(fakes, openid)), timeout=60)

    end = (datetime.now(timezone.utc) + timedelta(hours=4)).isoformat()
    declared = admin_a.post("/api/incidents", {"kind": "water", "title_zh": "8号楼停水检修",
                                               "title_en": "Water off in building 8", "buildings": ["8"],
                                               "expected_end_at": end})
    assert declared.status_code == 201, declared.text
    answer = on_b.post(text_xml(openid, "停水了吗？什么时候来水"), openid=openid).content or ""
    assert "8号楼停水检修" in answer and "预计恢复时间" in answer, answer
    resolved = admin_b.post(f"/api/incidents/{declared.json()['incident']['id']}/resolve", {"note": "已恢复供水"})
    assert resolved.status_code == 200, resolved.text

    def resolutions() -> List[str]:
        return [t for t in sent_to(fakes, openid) if "8号楼停水检修已恢复" in t]

    fakes.wait_for(resolutions, timeout=60)
    time.sleep(3)  # no other replica's worker or incident loop sends anything twice
    assert len(resolutions()) == 1 and "已恢复供水" in resolutions()[0], sent_to(fakes, openid)
    assert sum("8号楼电梯保养" in t for t in sent_to(fakes, openid)) == 1
