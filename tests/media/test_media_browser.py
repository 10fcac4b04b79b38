"""In headless Chromium: a resident attaches a photo in the web widget (its camera/photo button),
sees its thumbnail in the widget's transcript, and staff see the photo load on the ticket page and
in the conversation view of the desk (same origin, the desk's strict CSP). Screenshots: /tmp/shots/media-*.png."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Dict

from tests.channels.browser import Browser
from tests.handoff.conftest import AGENT_PASSWORD, Desk, handoff_of
from tests.handoff.test_browser import click, text_of, type_into, visible
from tests.media import samples
from tests.media.conftest import media_of, open_ticket, tickets
from tests.servers import Stack

SHOTS = Path("/tmp/shots")


async def screenshot(page: Browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = await page.send("Page.captureScreenshot", format="png")
    (SHOTS / f"media-{name}.png").write_bytes(base64.b64decode(shot["data"]))


def loaded(selector: str) -> str:
    """The image ``selector`` is in view and decoded (a broken or blocked image has naturalWidth 0)."""
    return (f"(() => {{ const i = document.querySelector({json.dumps(selector)}); if (!i) return false;"
            f" i.scrollIntoView(); return i.complete && i.naturalWidth > 0 ? i.naturalWidth : false; }})()")


async def test_a_widget_photo_is_visible_in_the_widget_and_on_the_desk(
    media_stack: Stack, media_accounts: Dict[str, str], staff: Desk, chromium: str, tmp_path: Path
) -> None:
    photo = tmp_path / "leak.jpg"
    photo.write_bytes(samples.jpeg(seed=31, width=160, height=120))
    async with Browser(chromium) as page:
        await page.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
        await page.goto(f"{media_stack.rasa_url}/chat?lang=zh")
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        session_id = await page.evaluate("window.linliChat.session()")
        number = open_ticket(media_stack, "socketio", session_id)
        # The button opens the camera on a phone: a file input that asks for it.
        attrs = await page.evaluate("(() => { const i = document.querySelector('#linli-photo');"
                                    " return [i.type, i.accept, i.getAttribute('capture')]; })()")
        assert attrs == ["file", "image/*", "environment"]
        assert await page.evaluate(visible("#linli-photo-button"))

        # Choosing a photo (what the camera or the picker hands the page) uploads it.
        document = await page.send("DOM.getDocument")
        node = await page.send("DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#linli-photo")
        await page.send("DOM.setFileInputFiles", files=[str(photo)], nodeId=node["nodeId"])
        await page.wait_for(f"{text_of('#linli-messages')}.includes({json.dumps(number)})")
        width = await page.wait_for(loaded("#linli-messages .msg.user.photo:not(.pending) img"))
        assert width == 160
        src = await page.evaluate("document.querySelector('#linli-messages .msg.user.photo img').getAttribute('src')")
        assert src.startswith("/chat/media/")  # the stored copy, not the local preview
        await screenshot(page, "widget")
        # A reload shows it again, from the session's photo list.
        await page.reload()
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        assert await page.wait_for(loaded("#linli-messages .msg.user.photo img")) == 160

        # The resident asks for staff: the conversation goes to the desk.
        await type_into(page, "#linli-input", "我要转人工")
        await click(page, "#linli-send")
        await page.wait_for("[...document.querySelectorAll('#linli-messages .msg.bot')]"
                            ".some(n => n.textContent.includes('转接人工客服'))", timeout=90)

    (record,) = media_of(media_stack, f"socketio:{session_id}")
    (attachment,) = tickets(media_stack).get(number).attachments
    assert attachment.ref == f"media:{record['id']}"
    handoff = handoff_of(staff, session_id)

    async with Browser(chromium) as page:
        await page.send("Emulation.setDeviceMetricsOverride", width=1366, height=768, deviceScaleFactor=1, mobile=False)
        await page.goto(f"{media_stack.rasa_url}/console")
        await page.wait_for(visible("#login-form"))
        await type_into(page, "#login-username", media_accounts["agent"])
        await type_into(page, "#login-password", AGENT_PASSWORD)
        await click(page, "#login-submit")
        await page.wait_for(visible("#view-queue"))
        csp = await page.evaluate("fetch('/console').then(r => r.headers.get('content-security-policy'))")
        assert "img-src 'self'" in csp  # the desk loads images from itself only

        # The ticket page: a thumbnail that opens the photo.
        await page.evaluate(f"window.LinliDesk.openTicket({json.dumps(number)})")
        await page.wait_for(f"{text_of('#ticket-page')}.includes({json.dumps(number)}) && !document.querySelector('#ticket-page').hidden")
        assert await page.wait_for(loaded("#ticket-page .photos img")) == 160
        link = await page.evaluate("document.querySelector('#ticket-page .photos a').getAttribute('href')")
        assert link == f"/api/tickets/{number}/attachments/{attachment.id}"
        await screenshot(page, "ticket")

        # The conversation view: the photo among the messages.
        await page.evaluate("document.querySelector('#nav button[data-view=queue]').click()")
        await page.wait_for(f"!!document.querySelector('#queue-list .queue-item[data-id=\"{handoff['id']}\"]')")
        await click(page, f"#queue-list .queue-item[data-id=\"{handoff['id']}\"]")
        await page.wait_for(f"{text_of('#transcript')}.includes('转人工')")
        assert await page.wait_for(loaded(f"#transcript .media-msg[data-media=\"{record['id']}\"] img")) == 160
        await screenshot(page, "conversation")
