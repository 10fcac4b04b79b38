"""The knowledge-base page's JSON API under ``/api/kb`` (docs/api.md, "Knowledge base").

Every route needs the ``editor`` or ``admin`` role. FAQ entries and documents live in the
content store (:mod:`knowledge.content`), which is the truth; a re-index job
(:mod:`knowledge.jobs`) builds an index version from it and activates it, and every
running server answers from it within ``LINLI_KB_RELOAD_SECONDS``. Content edits do not
re-index by themselves: ``GET /api/kb/status`` says ``dirty`` until a re-index ran.

Files travel base64 in JSON (``content_base64``). Those routes stream their body, so an
upload may be larger than ``LINLI_MAX_BODY_BYTES`` (up to ``LINLI_KB_MAX_UPLOAD_MB``,
about 4/3 of it as base64) while every other route keeps that limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import re
import threading
from datetime import datetime, timezone
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Tuple, Union
from urllib.parse import unquote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.api import authenticated, body, int_arg, user_of, valid_id
from bot.web.http import error
from bot.web import kb_openapi  # noqa: F401  (registers the routes' OpenAPI description)

blueprint = Blueprint("linli_kb_api", url_prefix="/api/kb")

EDITORS = ("editor",)
#: Room for the JSON around a base64 file.
JSON_SLACK = 64 * 1024
MAX_QUERY = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LOCK = threading.Lock()

Handler = Callable[..., Awaitable[HTTPResponse]]


# ---------------------------------------------------------------- stores (one per server process)
def _stores(request: Request) -> Any:
    """``(ContentStore, Reindexer)`` of this server, made on first use (seeds the content once)."""
    ctx = request.app.ctx
    with _LOCK:
        found = getattr(ctx, "kb_stores", None)
        if found is None:
            from knowledge.content import ContentStore
            from knowledge.jobs import Reindexer

            content = ContentStore()
            found = (content, Reindexer(content))
            ctx.kb_stores = found
    return found


async def _content(request: Request) -> Any:
    return (await asyncio.to_thread(_stores, request))[0]


async def _reindexer(request: Request) -> Any:
    return (await asyncio.to_thread(_stores, request))[1]


def _refusals(handler: Handler) -> Handler:
    """Turn the content store's refusals into their 4xx answers (never a 500)."""
    from knowledge.content import ContentError
    from knowledge.jobs import JobRunning

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except JobRunning as exc:
            return response.json({"error": "job_running", "message": str(exc), "job": exc.job.to_dict()}, status=409)
        except ContentError as exc:
            return error(exc.status, exc.code, str(exc))

    return wrapper


def _user(request: Request) -> str:
    return user_of(request).username


# ---------------------------------------------------------------- uploads
def upload_body_limit() -> int:
    """Largest request body of an upload route: the file limit as base64 plus the JSON around it."""
    from knowledge.content import max_upload_bytes

    return math.ceil(max_upload_bytes() / 3) * 4 + JSON_SLACK


def _too_large() -> HTTPResponse:
    from knowledge.content import max_upload_bytes

    return error(413, "too_large", f"The upload is larger than {max_upload_bytes() / 1e6:.0f} MB "
                                   f"(LINLI_KB_MAX_UPLOAD_MB) / 文件超过大小限制")


async def _streamed_json(request: Request) -> Union[Dict[str, Any], HTTPResponse]:
    """The JSON object body of a streaming route, refused (413) past :func:`upload_body_limit`."""
    limit = upload_body_limit()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large()
    parts, size = [], 0
    stream = request.stream
    while stream is not None:
        chunk = await stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return _too_large()
        parts.append(chunk)
    try:
        data = json.loads(b"".join(parts) or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" nested past the parser's depth
        return error(400, "bad_json", "Send a JSON object {\"filename\": ..., \"content_base64\": ...} / 请求体不是 JSON")
    if not isinstance(data, dict):
        return error(400, "bad_json", "Send a JSON object {\"filename\": ..., \"content_base64\": ...} / 请求体不是 JSON 对象")
    return data


def _file_of(data: Dict[str, Any]) -> Union[tuple, HTTPResponse]:
    """``(filename, bytes)`` from ``{"filename", "content_base64"}``, or the 4xx answer."""
    from knowledge.content import max_upload_bytes

    filename, encoded = data.get("filename"), data.get("content_base64")
    if not isinstance(filename, str) or not filename.strip():
        return error(400, "missing_filename", "Send \"filename\" (e.g. \"rules.docx\") / 缺少文件名")
    if not isinstance(encoded, str) or not encoded:
        return error(400, "missing_content", "Send the file as \"content_base64\" / 缺少文件内容")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return error(400, "bad_base64", "content_base64 is not valid base64 / 文件内容不是有效的 base64")
    if len(raw) > max_upload_bytes():
        return _too_large()
    return filename, raw


async def _uploaded(request: Request) -> Union[Tuple[Dict[str, Any], tuple], HTTPResponse]:
    """The streamed JSON body and its ``(filename, bytes)`` file, or the 4xx answer."""
    data = await _streamed_json(request)
    if isinstance(data, HTTPResponse):
        return data
    found = _file_of(data)
    return found if isinstance(found, HTTPResponse) else (data, found)


# ---------------------------------------------------------------- FAQ
@blueprint.get("/faq")
@authenticated(roles=EDITORS)
@_refusals
async def list_faq(request: Request) -> HTTPResponse:
    """FAQ entries filtered by ``q`` (both languages), ``category``, ``language``; paged."""
    args = request.args
    try:
        limit, offset = int_arg(request, "limit", 50, 1, 500), int_arg(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    q, category, language = (args.get("q") or "").strip(), (args.get("category") or "").strip(), args.get("language") or ""
    if language not in ("", "zh", "en"):
        return error(400, "bad_parameter", "language must be zh or en / language 只能是 zh 或 en")
    if len(q) > MAX_QUERY or len(category) > MAX_QUERY or _CONTROL.search(q + category):
        return error(400, "bad_parameter", f"q and category are texts of at most {MAX_QUERY} characters")
    content = await _content(request)
    entries, total = await asyncio.to_thread(content.list_faq, q, category, language, limit, offset)
    categories = await asyncio.to_thread(content.categories)
    demo = await asyncio.to_thread(content.has_demo)
    return response.json({"entries": [e.to_dict() for e in entries], "total": total, "categories": categories,
                          "demo": demo, "limit": limit, "offset": offset})


@blueprint.post("/faq")
@authenticated(roles=EDITORS)
@_refusals
async def create_faq(request: Request) -> HTTPResponse:
    """Add an entry; its id is generated from the category when missing."""
    from knowledge.content import entry_from_json

    data = body(request)
    faq_id = data.get("faq_id")
    entry = entry_from_json(data, faq_id if faq_id not in (None, "") else "")
    content = await _content(request)
    record = await asyncio.to_thread(content.create_faq, entry, _user(request))
    return response.json({"entry": record.to_dict()}, status=201)


@blueprint.get("/faq/export")
@authenticated(roles=EDITORS)
@_refusals
async def export_faq(request: Request) -> HTTPResponse:
    """Every entry as a CSV (UTF-8 with BOM) or XLSX download, one row per FAQ id."""
    from knowledge.faq_io import write_faq_table

    fmt = (request.args.get("format") or "csv").lower()
    if fmt not in ("csv", "xlsx"):
        return error(400, "bad_parameter", "format must be csv or xlsx / format 只能是 csv 或 xlsx")
    content = await _content(request)
    records = await asyncio.to_thread(content.all_faq)
    data = await asyncio.to_thread(write_faq_table, [r.entry() for r in records], fmt)
    name = f"faq-{datetime.now(timezone.utc):%Y%m%d}.{fmt}"
    mime = ("text/csv; charset=utf-8" if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return response.raw(data, content_type=mime, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "no-store"})


@blueprint.post("/faq/import", stream=True)
@authenticated(roles=EDITORS)
@_refusals
async def import_faq(request: Request) -> HTTPResponse:
    """Merge (or, with ``mode: replace``, replace) the FAQ with a CSV/XLSX table; any bad row changes nothing."""
    from knowledge.content import ContentError
    from knowledge.faq_io import FaqTableError, read_faq_table

    uploaded = await _uploaded(request)
    if isinstance(uploaded, HTTPResponse):
        return uploaded
    data, found = uploaded
    filename, raw = found
    mode = data.get("mode") or "merge"
    if mode not in ("merge", "replace"):
        return error(400, "bad_parameter", "mode must be merge or replace / mode 只能是 merge 或 replace")
    if not filename.lower().endswith((".csv", ".xlsx")):
        return error(400, "unsupported_type", "Import a .csv or .xlsx table / 仅支持 .csv 或 .xlsx 表格")
    try:
        entries = await asyncio.to_thread(read_faq_table, filename, raw)
    except FaqTableError as exc:
        return _rows_refused(exc.rows)
    content = await _content(request)
    try:
        counts = await asyncio.to_thread(content.import_faq, entries, mode, _user(request))
    except ContentError as exc:
        return _rows_refused(getattr(exc, "errors", None) or [(0, str(exc))])
    return response.json(counts)


def _rows_refused(rows: Any) -> HTTPResponse:
    errors = [{"row": int(n), "message": str(m)} for n, m in rows]
    return response.json({"error": "invalid_rows", "message": f"{len(errors)} problem(s) in the table; nothing was "
                                                              f"imported / 表格有问题，未导入任何内容",
                          "created": 0, "updated": 0, "deleted": 0, "errors": errors}, status=400)


def _faq_id(raw: str) -> str:
    """The FAQ id of a path (percent-decoded); an id that cannot exist is simply not found."""
    from knowledge.content import ContentError, NotFound, check_faq_id

    faq_id = unquote(raw)
    try:
        return check_faq_id(faq_id)
    except ContentError:
        raise NotFound(f"no FAQ entry {faq_id[:100]!r}; GET /api/kb/faq lists them / 没有这个问答") from None


@blueprint.get("/faq/<faq_id:str>")
@authenticated(roles=EDITORS)
@_refusals
async def get_faq(request: Request, faq_id: str) -> HTTPResponse:
    """One entry."""
    content = await _content(request)
    record = await asyncio.to_thread(content.get_faq, _faq_id(faq_id))
    return response.json({"entry": record.to_dict()})


@blueprint.put("/faq/<faq_id:str>")
@authenticated(roles=EDITORS)
@_refusals
async def update_faq(request: Request, faq_id: str) -> HTTPResponse:
    """Replace an entry's category and both language versions (send the whole entry)."""
    from knowledge.content import entry_from_json

    entry = entry_from_json(body(request), _faq_id(faq_id))
    content = await _content(request)
    record = await asyncio.to_thread(content.update_faq, _faq_id(faq_id), entry, _user(request))
    return response.json({"entry": record.to_dict()})


@blueprint.delete("/faq/<faq_id:str>")
@authenticated(roles=EDITORS)
@_refusals
async def delete_faq(request: Request, faq_id: str) -> HTTPResponse:
    """Remove an entry."""
    content = await _content(request)
    await asyncio.to_thread(content.delete_faq, _faq_id(faq_id))
    return response.json({"ok": True})


# ---------------------------------------------------------------- documents
@blueprint.get("/documents")
@authenticated(roles=EDITORS)
@_refusals
async def list_documents(request: Request) -> HTTPResponse:
    """Every document with its chunk count and warnings."""
    content = await _content(request)
    documents = await asyncio.to_thread(content.list_documents)
    return response.json({"documents": [d.to_dict() for d in documents]})


@blueprint.post("/documents", stream=True)
@authenticated(roles=EDITORS)
@_refusals
async def upload_document(request: Request) -> HTTPResponse:
    """Upload a md, txt, pdf, docx or xlsx document (read at once: no text, no upload)."""
    uploaded = await _uploaded(request)
    if isinstance(uploaded, HTTPResponse):
        return uploaded
    data, found = uploaded
    content = await _content(request)
    document = await asyncio.to_thread(content.add_document, found[0], found[1], _user(request))
    return response.json({"document": document.to_dict()}, status=201)


@blueprint.put("/documents/<document_id:int>", stream=True)
@authenticated(roles=EDITORS)
@_refusals
async def replace_document(request: Request, document_id: int) -> HTTPResponse:
    """Replace a document's file."""
    if not valid_id(document_id):
        return error(404, "not_found", f"No document {document_id}; GET /api/kb/documents lists them.")
    uploaded = await _uploaded(request)
    if isinstance(uploaded, HTTPResponse):
        return uploaded
    data, found = uploaded
    content = await _content(request)
    document = await asyncio.to_thread(content.replace_document, document_id, found[0], found[1], _user(request))
    return response.json({"document": document.to_dict()})


@blueprint.delete("/documents/<document_id:int>")
@authenticated(roles=EDITORS)
@_refusals
async def delete_document(request: Request, document_id: int) -> HTTPResponse:
    """Remove a document."""
    if not valid_id(document_id):
        return error(404, "not_found", f"No document {document_id}; GET /api/kb/documents lists them.")
    content = await _content(request)
    await asyncio.to_thread(content.delete_document, document_id)
    return response.json({"ok": True})


@blueprint.get("/documents/<document_id:int>/chunks")
@authenticated(roles=EDITORS)
@_refusals
async def document_chunks(request: Request, document_id: int) -> HTTPResponse:
    """The passages a re-index makes of a document."""
    if not valid_id(document_id):
        return error(404, "not_found", f"No document {document_id}; GET /api/kb/documents lists them.")
    content = await _content(request)
    document, chunks = await asyncio.to_thread(content.document_chunks, document_id)
    return response.json({"document": document.to_dict(), "chunks": [
        {"chunk_id": c.chunk_id, "title": c.title, "section": c.section, "article": c.article, "text": c.text,
         "language": c.language} for c in chunks]})


# ---------------------------------------------------------------- re-index, status, versions
@blueprint.post("/reindex")
@authenticated(roles=EDITORS)
@_refusals
async def reindex(request: Request) -> HTTPResponse:
    """Start a re-index job (409 while one runs); poll ``GET /api/kb/jobs/<id>``."""
    reindexer = await _reindexer(request)
    job = await asyncio.to_thread(reindexer.start, _user(request))
    return response.json({"job": job.to_dict()}, status=202)


@blueprint.get("/jobs")
@authenticated(roles=EDITORS)
@_refusals
async def list_jobs(request: Request) -> HTTPResponse:
    """The latest re-index jobs, newest first."""
    try:
        limit = int_arg(request, "limit", 20, 1, 100)
    except ValueError as exc:
        return error(400, "bad_parameter", str(exc))
    reindexer = await _reindexer(request)
    jobs = await asyncio.to_thread(reindexer.jobs.latest, limit)
    return response.json({"jobs": [j.to_dict() for j in jobs]})


@blueprint.get("/jobs/<job_id:int>")
@authenticated(roles=EDITORS)
@_refusals
async def get_job(request: Request, job_id: int) -> HTTPResponse:
    """One re-index job: status, stage, progress, the version it built."""
    if not valid_id(job_id):
        return error(404, "not_found", f"No re-index job {job_id}; GET /api/kb/jobs lists them.")
    reindexer = await _reindexer(request)
    job = await asyncio.to_thread(reindexer.jobs.get, job_id)
    return response.json({"job": job.to_dict()})


@blueprint.get("/status")
@authenticated(roles=EDITORS)
@_refusals
async def kb_status(request: Request) -> HTTPResponse:
    """Whether content changed since the served version was built, the latest job, the demo flag."""
    from knowledge.live import reload_seconds
    from knowledge.versions import VersionStore

    content, reindexer = await asyncio.to_thread(_stores, request)

    def read() -> Dict[str, Any]:
        active = VersionStore(content.engine).active_id()
        latest = reindexer.jobs.latest(1)
        status = content.status(active)
        return {"dirty": status["dirty"], "active_version": active, "job": latest[0].to_dict() if latest else None,
                "demo": status["demo"], "revision": status["revision"], "reload_seconds": reload_seconds()}

    return response.json(await asyncio.to_thread(read))


@blueprint.get("/versions")
@authenticated(roles=EDITORS)
@_refusals
async def list_versions(request: Request) -> HTTPResponse:
    """Stored index versions, newest first (``active`` is served)."""
    from knowledge.versions import VersionStore

    content = await _content(request)
    store = VersionStore(content.engine)
    versions = await asyncio.to_thread(store.list)
    active = next((v.id for v in versions if v.active), None)
    return response.json({"versions": [{"id": v.id, "created_at": v.to_dict()["created_at"], "note": v.note,
                                        "chunks": v.n_chunks, "active": v.active} for v in versions],
                          "active": active})


@blueprint.post("/versions/<version_id:int>/activate")
@authenticated(roles=EDITORS)
@_refusals
async def activate_version(request: Request, version_id: int) -> HTTPResponse:
    """Serve another stored version (the restore); every server switches within ``reload_seconds``."""
    from knowledge.live import reload_seconds
    from knowledge.versions import VersionError, VersionStore

    if not valid_id(version_id):
        return error(404, "not_found", f"No version {version_id}; GET /api/kb/versions lists them.")
    content = await _content(request)
    try:
        version = await asyncio.to_thread(VersionStore(content.engine).activate, version_id)
    except VersionError as exc:
        return error(404, "not_found", str(exc))
    return response.json({"active": version.id, "reload_seconds": reload_seconds()})


# ---------------------------------------------------------------- first-run setup
@blueprint.get("/setup")
@authenticated(roles=EDITORS)
@_refusals
async def get_setup(request: Request) -> HTTPResponse:
    """Whether demo content remains, the last setup's answers and the demo facts to replace."""
    from knowledge.setup import view

    content = await _content(request)
    return response.json(await asyncio.to_thread(view, content))


@blueprint.post("/setup")
@authenticated(roles=EDITORS)
@_refusals
async def post_setup(request: Request) -> HTTPResponse:
    """``customise`` (replace the demo facts everywhere) or ``empty`` (delete everything), then re-index."""
    from knowledge.jobs import JobRunning
    from knowledge.setup import customise, make_empty

    data = body(request)
    mode = data.get("mode")
    if mode not in ("customise", "empty"):
        return error(400, "bad_parameter", "mode must be customise or empty / mode 只能是 customise 或 empty")
    content, reindexer = await asyncio.to_thread(_stores, request)
    running = await asyncio.to_thread(reindexer.jobs.current, content)
    if running is not None and running.active:
        raise JobRunning(running)  # before changing anything
    user = _user(request)
    if mode == "customise":
        result = await asyncio.to_thread(customise, content, data, user)
    else:
        result = await asyncio.to_thread(make_empty, content, user)
    job = await asyncio.to_thread(reindexer.start, user, f"first-run setup: {mode}")
    return response.json({**result, "job": job.to_dict()})
