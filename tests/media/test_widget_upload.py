"""The widget's photo upload (POST /chat/photo): authenticated by the widget session, stored in the
media store and attached to the resident's open repair ticket, or kept and a repair report started."""

from __future__ import annotations

from typing import Optional

import pytest
import requests

from tests.channels.flows import fill_repair_form
from tests.handoff.conftest import Desk
from tests.handoff.resident import WidgetResident
from tests.media import samples
from tests.media.conftest import media_files, media_of, open_ticket, tickets
from tests.servers import Stack


def upload(stack: Stack, token: Optional[str], data: bytes, content_type: str = "image/jpeg",
           lang: str = "zh") -> requests.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{stack.rasa_url}/chat/photo", params={"lang": lang}, data=data, headers=headers, timeout=60)


@pytest.fixture
def resident(media_stack: Stack):  # type: ignore[no-untyped-def]
    person = WidgetResident(media_stack.rasa_url)
    yield person
    person.close()


def test_a_widget_photo_is_stored_and_attached_to_the_open_ticket(media_stack: Stack, staff: Desk) -> None:
    issued = requests.post(f"{media_stack.rasa_url}/chat/session", timeout=20).json()
    number = open_ticket(media_stack, "socketio", issued["session_id"])
    photo = samples.png()
    answer = upload(media_stack, issued["session_token"], photo, "image/png", lang="en")
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["ticket"] == number and data["pending"] is False
    assert number in data["text"] and "attached" in data["text"]  # in the resident's language
    (record,) = media_of(media_stack, f"socketio:{issued['session_id']}")
    assert (record["id"], record["content_type"], record["channel"]) == (data["media"]["id"], "image/png", "socketio")
    (attachment,) = tickets(media_stack).get(number).attachments
    assert attachment.ref == f"media:{record['id']}"
    assert staff.get(f"/api/tickets/{number}/attachments/{attachment.id}").content == photo

    # The widget shows it by its signed URL; the session lists its photos for a reload.
    shown = requests.get(media_stack.rasa_url + data["media"]["url"], timeout=20)
    assert shown.status_code == 200 and shown.content == photo and shown.headers["X-Content-Type-Options"] == "nosniff"
    listed = requests.get(f"{media_stack.rasa_url}/chat/photos", timeout=20,
                          headers={"Authorization": f"Bearer {issued['session_token']}"}).json()["photos"]
    assert [p["url"] for p in listed] == [data["media"]["url"]]
    forged = data["media"]["url"].split("sig=")[0] + "sig=" + "0" * 32
    assert requests.get(media_stack.rasa_url + forged, timeout=20).status_code == 404
    other = requests.post(f"{media_stack.rasa_url}/chat/session", timeout=20).json()["session_token"]
    assert requests.get(f"{media_stack.rasa_url}/chat/photos", timeout=20,
                        headers={"Authorization": f"Bearer {other}"}).json()["photos"] == []


def test_bad_uploads_get_4xx_and_nothing_is_stored(media_stack: Stack) -> None:
    issued = requests.post(f"{media_stack.rasa_url}/chat/session", timeout=20).json()
    token, conversation = issued["session_token"], f"socketio:{issued['session_id']}"
    number = open_ticket(media_stack, "socketio", issued["session_id"])
    files_before = media_files(media_stack)
    photo = samples.jpeg(seed=21)
    refused = {
        "no token": (upload(media_stack, None, photo), 401, "unauthenticated"),
        "forged token": (upload(media_stack, issued["session_id"] + ".forged", photo), 401, "unauthenticated"),
        "html as jpeg": (upload(media_stack, token, samples.HTML, "image/jpeg"), 415, "unsupported_type"),
        "svg": (upload(media_stack, token, samples.SVG, "image/svg+xml"), 415, "unsupported_type"),
        "voice": (upload(media_stack, token, samples.AMR, "audio/amr"), 415, "unsupported_type"),
        "empty": (upload(media_stack, token, b""), 400, "empty"),
        "oversize": (upload(media_stack, token, photo + bytes(600 * 1024)), 413, "too_large"),
    }
    for name, (answer, status, code) in refused.items():
        assert (answer.status_code, answer.json()["error"]) == (status, code), name
    assert media_of(media_stack, conversation) == []
    assert media_files(media_stack) == files_before
    assert tickets(media_stack).get(number).attachments == []
    assert upload(media_stack, token, photo).status_code == 201  # the same session can still send one


def test_a_photo_without_a_ticket_starts_a_repair_report_and_is_attached_when_filed(
    media_stack: Stack, resident: WidgetResident
) -> None:
    def say(text: str) -> str:
        resident.say(text)
        replies = [resident.received.get(timeout=90)] + resident.drain(2.0)
        return "\n".join(replies)

    answer = upload(media_stack, resident.session_token, samples.jpeg(seed=22))
    assert answer.status_code == 201, answer.text
    assert answer.json()["pending"] is True and "照片已收到并为您保存" in answer.json()["text"]
    first = "\n".join([resident.received.get(timeout=90)] + resident.drain(2.0))  # the form's first question
    confirm = fill_repair_form(say, first)
    assert "确认" in confirm
    resident.say("确认")
    seen = resident.wait_for("照片已附在工单", timeout=90)
    (ticket,) = tickets(media_stack).list_for_sender("socketio", resident.session_id)
    assert ticket.number in "\n".join(seen)
    (record,) = media_of(media_stack, f"socketio:{resident.session_id}")
    assert [a.ref for a in ticket.attachments] == [f"media:{record['id']}"]
