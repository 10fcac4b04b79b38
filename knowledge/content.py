"""The knowledge base's content store: FAQ entries and documents, edited in the desk.

The content store is the truth; an index version is built from it (:mod:`knowledge.jobs`).
Every change increments the content *revision*; the last successful re-index records the
revision and the version it built, so the desk can say "changes not indexed yet"
(:meth:`ContentStore.status`).

**Seeding.** The first use on a database whose content was never seeded copies the active
index version into the store (:mod:`knowledge.seeding`): its FAQ entries (marked ``demo``
when they came from the demo files in ``knowledge/sources/``) and its documents. The state
row is the marker, so seeding happens once and a knowledge base emptied in the desk stays
empty.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .config import KnowledgeConfig, load_config
from .content_tables import (MAX_CATEGORY, MAX_FILENAME, MAX_ID, STATE_ROW, kb_content_state, kb_documents, kb_faq,
                             metadata)
from .faq_io import FaqEntry, FaqText, clean_similar
from .tables import ensure_schema, get_engine

#: Document kinds the desk accepts, by file suffix.
DOCUMENT_KINDS = {".md": "md", ".markdown": "md", ".txt": "txt", ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}
LANGUAGES = ("zh", "en")
MAX_QUESTION, MAX_ANSWER = 1000, 8000
#: Similar questions per entry and language: each is one more vector to search.
MAX_SIMILAR = 30
#: FAQ ids: no spaces, no characters that break a URL path or a chunk id (``faq:<id>@<lang>``).
_FAQ_ID = re.compile(r"^[^\s/\\?#%@&+'\"<>]{1," + str(MAX_ID) + "}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------- errors
class ContentError(ValueError):
    """A request the content store refuses; ``status`` and ``code`` are what the API answers."""

    status = 400
    code = "invalid"


class NotFound(ContentError, LookupError):
    """No such FAQ entry or document."""

    status, code = 404, "not_found"


class Exists(ContentError):
    """An FAQ id or document file name that is taken."""

    status, code = 409, "exists"


class UnsupportedDocument(ContentError):
    """A file type the knowledge base cannot read."""

    code = "unsupported_type"


class UnreadableDocument(ContentError):
    """A document that cannot be read, or yields no text (``code`` says which)."""

    def __init__(self, message: str, code: str = "unreadable") -> None:
        super().__init__(message)
        self.code = code


class TooLarge(ContentError):
    """A file over ``LINLI_KB_MAX_UPLOAD_MB``."""

    status, code = 413, "too_large"


# ---------------------------------------------------------------- records
def iso_utc(value: Optional[datetime]) -> Optional[str]:
    """``2026-12-01T08:00:00Z`` (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite drops the zone: stored as UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FaqRecord:
    """One FAQ entry as stored: both language versions, category, demo flag, last change."""

    faq_id: str
    category: str = ""
    zh: Optional[FaqText] = None
    en: Optional[FaqText] = None
    demo: bool = False
    updated_at: Optional[datetime] = None
    updated_by: str = ""

    def entry(self) -> FaqEntry:
        """The entry in :mod:`knowledge.faq_io`'s form (export, staging)."""
        return FaqEntry(faq_id=self.faq_id, category=self.category, zh=self.zh, en=self.en)

    def to_dict(self) -> Dict[str, Any]:
        """The API's ``Entry``."""
        def text(t: Optional[FaqText]) -> Optional[Dict[str, Any]]:
            return {"question": t.question, "answer": t.answer, "similar": list(t.similar)} if t else None

        return {"faq_id": self.faq_id, "category": self.category, "demo": self.demo, "zh": text(self.zh),
                "en": text(self.en), "updated_at": iso_utc(self.updated_at), "updated_by": self.updated_by}


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its bytes."""

    id: int
    filename: str
    kind: str
    size: int
    sha256: str
    chunks: int
    warnings: List[str] = field(default_factory=list)
    uploaded_at: Optional[datetime] = None
    uploaded_by: str = ""

    def to_dict(self) -> Dict[str, Any]:
        """The API's ``Document``."""
        return {"id": self.id, "filename": self.filename, "kind": self.kind, "size": self.size,
                "sha256": self.sha256, "chunks": self.chunks, "warnings": list(self.warnings),
                "uploaded_at": iso_utc(self.uploaded_at), "uploaded_by": self.uploaded_by}


@dataclass(frozen=True)
class ContentState:
    """The single state row: seeding marker, revisions, the job slot, the setup profile."""

    seeded_at: Optional[datetime]
    seeded_from: str
    revision: int
    indexed_revision: Optional[int]
    indexed_version: Optional[int]
    job_id: Optional[int]
    profile: Optional[Dict[str, Any]]

    def dirty(self, active_version: Optional[int]) -> bool:
        """True when the served version is not a build of the current content."""
        return self.indexed_revision != self.revision or self.indexed_version != active_version


@dataclass
class SeedMaterial:
    """What seeding writes: FAQ entries with their demo flag, documents, where they came from."""

    faqs: List[Tuple[FaqEntry, bool]] = field(default_factory=list)
    documents: List["NewDocument"] = field(default_factory=list)
    source: str = ""
    version_id: Optional[int] = None


@dataclass(frozen=True)
class NewDocument:
    """A document read and checked, ready to store."""

    filename: str
    kind: str
    content: bytes
    chunks: int
    warnings: List[str]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


# ---------------------------------------------------------------- validation
def clean_text(value: Any, what: str, limit: int) -> str:
    """A required text field, stripped; ContentError says what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{what} must be a non-empty text / {what} 不能为空")
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > limit:
        raise ContentError(f"{what} is longer than {limit} characters / {what} 超过 {limit} 个字符")
    if "\x00" in value:
        raise ContentError(f"{what} contains a NUL character / {what} 含有非法字符")
    return value


#: Path words of the API that cannot be FAQ ids (``/api/kb/faq/export``).
RESERVED_IDS = ("export", "import")


def check_faq_id(faq_id: Any) -> str:
    """An FAQ id as stored; ContentError when it cannot be one."""
    if not isinstance(faq_id, str) or not _FAQ_ID.match(faq_id.strip()) or _CONTROL.search(faq_id) or \
            faq_id.strip().lower() in RESERVED_IDS:
        raise ContentError(f"faq_id must be 1-{MAX_ID} characters without spaces or / \\ ? # % @ & + quotes "
                           f"(e.g. parking-visitors) / 编号须为 1-{MAX_ID} 个字符，不含空格和特殊符号")
    return faq_id.strip()


def check_category(category: Any) -> str:
    """A category slug or label (may be empty)."""
    if category is None:
        return ""
    if not isinstance(category, str) or len(category.strip()) > MAX_CATEGORY or _CONTROL.search(category):
        raise ContentError(f"category must be a text of at most {MAX_CATEGORY} characters / 类别最多 {MAX_CATEGORY} 个字符")
    return category.strip()


def check_entry(entry: FaqEntry) -> FaqEntry:
    """An entry with a valid id, category and at least one complete language version."""
    texts = {}
    for lang in LANGUAGES:
        text = getattr(entry, lang)
        if text is None:
            continue
        question = clean_text(text.question, f"question ({lang})", MAX_QUESTION)
        texts[lang] = FaqText(question, clean_text(text.answer, f"answer ({lang})", MAX_ANSWER),
                              check_similar(text.similar, lang, question))
    if not texts:
        raise ContentError("give at least one language version: zh {question, answer} or en {question, answer} / "
                           "至少填写一种语言的问题和答案")
    return FaqEntry(faq_id=check_faq_id(entry.faq_id), category=check_category(entry.category),
                    zh=texts.get("zh"), en=texts.get("en"))


def check_similar(similar: Any, lang: str, question: str) -> Tuple[str, ...]:
    """Other wordings of ``question``: each a short question, duplicates and the question itself dropped."""
    if isinstance(similar, str) or not isinstance(similar, (list, tuple)):
        raise ContentError(f"similar ({lang}) must be a list of questions / 相似问法须为问题列表")
    out = clean_similar((clean_text(v, f"similar question ({lang})", MAX_QUESTION) for v in similar
                         if v not in (None, "")), question)
    if len(out) > MAX_SIMILAR:
        raise ContentError(f"at most {MAX_SIMILAR} similar questions per language ({lang}: {len(out)}) / "
                           f"每种语言最多 {MAX_SIMILAR} 个相似问法")
    return out


def entry_from_json(data: Dict[str, Any], faq_id: Optional[str] = None) -> FaqEntry:
    """An entry from the API's body ``{"faq_id"?, "category", "zh"?: {...}, "en"?: {...}}`` (not yet checked)."""
    texts: Dict[str, Optional[FaqText]] = {}
    for lang in LANGUAGES:
        value = data.get(lang)
        if value is None:
            texts[lang] = None
            continue
        if not isinstance(value, dict):
            raise ContentError(f"{lang} must be an object {{\"question\": ..., \"answer\": ...}} or null")
        question, answer, similar = value.get("question"), value.get("answer"), value.get("similar") or []
        if (question in (None, "") and answer in (None, "")):
            texts[lang] = None  # an empty language column in the editor: no version in that language
            continue
        texts[lang] = FaqText(question, answer, similar)  # type: ignore[arg-type]  (checked by check_entry)
    return FaqEntry(faq_id=faq_id if faq_id is not None else data.get("faq_id"),  # type: ignore[arg-type]
                    category=data.get("category"), zh=texts["zh"], en=texts["en"])  # type: ignore[arg-type]


def generated_id(category: str, taken: Iterable[str]) -> str:
    """``<category>-<n>`` (``faq-<n>`` without a usable category), the first one not taken."""
    prefix = re.sub(r"[^\w-]+", "-", (category or "").strip().lower()).strip("-_")[:MAX_ID - 8] or "faq"
    taken = set(taken)
    n = 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"


def document_filename(name: Any) -> Tuple[str, str]:
    """``(file name, kind)`` of an upload: the base name only; UnsupportedDocument for other types."""
    if not isinstance(name, str) or not name.strip():
        raise ContentError("filename is required, e.g. \"rules.docx\" / 请提供文件名")
    base = re.split(r"[\\/]", name.strip())[-1].strip()
    if not base or base.startswith(".") or _CONTROL.search(base) or len(base) > MAX_FILENAME:
        raise ContentError(f"filename {base[:60]!r} is not usable: at most {MAX_FILENAME} characters, not starting "
                           "with a dot / 文件名不可用")
    kind = DOCUMENT_KINDS.get(Path(base).suffix.lower())
    if kind is None:
        raise UnsupportedDocument(f"{base}: unsupported type; upload one of {', '.join(sorted(set(DOCUMENT_KINDS.values())))} "
                                  f"/ 不支持的文件类型，请上传 md、txt、pdf、docx 或 xlsx")
    return base, kind


def read_document(filename: str, data: bytes) -> NewDocument:
    """Read an uploaded document the way a re-index will: chunks counted, warnings kept.

    Raises :class:`UnreadableDocument` with code ``no_text_layer`` for a scanned PDF
    (OCR it first), ``empty_document`` when it yields no text, ``unreadable`` otherwise.
    """
    from . import sources

    base, kind = document_filename(filename)
    limit = max_upload_bytes()
    if len(data) > limit:
        raise TooLarge(f"{base} is {len(data) / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB "
                       f"(LINLI_KB_MAX_UPLOAD_MB) / 文件超过大小限制")
    if not data:
        raise UnreadableDocument(f"{base} is empty / 文件为空", "empty_document")
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as scratch:
        path = Path(scratch) / base
        path.write_bytes(data)
        try:
            chunks, warnings = sources.read_document(path)
        except Exception as exc:  # SourceError, NoTextLayer, a parser's own error
            if isinstance(exc, sources.NoTextLayer):
                raise UnreadableDocument(str(exc), "no_text_layer") from exc  # says: OCR it first
            raise UnreadableDocument(f"{base} cannot be read ({_reason(exc)}); save it again as "
                                     f"{kind} and upload it / 文件无法读取，请另存后重新上传") from exc
        if not chunks:
            raise UnreadableDocument(f"{base} contains no text to index / 文件中没有可检索的文字", "empty_document")
    return NewDocument(base, kind, data, len(chunks), [str(w) for w in warnings])


def document_warnings(path: Path) -> List[str]:
    """The readers' warnings for a file (pages without a text layer...); none if they have none."""
    from .sources import document_warnings as readers_warnings

    try:
        return [str(w) for w in readers_warnings(path)]
    except Exception:  # a warning must never stop an upload that read fine
        return []


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[-1][:300] if text else type(exc).__name__


def max_upload_bytes() -> int:
    """``LINLI_KB_MAX_UPLOAD_MB`` in bytes."""
    from bot.settings import Knowledge

    return int(Knowledge.read("max_upload_mb") * 1024 * 1024)


# ---------------------------------------------------------------- the store
class ContentStore:
    """FAQ entries, documents and the content state on ``DATABASE_URL`` (or ``engine``)."""

    def __init__(self, engine: Optional[Engine] = None, cfg: Optional[KnowledgeConfig] = None) -> None:
        self.engine = engine or get_engine()
        self.cfg = cfg or load_config()
        ensure_schema(self.engine)
        metadata.create_all(self.engine, checkfirst=True)
        self._seeded = False

    # ------------------------------------------------------------------ state
    def state(self) -> ContentState:
        """The state row (seeding first if it never happened)."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            row = conn.execute(select(kb_content_state).where(kb_content_state.c.id == STATE_ROW)).mappings().one()
        return _state(row)

    def is_seeded(self) -> bool:
        """Has this database's content been seeded (the desk manages the knowledge base)?"""
        if self._seeded:
            return True
        with self.engine.connect() as conn:
            found = conn.scalar(select(kb_content_state.c.id).where(kb_content_state.c.id == STATE_ROW)) is not None
        self._seeded = found
        return found

    def ensure_seeded(self) -> bool:
        """Seed the content from the active index version once; True when this call did."""
        if self.is_seeded():
            return False
        from .seeding import seed_material

        return self.seed(seed_material(self.engine, self.cfg))

    def seed(self, material: SeedMaterial) -> bool:
        """Write ``material`` as the first content (once per database; False when it was seeded already)."""
        now = _now()
        try:
            with self.engine.begin() as conn:
                # The state row first: a concurrent seeder fails here and writes nothing.
                conn.execute(insert(kb_content_state).values(
                    id=STATE_ROW, seeded_at=now, seeded_from=material.source[:255], revision=0,
                    indexed_revision=0 if material.version_id is not None else None,
                    indexed_version=material.version_id, updated_at=now))
                rows = [_faq_row(entry, demo, "seed", now, position) for position, (entry, demo)
                        in enumerate(material.faqs, start=1)]
                if rows:
                    conn.execute(insert(kb_faq), rows)
                taken: set = set()
                for doc in material.documents:
                    name = _unique_name(doc.filename, taken)
                    taken.add(name.lower())
                    conn.execute(insert(kb_documents).values(**_document_row(doc, name, "seed", now)))
        except IntegrityError:
            self._seeded = True
            return False
        self._seeded = True
        return True

    def status(self, active_version: Optional[int]) -> Dict[str, Any]:
        """``{"dirty", "revision", "indexed_revision", "demo"}`` against the served version."""
        state = self.state()
        return {"dirty": state.dirty(active_version), "revision": state.revision,
                "indexed_revision": state.indexed_revision, "demo": self.has_demo()}

    def mark_indexed(self, revision: int, version_id: int) -> None:
        """A re-index of ``revision`` produced ``version_id`` (now served)."""
        with self.engine.begin() as conn:
            conn.execute(update(kb_content_state).where(kb_content_state.c.id == STATE_ROW)
                         .values(indexed_revision=revision, indexed_version=version_id, updated_at=_now()))

    def set_profile(self, profile: Optional[Dict[str, Any]], conn: Optional[Connection] = None) -> None:
        """Record the first-run setup's answers (None: forget them)."""
        value = json.dumps(profile, ensure_ascii=False) if profile is not None else None
        statement = update(kb_content_state).where(kb_content_state.c.id == STATE_ROW).values(profile=value)
        if conn is not None:
            conn.execute(statement)
            return
        with self.engine.begin() as own:
            own.execute(statement)

    # ------------------------------------------------------------------ FAQ: reading
    def list_faq(self, q: str = "", category: str = "", language: str = "", limit: int = 50,
                 offset: int = 0) -> Tuple[List[FaqRecord], int]:
        """Entries matching the filters (in list order) and how many match in all."""
        self.ensure_seeded()
        where = []
        if q:
            text_columns = (kb_faq.c.question_zh, kb_faq.c.answer_zh, kb_faq.c.question_en, kb_faq.c.answer_en,
                            kb_faq.c.similar_zh, kb_faq.c.similar_en, kb_faq.c.faq_id)
            where.append(or_(*(func.lower(col).contains(q.lower(), autoescape=True) for col in text_columns)))
        if category:
            where.append(kb_faq.c.category == category)
        if language == "zh":
            where.append(kb_faq.c.question_zh.isnot(None))
        elif language == "en":
            where.append(kb_faq.c.question_en.isnot(None))
        with self.engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(kb_faq).where(*where))
            rows = conn.execute(select(kb_faq).where(*where).order_by(kb_faq.c.position, kb_faq.c.faq_id)
                                .limit(limit).offset(offset)).mappings().all()
        return [_faq(r) for r in rows], int(total or 0)

    def all_faq(self) -> List[FaqRecord]:
        """Every entry, in list order."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            rows = conn.execute(select(kb_faq).order_by(kb_faq.c.position, kb_faq.c.faq_id)).mappings().all()
        return [_faq(r) for r in rows]

    def categories(self) -> List[str]:
        """The categories in use, sorted."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            found = conn.scalars(select(kb_faq.c.category).where(kb_faq.c.category != "").distinct()).all()
        return sorted(found)

    def has_demo(self) -> bool:
        """Are demo entries (the invented community's) still in the knowledge base?"""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            return conn.scalar(select(kb_faq.c.faq_id).where(kb_faq.c.demo.is_(True)).limit(1)) is not None

    def get_faq(self, faq_id: str) -> FaqRecord:
        """One entry; :class:`NotFound` when there is none."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            row = conn.execute(select(kb_faq).where(kb_faq.c.faq_id == faq_id)).mappings().first()
        if row is None:
            raise NotFound(f"no FAQ entry {faq_id!r}; GET /api/kb/faq lists them / 没有这个问答")
        return _faq(row)

    # ------------------------------------------------------------------ FAQ: writing
    def create_faq(self, entry: FaqEntry, user: str) -> FaqRecord:
        """Add an entry (id generated from the category when empty); :class:`Exists` when the id is taken."""
        self.ensure_seeded()
        if not entry.faq_id:
            with self.engine.connect() as conn:
                taken = conn.scalars(select(kb_faq.c.faq_id)).all()
            entry = FaqEntry(generated_id(str(entry.category or ""), taken), entry.category, entry.zh, entry.en)
        entry = check_entry(entry)
        now = _now()
        try:
            with self.engine.begin() as conn:
                position = int(conn.scalar(select(func.coalesce(func.max(kb_faq.c.position), 0))) or 0) + 1
                conn.execute(insert(kb_faq).values(**_faq_row(entry, False, user, now, position)))
                _bump(conn, now)
        except IntegrityError:
            raise Exists(f"FAQ entry {entry.faq_id!r} exists; edit it with PUT /api/kb/faq/{entry.faq_id} / "
                         f"编号已存在") from None
        return self.get_faq(entry.faq_id)

    def update_faq(self, faq_id: str, entry: FaqEntry, user: str) -> FaqRecord:
        """Replace an entry's category and texts (it stops being demo content)."""
        self.ensure_seeded()
        entry = check_entry(FaqEntry(faq_id, entry.category, entry.zh, entry.en))
        now = _now()
        with self.engine.begin() as conn:
            values = _faq_row(entry, False, user, now, None)
            values.pop("faq_id")
            if not conn.execute(update(kb_faq).where(kb_faq.c.faq_id == faq_id).values(**values)).rowcount:
                raise NotFound(f"no FAQ entry {faq_id!r}; create it with POST /api/kb/faq / 没有这个问答")
            _bump(conn, now)
        return self.get_faq(faq_id)

    def delete_faq(self, faq_id: str) -> None:
        """Remove an entry; :class:`NotFound` when there is none."""
        self.ensure_seeded()
        now = _now()
        with self.engine.begin() as conn:
            if not conn.execute(delete(kb_faq).where(kb_faq.c.faq_id == faq_id)).rowcount:
                raise NotFound(f"no FAQ entry {faq_id!r} / 没有这个问答")
            _bump(conn, now)

    def import_faq(self, entries: Sequence[FaqEntry], mode: str, user: str) -> Dict[str, Any]:
        """Merge ``entries`` (add or replace by id) or, with mode ``replace``, make them the whole FAQ.

        All or nothing: an invalid entry raises :class:`ContentError` listing each one
        (``errors``: ``[(0, message)]``, row unknown here) and nothing changes.
        """
        if mode not in ("merge", "replace"):
            raise ContentError("mode must be merge or replace / mode 只能是 merge 或 replace")
        self.ensure_seeded()
        checked, problems = [], []
        for entry in entries:
            try:
                checked.append(check_entry(entry))
            except ContentError as exc:
                problems.append(f"id {entry.faq_id!r}: {exc}")
        if problems:
            error = ContentError("; ".join(problems[:20]))
            error.errors = [(0, p) for p in problems]  # type: ignore[attr-defined]
            raise error
        now = _now()
        created = updated = deleted = 0
        with self.engine.begin() as conn:
            existing = set(conn.scalars(select(kb_faq.c.faq_id)).all())
            position = int(conn.scalar(select(func.coalesce(func.max(kb_faq.c.position), 0))) or 0)
            incoming = {e.faq_id for e in checked}
            if mode == "replace":
                gone = existing - incoming
                if gone:
                    conn.execute(delete(kb_faq).where(kb_faq.c.faq_id.in_(sorted(gone))))
                deleted = len(gone)
            for entry in checked:
                if entry.faq_id in existing:
                    values = _faq_row(entry, False, user, now, None)
                    values.pop("faq_id")
                    conn.execute(update(kb_faq).where(kb_faq.c.faq_id == entry.faq_id).values(**values))
                    updated += 1
                else:
                    position += 1
                    conn.execute(insert(kb_faq).values(**_faq_row(entry, False, user, now, position)))
                    created += 1
            if created or updated or deleted:
                _bump(conn, now)
        return {"created": created, "updated": updated, "deleted": deleted, "errors": []}

    def replace_everywhere(self, replacements: Sequence[Tuple[str, str]], user: str) -> int:
        """Replace texts in every FAQ question and answer (both languages); every entry stops being demo.

        ``replacements`` are applied in the order given (longest first is the caller's
        business). Returns the number of entries whose text changed.
        """
        self.ensure_seeded()
        now = _now()
        changed = 0
        with self.engine.begin() as conn:
            rows = conn.execute(select(kb_faq)).mappings().all()
            for row in rows:
                values = {}
                for col in ("question_zh", "answer_zh", "question_en", "answer_en", "similar_zh", "similar_en"):
                    text = row[col]
                    if text is None:
                        continue
                    # A JSON list of similar questions: replaced item by item, so a replacement
                    # holding a quote cannot break the list.
                    items = json.loads(text) if col.startswith("similar") else [text]
                    for old, replacement in replacements:
                        if old:
                            items = [item.replace(old, replacement) for item in items]
                    new = json.dumps(items, ensure_ascii=False) if col.startswith("similar") else items[0]
                    if new != text:
                        values[col] = new
                if values:
                    changed += 1
                    values.update(updated_at=now, updated_by=user)
                if values or row["demo"]:
                    conn.execute(update(kb_faq).where(kb_faq.c.faq_id == row["faq_id"]).values(demo=False, **values))
            _bump(conn, now)
        return changed

    def clear(self, user: str) -> Dict[str, int]:
        """Delete every FAQ entry and document (an empty knowledge base)."""
        self.ensure_seeded()
        now = _now()
        with self.engine.begin() as conn:
            faqs = conn.execute(delete(kb_faq)).rowcount
            docs = conn.execute(delete(kb_documents)).rowcount
            _bump(conn, now)
        return {"faq": int(faqs or 0), "documents": int(docs or 0)}

    # ------------------------------------------------------------------ documents
    def list_documents(self) -> List[DocumentInfo]:
        """Every document, by file name."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_DOC_COLUMNS).order_by(kb_documents.c.filename)).mappings().all()
        return [_document(r) for r in rows]

    def get_document(self, document_id: int) -> DocumentInfo:
        """One document's details; :class:`NotFound` when there is none."""
        self.ensure_seeded()
        with self.engine.connect() as conn:
            row = conn.execute(select(*_DOC_COLUMNS).where(kb_documents.c.id == document_id)).mappings().first()
        if row is None:
            raise NotFound(f"no document {document_id}; GET /api/kb/documents lists them / 没有这个文档")
        return _document(row)

    def document_content(self, document_id: int) -> Tuple[DocumentInfo, bytes]:
        """A document's details and bytes."""
        info = self.get_document(document_id)
        with self.engine.connect() as conn:
            data = conn.scalar(select(kb_documents.c.content).where(kb_documents.c.id == document_id))
        if data is None:
            raise NotFound(f"no document {document_id} / 没有这个文档")
        return info, bytes(data)

    def add_document(self, filename: str, data: bytes, user: str) -> DocumentInfo:
        """Read, check and store a new document; :class:`Exists` when its file name is taken."""
        self.ensure_seeded()
        doc = read_document(filename, data)
        now = _now()
        with self.engine.begin() as conn:
            clash = conn.scalar(select(kb_documents.c.id).where(func.lower(kb_documents.c.filename) == doc.filename.lower()))
            if clash is not None:
                raise Exists(f"a document named {doc.filename!r} exists (id {clash}); replace it with "
                             f"PUT /api/kb/documents/{clash} or rename the file / 同名文档已存在")
            try:
                new_id = conn.execute(insert(kb_documents).values(**_document_row(doc, doc.filename, user, now))
                                      ).inserted_primary_key[0]
            except IntegrityError:
                raise Exists(f"a document named {doc.filename!r} exists / 同名文档已存在") from None
            _bump(conn, now)
        return self.get_document(int(new_id))

    def replace_document(self, document_id: int, filename: str, data: bytes, user: str) -> DocumentInfo:
        """Replace a document's file (the name may change, to one not taken)."""
        self.get_document(document_id)  # 404 before reading a large upload
        doc = read_document(filename, data)
        now = _now()
        with self.engine.begin() as conn:
            clash = conn.scalar(select(kb_documents.c.id).where(
                func.lower(kb_documents.c.filename) == doc.filename.lower(), kb_documents.c.id != document_id))
            if clash is not None:
                raise Exists(f"another document is named {doc.filename!r} (id {clash}) / 同名文档已存在")
            done = conn.execute(update(kb_documents).where(kb_documents.c.id == document_id)
                                .values(**_document_row(doc, doc.filename, user, now))).rowcount
            if not done:
                raise NotFound(f"no document {document_id} / 没有这个文档")
            _bump(conn, now)
        return self.get_document(document_id)

    def delete_document(self, document_id: int) -> None:
        """Remove a document; :class:`NotFound` when there is none."""
        self.ensure_seeded()
        now = _now()
        with self.engine.begin() as conn:
            if not conn.execute(delete(kb_documents).where(kb_documents.c.id == document_id)).rowcount:
                raise NotFound(f"no document {document_id}; GET /api/kb/documents lists them / 没有这个文档")
            _bump(conn, now)

    def document_chunks(self, document_id: int) -> Tuple[DocumentInfo, List[Any]]:
        """A document and the chunks a re-index makes of it (read from the stored file)."""
        from . import sources

        info, data = self.document_content(document_id)
        with tempfile.TemporaryDirectory(prefix="kb-chunks-") as scratch:
            path = Path(scratch) / info.filename
            path.write_bytes(data)
            try:
                chunks = sources.load_chunks(path)
            except Exception as exc:  # stored before a reader changed: say so, do not fail the page
                raise UnreadableDocument(f"{info.filename} cannot be read any more ({_reason(exc)}); "
                                         f"replace it / 文档无法读取，请替换") from exc
        return info, chunks

    def documents_with_content(self) -> Iterable[Tuple[DocumentInfo, bytes]]:
        """Every document with its bytes, one at a time (staging)."""
        for info in self.list_documents():
            try:
                yield self.document_content(info.id)
            except NotFound:  # deleted meanwhile
                continue


_DOC_COLUMNS = tuple(c for c in kb_documents.c if c.name != "content")


def _bump(conn: Connection, now: datetime) -> None:
    """The content changed: next revision."""
    conn.execute(update(kb_content_state).where(kb_content_state.c.id == STATE_ROW)
                 .values(revision=kb_content_state.c.revision + 1, updated_at=now))


def _faq_row(entry: FaqEntry, demo: bool, user: str, now: datetime, position: Optional[int]) -> Dict[str, Any]:
    row: Dict[str, Any] = {
        "faq_id": entry.faq_id, "category": entry.category or "",
        "question_zh": entry.zh.question if entry.zh else None, "answer_zh": entry.zh.answer if entry.zh else None,
        "question_en": entry.en.question if entry.en else None, "answer_en": entry.en.answer if entry.en else None,
        "similar_zh": json.dumps(list(entry.zh.similar), ensure_ascii=False) if entry.zh and entry.zh.similar else None,
        "similar_en": json.dumps(list(entry.en.similar), ensure_ascii=False) if entry.en and entry.en.similar else None,
        "demo": demo, "updated_at": now, "updated_by": user[:255]}
    if position is not None:
        row["position"] = position
    return row


def _faq(row: Any) -> FaqRecord:
    def similar(value: Optional[str]) -> Tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()

    zh = FaqText(row["question_zh"], row["answer_zh"], similar(row["similar_zh"])) if row["question_zh"] is not None else None
    en = FaqText(row["question_en"], row["answer_en"], similar(row["similar_en"])) if row["question_en"] is not None else None
    return FaqRecord(faq_id=row["faq_id"], category=row["category"] or "", zh=zh, en=en, demo=bool(row["demo"]),
                     updated_at=row["updated_at"], updated_by=row["updated_by"] or "")


def _document_row(doc: NewDocument, filename: str, user: str, now: datetime) -> Dict[str, Any]:
    return {"filename": filename, "kind": doc.kind, "sha256": doc.sha256, "size": len(doc.content),
            "content": doc.content, "chunks": doc.chunks, "warnings": json.dumps(doc.warnings, ensure_ascii=False),
            "uploaded_at": now, "uploaded_by": user[:255]}


def _document(row: Any) -> DocumentInfo:
    try:
        warnings = json.loads(row["warnings"] or "[]")
    except ValueError:
        warnings = []
    return DocumentInfo(id=row["id"], filename=row["filename"], kind=row["kind"], size=int(row["size"]),
                        sha256=row["sha256"], chunks=int(row["chunks"] or 0), warnings=list(warnings),
                        uploaded_at=row["uploaded_at"], uploaded_by=row["uploaded_by"] or "")


def _state(row: Any) -> ContentState:
    try:
        profile = json.loads(row["profile"]) if row["profile"] else None
    except ValueError:
        profile = None
    return ContentState(seeded_at=row["seeded_at"], seeded_from=row["seeded_from"] or "", revision=int(row["revision"]),
                        indexed_revision=row["indexed_revision"], indexed_version=row["indexed_version"],
                        job_id=row["job_id"], profile=profile)


def _unique_name(name: str, taken: set) -> str:
    """``name``, or ``stem (2).ext`` when a seeded document of that name exists already."""
    if name.lower() not in taken:
        return name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while f"{stem} ({n}){suffix}".lower() in taken:
        n += 1
    return f"{stem} ({n}){suffix}"
