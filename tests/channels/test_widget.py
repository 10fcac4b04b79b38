"""The web chat widget in headless Chromium against the running service."""

from __future__ import annotations

import json
import urllib.request

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.channels.browser import Browser
from tests.servers import Stack

BOT_TEXTS = "[...document.querySelectorAll('.msg.bot:not(.typing):not(#linli-hello)')].map(e => e.textContent)"
USER_TEXTS = "[...document.querySelectorAll('.msg.user')].map(e => e.textContent)"



async def send(page: Browser, text: str) -> None:
    await page.evaluate(
        f"document.getElementById('linli-input').value = {json.dumps(text)};"
        "document.getElementById('linli-send').click()"
    )


async def next_bot_message(page: Browser, count_before: int, contains: str) -> str:
    """Wait for a new bot message containing ``contains``."""
    return await page.wait_for(
        f"(() => {{ const m = {BOT_TEXTS}.slice({count_before}); "
        f"return m.find(t => t.includes({json.dumps(contains)})) || null; }})()",
        timeout=90,
    )


def test_chat_page_and_embed_snippet_are_served(channel_stack: Stack) -> None:
    with urllib.request.urlopen(f"{channel_stack.rasa_url}/chat", timeout=30) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert "/chat/static/socket.io.min.js" in page and "/chat/static/chat.js" in page
    for path in ("/chat/static/socket.io.min.js", "/chat/static/chat.js", "/chat/static/chat.css"):
        with urllib.request.urlopen(f"{channel_stack.rasa_url}{path}", timeout=30) as response:
            assert response.status == 200 and len(response.read()) > 500
    with urllib.request.urlopen(f"{channel_stack.rasa_url}/chat/widget.js", timeout=30) as response:
        script = response.read().decode()
    assert "/chat?embed=1" in script and "iframe" in script


async def test_widget_chats_in_chinese_and_keeps_history_across_reload_and_network_drop(
    channel_stack: Stack, chromium: str
) -> None:
    async with Browser(chromium) as page:
        await page.goto(f"{channel_stack.rasa_url}/chat?lang=zh")
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        assert await page.evaluate("document.getElementById('linli-send').textContent") == "发送"

        await send(page, "你好")
        greeting = await next_bot_message(page, 0, "邻里小助手")
        session = await page.evaluate("window.linliChat.session()")
        events = channel_stack.tracker(session, channel="socketio")["events"]
        assert [e["text"] for e in events if e["event"] == "user"] == ["你好"]
        assert {e.get("input_channel") for e in events if e["event"] == "user"} == {"socketio"}

        # Reload: same conversation, history shown again.
        await page.reload()
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        assert await page.evaluate("window.linliChat.session()") == session
        assert await page.wait_for(f"{USER_TEXTS}.includes('你好') && {BOT_TEXTS}.length >= 1")
        assert greeting in await page.evaluate(BOT_TEXTS)

        # Network drop: the transport dies, the client reconnects to the same conversation.
        assert await page.evaluate("window.linliChat.connects()") == 1
        await page.evaluate("window.linliChat.socket.io.engine.close(); true")
        await page.wait_for("window.linliChat.connects() === 2 && window.linliChat.ready()", timeout=30)
        assert await page.evaluate("window.linliChat.session()") == session
        before = len(await page.evaluate(BOT_TEXTS))
        await send(page, "我家厨房水管漏水了")
        await next_bot_message(page, before, "房")  # the form asks where (楼栋和房号)
        assert await page.evaluate(USER_TEXTS) == ["你好", "我家厨房水管漏水了"]

        # Offline: what the resident types is kept and sent once the connection is back.
        await page.evaluate("window.linliChat.socket.disconnect(); true")
        await page.wait_for("!window.linliChat.ready()")
        before = len(await page.evaluate(BOT_TEXTS))
        await send(page, "3栋2单元502")
        assert await page.evaluate("document.querySelectorAll('.msg.user.pending').length") == 1
        await page.evaluate("window.linliChat.socket.connect(); true")
        await next_bot_message(page, before, "")
        assert await page.evaluate("document.querySelectorAll('.msg.user.pending').length") == 0
        users = [e["text"] for e in channel_stack.tracker(session, channel="socketio")["events"] if e["event"] == "user"]
        assert users == ["你好", "我家厨房水管漏水了", "3栋2单元502"]

        # A ticket status change reaches the open widget (socket.io sender + notifications).
        store = TicketStore(create_engine(channel_stack.database_url, future=True))
        ticket = store.create(ticket_type="repair", channel="socketio", sender_id=session, description="漏水")
        store.change_status(ticket.number, "in_progress", actor="staff:test")
        notice = await next_bot_message(page, 0, f"{ticket.number} 状态已更新为：处理中")
        # ...and is part of the conversation's history after a reload.
        await page.reload()
        await page.wait_for("window.linliChat && window.linliChat.ready()")
        assert notice in await page.evaluate(BOT_TEXTS)
