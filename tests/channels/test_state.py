"""Shared channel state: dedupe claims with a TTL, token storage, pending photos."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.channels.common import render_buttons
from bot.channels.state import PendingPhotos, SqlKeyValueStore
from bot.channels.wechat import SharedTokenStorage


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{tmp_path / 'state.db'}", future=True)


def test_a_key_is_claimed_once_until_it_expires(engine) -> None:  # type: ignore[no-untyped-def]
    store = SqlKeyValueStore(engine)
    assert store.claim("wechat:msg:1", ttl=0.5) is True
    assert store.claim("wechat:msg:1", ttl=0.5) is False
    # A second process (another store on the same database) sees the claim too.
    assert SqlKeyValueStore(engine).claim("wechat:msg:1", ttl=0.5) is False
    time.sleep(0.6)
    assert store.claim("wechat:msg:1", ttl=60) is True


def test_values_expire_and_can_be_replaced(engine) -> None:  # type: ignore[no-untyped-def]
    store = SqlKeyValueStore(engine)
    store.set("k", "one", ttl=60)
    store.set("k", "two", ttl=60)
    assert store.get("k") == "two"
    store.set("short", "x", ttl=0.2)
    time.sleep(0.3)
    assert store.get("short") is None
    store.delete("k")
    assert store.get("k") is None


def test_wechat_token_storage_is_shared_and_refreshes_early(engine) -> None:  # type: ignore[no-untyped-def]
    SharedTokenStorage(SqlKeyValueStore(engine)).set("wx_access_token", "TOKEN", 7200)
    other_process = SharedTokenStorage(SqlKeyValueStore(engine))
    assert other_process.get("wx_access_token") == "TOKEN"
    SharedTokenStorage(SqlKeyValueStore(engine)).set("short_access_token", "T2", 200)  # < 5 min margin
    assert other_process.get("short_access_token") == "T2"  # kept at least a minute


def test_pending_photos_are_taken_once(engine) -> None:  # type: ignore[no-untyped-def]
    photos = PendingPhotos(engine)
    photos.add("wechat", "o1", "http://x/1.jpg")
    photos.add("wechat", "o1", "http://x/2.jpg")
    photos.add("wechat", "o2", "http://x/3.jpg")
    assert photos.peek("wechat", "o1") == ["http://x/1.jpg", "http://x/2.jpg"]
    assert photos.take("wechat", "o1") == ["http://x/1.jpg", "http://x/2.jpg"]
    assert photos.take("wechat", "o1") == []
    assert PendingPhotos(engine).peek("wechat", "o2") == ["http://x/3.jpg"]


def test_buttons_render_as_a_numbered_list_in_the_residents_language() -> None:
    message = {"text": "情况紧急吗？", "buttons": [{"title": "紧急", "payload": "urgent"}, {"title": "不紧急", "payload": "normal"}]}
    assert render_buttons(message, "zh") == "情况紧急吗？\n1. 紧急\n2. 不紧急\n（回复序号即可选择）"
    assert render_buttons({"text": "hi"}, "en") == "hi"


def test_a_numbered_reply_picks_the_button_payload(engine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from bot.channels import common

    store = SqlKeyValueStore(engine)
    monkeypatch.setattr(common, "kv_store", lambda: store)
    shown = [{"text": "确认吗？", "buttons": [{"title": "确认提交", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]}]
    common.remember_buttons("wechat", "o1", shown)
    assert common.resolve_choice("wechat", "o1", "2") == "/deny"
    assert common.resolve_choice("wechat", "o1", " 1。") == "/affirm"
    assert common.resolve_choice("wechat", "o1", "3") == "3"  # no such button
    assert common.resolve_choice("wechat", "o2", "1") == "1"  # another resident
    assert common.resolve_choice("wechat", "o1", "502") == "502"
    common.remember_buttons("wechat", "o1", [{"text": "好的"}])  # a message without buttons clears them
    assert common.resolve_choice("wechat", "o1", "1") == "1"
