"""Photos and voice from WeChat and Telegram are downloaded when they arrive, kept in the media
store and attached as ``media:<id>``; the platforms are the local doubles (tests/channels/fakes.py)."""

from __future__ import annotations

import hashlib
import http.server
import itertools
import json
import random
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.channels.fakes import FakeApis
from tests.channels.wechat_client import WeChatServer, message_xml, next_msg_id
from tests.handoff.conftest import Desk
from tests.media import samples
from tests.media.conftest import media_files, media_of, open_ticket, tickets
from tests.servers import ROOT, Stack

_UPDATES = itertools.count(random.randint(10_000_000, 20_000_000))


@pytest.fixture
def openid() -> str:
    return f"o-media-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def picture_server() -> Iterator[dict]:
    """A plain HTTP server standing in for WeChat's PicUrl host: path → bytes."""
    files: dict = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            data = files.get(self.path)
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield files
    server.shutdown()


def image_xml(openid: str, media_id: str, pic_url: str) -> str:
    return message_xml(openid, "image", {"PicUrl": pic_url, "MediaId": media_id}, next_msg_id())


def test_a_wechat_photo_is_downloaded_by_the_media_api_and_attached(
    wechat: WeChatServer, media_stack: Stack, fake_apis: FakeApis, staff: Desk, openid: str
) -> None:
    number = open_ticket(media_stack, "wechat", openid)
    photo = samples.jpeg(seed=11)
    media_id = f"MEDIA-{uuid.uuid4().hex[:8]}"
    fake_apis.wechat_media[media_id] = (photo, "image/jpeg")

    reply = wechat.post(image_xml(openid, media_id, "http://mmbiz.example/leak.jpg"), openid=openid)
    assert reply.status == 200 and number in (reply.content or "") and "已添加" in (reply.content or ""), reply.body

    (call,) = fake_apis.find("wechat", "media/get", media_id=media_id)
    assert call.query["access_token"].startswith("ACCESS-")  # with the shared access token
    (record,) = media_of(media_stack, f"wechat:{openid}")
    assert (record["kind"], record["content_type"], record["size"]) == ("image", "image/jpeg", len(photo))
    assert record["sha256"] == hashlib.sha256(photo).hexdigest() and record["channel"] == "wechat"
    assert any(p.name == record["sha256"] and p.read_bytes() == photo for p in media_files(media_stack))
    (attachment,) = tickets(media_stack).get(number).attachments
    assert (attachment.ref, attachment.kind) == (f"media:{record['id']}", "image")

    # The desk gets the bytes from Linli itself, never from WeChat: by the ticket's attachment route and by id.
    for path in (f"/api/tickets/{number}/attachments/{attachment.id}", f"/api/media/{record['id']}"):
        answer = staff.get(path)
        assert answer.status_code == 200 and answer.content == photo, path
        assert answer.headers["Content-Type"] == "image/jpeg"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Disposition"].startswith("inline")
        assert answer.headers["Cache-Control"].startswith("private")
    assert Desk(media_stack.rasa_url).get(f"/api/media/{record['id']}").status_code == 401  # staff only
    assert staff.get("/api/media/" + "0" * 32).status_code == 404
    assert staff.get("/api/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    ticket = staff.get(f"/api/tickets/{number}").json()["ticket"]
    assert ticket["attachments"][0]["url"] == f"/api/tickets/{number}/attachments/{attachment.id}"
    # Both views are in the audit log, with whose photo it is.
    with create_engine(media_stack.database_url, future=True).connect() as conn:
        audited = conn.execute(text("SELECT action, resident FROM audit_log WHERE action IN "
                                    "('view_attachment', 'view_media') AND resident = :r"),
                               {"r": f"wechat:{openid}"}).all()
    assert sorted(a for a, _ in audited) == ["view_attachment", "view_media"]


def test_an_expired_wechat_media_id_falls_back_to_the_picurl_then_to_the_reference(
    wechat: WeChatServer, media_stack: Stack, fake_apis: FakeApis, picture_server: dict, openid: str
) -> None:
    number = open_ticket(media_stack, "wechat", openid)
    photo = samples.jpeg(seed=12)
    picture_server["/mmbiz/1.jpg"] = photo
    reply = wechat.post(image_xml(openid, "EXPIRED-1", picture_server["url"] + "/mmbiz/1.jpg"), openid=openid)
    assert reply.status == 200 and number in (reply.content or "")
    assert fake_apis.find("wechat", "media/get", media_id="EXPIRED-1")  # tried first (errcode 40007)
    (record,) = media_of(media_stack, f"wechat:{openid}")
    assert record["sha256"] == hashlib.sha256(photo).hexdigest()

    # Neither works: the platform's reference is attached as before, the message is not lost.
    dead = "http://127.0.0.1:9/gone.jpg"
    reply = wechat.post(image_xml(openid, "EXPIRED-2", dead), openid=openid)
    assert reply.status == 200 and number in (reply.content or "")
    refs = [a.ref for a in tickets(media_stack).get(number).attachments]
    assert refs == [f"media:{record['id']}", dead]


def test_a_wechat_file_that_is_not_a_photo_is_refused_and_the_resident_told(
    wechat: WeChatServer, media_stack: Stack, fake_apis: FakeApis, openid: str
) -> None:
    number = open_ticket(media_stack, "wechat", openid)
    fake_apis.wechat_media["HTML-1"] = (samples.HTML, "image/jpeg")  # it says jpeg; the bytes say otherwise
    fake_apis.wechat_media["BIG-1"] = (samples.jpeg() + bytes(600 * 1024), "image/jpeg")  # over 0.5 MB
    for media_id in ("HTML-1", "BIG-1"):
        reply = wechat.post(image_xml(openid, media_id, "http://127.0.0.1:9/x.jpg"), openid=openid)
        assert reply.status == 200 and "无法保存" in (reply.content or "") and "0.5 MB" in reply.content, reply.content
    assert media_of(media_stack, f"wechat:{openid}") == []
    assert tickets(media_stack).get(number).attachments == []


def test_a_wechat_voice_without_recognition_is_kept_for_staff(
    wechat: WeChatServer, media_stack: Stack, fake_apis: FakeApis, staff: Desk, openid: str
) -> None:
    number = open_ticket(media_stack, "wechat", openid)
    fake_apis.wechat_media["VOICE-1"] = (samples.AMR, "audio/amr")
    voice = message_xml(openid, "voice", {"MediaId": "VOICE-1", "Format": "amr"}, next_msg_id())
    reply = wechat.post(voice, openid=openid)
    assert reply.status == 200 and "语音已保存" in (reply.content or "") and "文字" in reply.content, reply.content
    (record,) = media_of(media_stack, f"wechat:{openid}")
    assert (record["kind"], record["content_type"]) == ("voice", "audio/amr")
    (attachment,) = tickets(media_stack).get(number).attachments
    assert (attachment.ref, attachment.kind) == (f"media:{record['id']}", "voice")
    listed = staff.get("/api/media", params={"resident": f"wechat:{openid}"}).json()["media"]
    assert [(m["id"], m["kind"], m["url"]) for m in listed] == [(record["id"], "voice", f"/api/media/{record['id']}")]
    assert staff.get(listed[0]["url"]).headers["Content-Type"] == "audio/amr"


def test_a_telegram_photo_is_fetched_with_getfile_and_attached(
    media_stack: Stack, fake_apis: FakeApis, staff: Desk
) -> None:
    chat_id = random.randint(10**8, 10**9)
    number = open_ticket(media_stack, "telegram", str(chat_id))
    photo = samples.jpeg(seed=13, width=120, height=90)
    file_id = f"large-{uuid.uuid4().hex[:8]}"
    fake_apis.telegram_files[file_id] = photo
    update = {"update_id": next(_UPDATES), "message": {
        "message_id": 1, "date": 1790000000, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": "en"},
        "photo": [{"file_id": "small-unknown", "file_unique_id": "s1", "width": 90, "height": 90},
                  {"file_id": file_id, "file_unique_id": "l1", "width": 1280, "height": 960}]}}
    request = urllib.request.Request(f"{media_stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(),
                                     {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200

    assert fake_apis.find("telegram", "getFile", file_id=file_id)  # the largest size
    assert fake_apis.find("telegram", "file", path=f"photos/{file_id}.jpg", _token=TELEGRAM_TOKEN)
    (record,) = media_of(media_stack, f"telegram:{chat_id}")
    assert record["sha256"] == hashlib.sha256(photo).hexdigest() and record["source_ref"] == file_id
    (attachment,) = tickets(media_stack).get(number).attachments
    assert attachment.ref == f"media:{record['id']}"
    sent = [c.params["text"] for c in fake_apis.find("telegram", "sendMessage", chat_id=chat_id)]
    assert any(number in s for s in sent), sent
    assert staff.get(f"/api/tickets/{number}/attachments/{attachment.id}").content == photo


def test_a_telegram_voice_is_kept_for_staff_and_the_resident_asked_to_type(
    media_stack: Stack, fake_apis: FakeApis
) -> None:
    chat_id = random.randint(10**8, 10**9)
    number = open_ticket(media_stack, "telegram", str(chat_id))
    file_id = f"voice-{uuid.uuid4().hex[:8]}"
    fake_apis.telegram_files[file_id] = samples.OGG
    update = {"update_id": next(_UPDATES), "message": {
        "message_id": 2, "date": 1790000000, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": "zh"},
        "voice": {"file_id": file_id, "file_unique_id": "v1", "duration": 3, "mime_type": "audio/ogg"}}}
    request = urllib.request.Request(f"{media_stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(),
                                     {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
    (record,) = media_of(media_stack, f"telegram:{chat_id}")
    assert (record["kind"], record["content_type"], record["source_ref"]) == ("voice", "audio/ogg", file_id)
    (attachment,) = tickets(media_stack).get(number).attachments
    assert (attachment.ref, attachment.kind) == (f"media:{record['id']}", "voice")
    sent = [c.params["text"] for c in fake_apis.find("telegram", "sendMessage", chat_id=chat_id)]
    assert any("语音已保存" in s for s in sent), sent


def test_erasing_a_resident_deletes_their_media(media_stack: Stack, wechat: WeChatServer, fake_apis: FakeApis,
                                                openid: str) -> None:
    import subprocess
    import sys

    open_ticket(media_stack, "wechat", openid)
    fake_apis.wechat_media["ERASE-1"] = (samples.jpeg(seed=14), "image/jpeg")
    assert wechat.post(image_xml(openid, "ERASE-1", ""), openid=openid).status == 200
    (record,) = media_of(media_stack, f"wechat:{openid}")
    root = Path(media_stack.env["LINLI_MEDIA_DIR"])
    assert (root / record["sha256"][:2] / record["sha256"][2:4] / record["sha256"]).is_file()

    def privacy(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot.privacy", *args, "--channel", "wechat", "--id", openid], cwd=ROOT,
                              env=media_stack.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    exported = json.loads(privacy("export"))
    (item,) = exported["media"]
    assert item["id"] == record["id"] and item["content_base64"]
    privacy("delete", "--yes")
    assert media_of(media_stack, f"wechat:{openid}") == []
    assert not (root / record["sha256"][:2] / record["sha256"][2:4] / record["sha256"]).exists()
