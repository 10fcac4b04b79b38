"""The canned-reply store on SQLite and PostgreSQL: scopes, ownership, shortcuts, validation."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from bot.desk.canned import (Base, CannedConflict, CannedForbidden, CannedNotFound, CannedReplyError, CannedStore,
                             normalise_shortcut)


@pytest.fixture
def store(database_url: str) -> CannedStore:
    engine = create_engine(database_url, future=True)
    Base.metadata.drop_all(engine)  # PostgreSQL is shared between tests: start empty
    yield CannedStore(engine)
    engine.dispose()


def test_scopes_ownership_and_order(store: CannedStore) -> None:
    hours = store.create("wang", False, language="zh", title="营业时间", text="每天 8:00–20:00", shortcut="Hours")
    store.create("wang", False, language="en", title="Opening hours", text="8:00-20:00 daily", shortcut="/hours")
    shared = store.create("admin", True, language="zh", title="报修流程", text="请告诉我们房号。", shortcut="/repair", shared=True)
    store.create("li", False, language="zh", title="李的", text="私人")
    assert hours.shortcut == "/hours" and hours.owner == "wang" and shared.owner is None and shared.shared
    assert [(r.language, r.shortcut) for r in store.list_for("wang")] == [("en", "/hours"), ("zh", "/hours"), ("zh", "/repair")]
    assert [r.title for r in store.list_for("li", "zh")] == ["报修流程", "李的"]  # with a shortcut first
    assert [r.title for r in store.list_for("admin")] == ["报修流程"]  # others' personal replies stay theirs
    with pytest.raises(CannedReplyError):
        store.list_for("wang", "fr")

    with pytest.raises(CannedForbidden):
        store.create("wang", False, language="zh", title="x", text="y", shared=True)
    for who, admin in (("wang", False), ("li", False)):
        with pytest.raises(CannedForbidden):
            store.update(shared.id, who, admin, {"text": "改"})
        with pytest.raises(CannedForbidden):
            store.delete(shared.id, who, admin)
    with pytest.raises(CannedForbidden):
        store.update(hours.id, "admin", True, {"text": "改"})  # personal: only the owner
    with pytest.raises(CannedForbidden):
        store.update(hours.id, "wang", False, {"shared": True})
    assert store.get(shared.id).text == "请告诉我们房号。" and store.get(hours.id).text == "每天 8:00–20:00"

    changed = store.update(hours.id, "wang", False, {"text": "每天 8:00–21:00", "shortcut": "open"})
    assert (changed.text, changed.shortcut, changed.title) == ("每天 8:00–21:00", "/open", "营业时间")
    assert changed.as_dict()["updated_at"] >= changed.as_dict()["created_at"]  # both UTC ISO strings
    assert store.update(shared.id, "admin", True, {"shared": False}).owner == "admin"  # an admin takes it back
    store.delete(hours.id, "wang", False)
    with pytest.raises(CannedNotFound):
        store.get(hours.id)
    with pytest.raises(CannedNotFound):
        store.delete(hours.id, "wang", False)


def test_shortcuts_are_unique_per_scope_and_language(store: CannedStore) -> None:
    store.create("wang", False, language="zh", title="a", text="a", shortcut="/hi")
    with pytest.raises(CannedConflict):
        store.create("wang", False, language="zh", title="b", text="b", shortcut="HI")
    store.create("li", False, language="zh", title="c", text="c", shortcut="/hi")  # another agent's scope
    store.create("admin", True, language="zh", title="d", text="d", shortcut="/hi", shared=True)
    with pytest.raises(CannedConflict):
        store.create("boss", True, language="zh", title="e", text="e", shortcut="/hi", shared=True)
    other = store.create("wang", False, language="zh", title="f", text="f", shortcut="/bye")
    with pytest.raises(CannedConflict):
        store.update(other.id, "wang", False, {"shortcut": "/hi"})
    assert store.get(other.id).shortcut == "/bye"
    assert store.update(other.id, "wang", False, {"shortcut": ""}).shortcut is None
    assert store.create("wang", False, language="zh", title="g", text="g").shortcut is None  # many without one


def test_validation(store: CannedStore) -> None:
    assert normalise_shortcut(" /营业时间 ") == "/营业时间" and normalise_shortcut("a.b-c_d") == "/a.b-c_d"
    for shortcut in ("/two words", "/" + "x" * 32, "//", 12):
        with pytest.raises(CannedReplyError):
            normalise_shortcut(shortcut)
    good = {"language": "zh", "title": "t", "text": "x"}
    for wrong in ({"language": None}, {"title": ""}, {"text": "  "}, {"text": "x" * 4001}, {"title": "t" * 101},
                  {"title": ["list"]}, {"shared": 1}):
        with pytest.raises(CannedReplyError):
            store.create("wang", False, **{**good, **wrong})
    reply = store.create("wang", False, language="zh", title="  标题  ", text="  第一行\n第二行  ")
    assert (reply.title, reply.text) == ("标题", "第一行\n第二行")
    with pytest.raises(CannedReplyError):
        store.update(reply.id, "wang", False, {"owner": "li"})
    with pytest.raises(CannedReplyError):
        store.update(reply.id, "wang", False, {"title": "ok", "language": "xx"})
    assert store.get(reply.id).title == "标题"  # a refused update changes nothing
    assert store.list_for("wang")[0].as_dict()["shared"] is False
