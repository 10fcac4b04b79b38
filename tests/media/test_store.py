"""The media store on SQLite and PostgreSQL: limits, type sniffing, path safety, de-duplication."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.media import FolderBlobStore, Limits, MediaNotFound, MediaRefused, MediaStore, Origin, media_id_of, sniff
from bot.media.blobs import checked_digest
from bot.media.models import media_table, metadata
from tests.media import samples

KB = 1024


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> MediaStore:
    engine = create_engine(database_url, future=True)
    metadata.drop_all(engine)  # PostgreSQL is shared between tests: start empty
    return MediaStore(engine, FolderBlobStore(tmp_path / "media"), Limits(max_image_bytes=64 * KB,
                                                                        max_voice_bytes=4 * KB))


RESIDENT = Origin("wechat", "wechat:o-resident-1", "MEDIA-ID-1")


def files_in(store: MediaStore) -> list:
    root = Path(store.blobs.root)  # type: ignore[attr-defined]
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_type_comes_from_the_bytes_never_from_the_declared_type() -> None:
    assert sniff(samples.jpeg()) == "image/jpeg"
    assert sniff(samples.png()) == "image/png"
    assert sniff(samples.gif()) == "image/gif"
    assert sniff(samples.webp()) == "image/webp"
    assert sniff(samples.AMR) == "audio/amr"
    assert sniff(samples.SPEEX) == "audio/speex"
    assert sniff(samples.MP3) == "audio/mpeg" and sniff(samples.ID3) == "audio/mpeg"
    assert sniff(samples.OGG) == "audio/ogg"
    for other in (samples.HTML, samples.SVG, samples.PDF, b"", b"\xff\xd8", b"RIFF\x00\x00\x00\x00WAVE"):
        assert sniff(other) is None, other[:10]


def test_a_photo_is_kept_with_its_record_and_read_back(store: MediaStore) -> None:
    data = samples.jpeg()
    record = store.put(data, "application/octet-stream", RESIDENT, kind="image")  # the declared type is ignored
    assert record.content_type == "image/jpeg" and record.kind == "image" and record.size == len(data)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.channel, record.sender_id, record.source_ref) == ("wechat", "wechat:o-resident-1", "MEDIA-ID-1")
    assert media_id_of(record.ref) == record.id and len(record.id) == 32
    again, read = store.read(record.id)
    assert again == record and read == data
    # Sharded by hash: <root>/ab/cd/<sha256>
    (path,) = files_in(store)
    assert path.name == record.sha256 and path.parent.name == record.sha256[2:4]
    assert path.parent.parent.name == record.sha256[:2]


def test_limits_and_types_are_refused_and_nothing_is_stored(store: MediaStore) -> None:
    refusals = {
        "empty": (b"", "image"),
        "too_large": (samples.jpeg() + bytes(64 * KB), "image"),
        "unsupported_type": (samples.HTML, "image"),
    }
    for reason, (data, kind) in refusals.items():
        with pytest.raises(MediaRefused) as refused:
            store.put(data, "image/jpeg", RESIDENT, kind=kind)
        assert refused.value.reason == reason
    with pytest.raises(MediaRefused) as refused:  # a voice file is not a photo
        store.put(samples.AMR, "image/jpeg", RESIDENT, kind="image")
    assert refused.value.reason == "unsupported_type"
    with pytest.raises(MediaRefused) as refused:  # voice has its own (smaller) limit
        store.put(samples.AMR + bytes(4 * KB), "audio/amr", RESIDENT, kind="voice")
    assert refused.value.reason == "too_large" and refused.value.limit_mb == pytest.approx(4 / 1024)
    with store.engine.connect() as conn:
        assert conn.execute(select(media_table)).all() == []
    assert files_in(store) == []
    voice = store.put(samples.AMR, None, RESIDENT, kind="voice")
    assert (voice.kind, voice.content_type) == ("voice", "audio/amr")


def test_same_bytes_are_stored_once(store: MediaStore) -> None:
    data = samples.jpeg(seed=7)
    first = store.put(data, "image/jpeg", RESIDENT)
    assert store.put(data, "image/jpeg", RESIDENT) == first  # the same sender again: the same record
    neighbour = store.put(data, "image/jpeg", Origin("telegram", "telegram:42", "file-1"))
    assert neighbour.id != first.id and neighbour.sha256 == first.sha256
    assert len(files_in(store)) == 1  # one file for both records
    # The file goes with its last record only.
    assert store.delete(first.id)
    assert store.read(neighbour.id)[1] == data
    assert store.delete(neighbour.id)
    assert files_in(store) == []
    with pytest.raises(MediaNotFound):
        store.read(first.id)
    assert not store.delete(first.id)


def test_erasing_a_resident_deletes_only_their_media(store: MediaStore) -> None:
    mine = [store.put(samples.jpeg(seed=s), None, RESIDENT) for s in (1, 2)]
    theirs = store.put(samples.jpeg(seed=3), None, Origin("wechat", "wechat:o-other", None))
    assert [r.id for r in store.list_for("wechat:o-resident-1")] == [r.id for r in mine]
    assert store.delete_for("wechat:o-resident-1") == 2
    assert store.list_for("wechat:o-resident-1") == []
    assert store.read(theirs.id)[0] == theirs
    assert len(files_in(store)) == 1


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "..", "", "A" * 64, "g" * 64,
                                 "0" * 63, "0" * 65, "0" * 64 + "/x", "0" * 62 + "/.", None])
def test_blob_keys_can_never_name_a_path(tmp_path: Path, key: object) -> None:
    blobs = FolderBlobStore(tmp_path / "media")
    for call in (lambda: blobs.path(key), lambda: blobs.write(key, b"x"), lambda: blobs.read(key),  # type: ignore[arg-type]
                 lambda: blobs.delete(key), lambda: checked_digest(key)):  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            call()
    assert not any((tmp_path / "media").rglob("*")) if (tmp_path / "media").exists() else True


def test_a_link_out_of_the_media_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "cd").mkdir(parents=True)
    root = tmp_path / "media"
    root.mkdir()
    (root / "ab").symlink_to(outside)  # someone linked a shard elsewhere
    digest = "ab" + "cd" + "0" * 60
    with pytest.raises(ValueError):
        FolderBlobStore(root).write(digest, b"x")
    assert not any(outside.rglob("*0000"))


def test_media_ids_in_references_are_checked() -> None:
    assert media_id_of("media:" + "a" * 32) == "a" * 32
    for ref in ("media:../../x", "media:" + "A" * 32, "http://mmbiz.example/x.jpg", "file-id", "", None,
                "media:" + "a" * 33):
        assert media_id_of(ref) is None


def test_retention_deletes_old_media_that_nothing_refers_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from bot.channels.state import PendingPhotos
    from bot.media import media_store
    from bot.privacy import AuditLog, purge
    from bot.tickets import TicketStore

    monkeypatch.setenv("LINLI_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("TRACKER_STORE_URL", "")
    monkeypatch.setenv("TRACKER_STORE_DB", str(tmp_path / "tracker.db"))
    db = create_engine(f"sqlite:///{tmp_path / 'linli.db'}", future=True)
    monkeypatch.setattr("bot.privacy.audit_log", lambda url=None: AuditLog(db))
    store = media_store(db)
    attached, waiting, loose = (store.put(samples.jpeg(seed=s), None, RESIDENT) for s in (41, 42, 43))
    tickets = TicketStore(db)
    number = tickets.create(ticket_type="repair", channel="wechat", sender_id="o-resident-1", description="漏水").number
    tickets.add_attachment(number, attached.ref, actor="wechat:o-resident-1")
    PendingPhotos(db).add("wechat", "o-resident-1", waiting.ref)
    done = purge(365, db, now=time.time() + 400 * 86400)
    # The open ticket keeps its photo; the waiting photo expired with its pending row.
    assert done["pending_photos"] == 1 and done["media"] == 2
    assert store.get(attached.id) and store.get(loose.id) is None and store.get(waiting.id) is None
    assert len(files_in(store)) == 1
