"""OpenAPI description of the knowledge-base routes (:mod:`bot.web.kb_api`), merged into /api/openapi.json."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from bot.web.openapi import B, I, N, S, describe, obj, op, path_param, query, ref

TAG = "knowledge"
_ARRAY = lambda schema: {"type": "array", "items": schema}  # noqa: E731
_SIMILAR = {"type": "array", "maxItems": 30, "items": S,
            "description": "other wordings of the question (相似问法); optional, a list (not a string)"}
_NULLABLE_TEXT = {"type": "object", "nullable": True, "properties": {"question": S, "answer": S, "similar": _SIMILAR}}


def _file_download(summary: str) -> Dict[str, Any]:
    return {"summary": summary, "tags": [TAG],
            "parameters": [query("format", "csv (UTF-8 with BOM, default) or xlsx")],
            "responses": {"200": {"description": "the file (Content-Disposition: attachment)", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}}}},
                **{str(code): {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
                   for code, text in ((400, "format is not csv or xlsx"), (401, "No session"),
                                      (403, "Needs the editor or admin role"))}}}


@describe
def _paths() -> Tuple[Dict[str, Any], Dict[str, Any]]:
    entry_body = obj(faq_id=S, category=S, zh=_NULLABLE_TEXT, en=_NULLABLE_TEXT)
    entry = obj(entry=ref("KbEntry"))
    upload = obj(filename=S, content_base64={"type": "string", "format": "byte"})
    faq_id, doc_id = path_param("faq_id"), path_param("document_id", "integer")
    job = obj(job=ref("KbJob"))
    editor = (401, 403)
    paths = {
        "/api/kb/faq": {
            "get": op("FAQ entries (editor): search questions and answers of both languages, filter, page",
                      obj(entries=_ARRAY(ref("KbEntry")), total=I, categories=_ARRAY(S), demo=B, limit=I, offset=I),
                      params=[query("q", "text in a question or answer (zh or en)"), query("category", "a category"),
                              query("language", "zh or en: entries that have that version"),
                              query("limit", "1-500, default 50", "integer"), query("offset", "skip", "integer")],
                      errors=(400, *editor), tag=TAG),
            "post": op("Add an FAQ entry (at least one language; faq_id generated from the category when missing)",
                       entry, request=entry_body, errors=(400, *editor, 409, 415), tag=TAG),
        },
        "/api/kb/faq/export": {"get": _file_download(
            "Every FAQ entry as a table: id, category, question_zh, answer_zh, question_en, answer_en, "
            "similar_zh, similar_en (similar questions, one per line in the cell)")},
        "/api/kb/faq/import": {"post": op(
            "Import a CSV (UTF-8 or GBK) or XLSX FAQ table, headers in Chinese or English; mode merge (default) "
            "or replace; any bad row: 400 with every row's problem and nothing changes",
            obj(created=I, updated=I, deleted=I, errors=_ARRAY(obj(row=I, message=S))),
            request=obj(filename=S, content_base64={"type": "string", "format": "byte"},
                        mode={"type": "string", "enum": ["merge", "replace"]}),
            errors=(400, *editor, 413, 415), tag=TAG)},
        "/api/kb/faq/{faq_id}": {
            "get": op("One FAQ entry", entry, params=[faq_id], errors=(*editor, 404), tag=TAG),
            "put": op("Replace an FAQ entry (category and both versions; it stops being demo content)", entry,
                      params=[faq_id], request=entry_body, errors=(400, *editor, 404, 415), tag=TAG),
            "delete": op("Delete an FAQ entry", obj(ok=B), params=[faq_id], errors=(*editor, 404, 415), tag=TAG),
        },
        "/api/kb/documents": {
            "get": op("Documents with chunk counts and reader warnings", obj(documents=_ARRAY(ref("KbDocument"))),
                      errors=editor, tag=TAG),
            "post": op("Upload a document (md, txt, pdf, docx, xlsx) as base64 JSON; 400 no_text_layer for a "
                       "scanned PDF (OCR it first), unsupported_type, empty_document; 413 over LINLI_KB_MAX_UPLOAD_MB",
                       obj(document=ref("KbDocument")), request=upload, errors=(400, *editor, 409, 413, 415), tag=TAG),
        },
        "/api/kb/documents/{document_id}": {
            "put": op("Replace a document's file", obj(document=ref("KbDocument")), params=[doc_id], request=upload,
                      errors=(400, *editor, 404, 409, 413, 415), tag=TAG),
            "delete": op("Delete a document", obj(ok=B), params=[doc_id], errors=(*editor, 404, 415), tag=TAG),
        },
        "/api/kb/documents/{document_id}/chunks": {"get": op(
            "The passages a re-index makes of a document", obj(document=ref("KbDocument"), chunks=_ARRAY(obj(
                chunk_id=S, title=S, section=S, article=S, text=S, language=S))),
            params=[doc_id], errors=(400, *editor, 404), tag=TAG)},
        "/api/kb/reindex": {"post": op(
            "Start a re-index job (202): builds a version from the content and activates it; 409 job_running "
            "(with the job) while one runs", job, errors=(*editor, 409, 415), tag=TAG)},
        "/api/kb/jobs": {"get": op("Re-index jobs, newest first", obj(jobs=_ARRAY(ref("KbJob"))),
                                   params=[query("limit", "1-100, default 20", "integer")],
                                   errors=(400, *editor), tag=TAG)},
        "/api/kb/jobs/{job_id}": {"get": op("One re-index job", job, params=[path_param("job_id", "integer")],
                                            errors=(*editor, 404), tag=TAG)},
        "/api/kb/status": {"get": op(
            "Changes not indexed yet (dirty), the active version, the latest job, demo content present",
            obj(dirty=B, active_version={"type": "integer", "nullable": True},
                job={"allOf": [ref("KbJob")], "nullable": True}, demo=B, revision=I, reload_seconds=N),
            errors=editor, tag=TAG)},
        "/api/kb/versions": {"get": op(
            "Stored index versions, newest first", obj(versions=_ARRAY(obj(id=I, created_at=S, note=S, chunks=I,
                                                                           active=B)), active=I),
            errors=editor, tag=TAG)},
        "/api/kb/versions/{version_id}/activate": {"post": op(
            "Serve this version (restore an earlier one); the content store is unchanged, so status says dirty "
            "until a re-index", obj(active=I, reload_seconds=N), params=[path_param("version_id", "integer")],
            errors=(*editor, 404, 415), tag=TAG)},
        "/api/kb/setup": {
            "get": op("First-run setup: demo content present, the last setup's answers, the demo facts",
                      obj(demo=B, profile={"type": "object", "nullable": True}, demo_facts=ref("KbDemoFacts")),
                      errors=editor, tag=TAG),
            "post": op(
                "customise: replace the demo community name, office hours, every demo phone number (and e-mail) "
                "everywhere in the FAQ; empty: delete every entry and document. Then a re-index job starts",
                obj(replaced=I, deleted=I, job=ref("KbJob")),
                request=obj(mode={"type": "string", "enum": ["customise", "empty"]}, community_name_zh=S,
                            community_name_en=S, office_hours_zh=S, office_hours_en=S,
                            phones={"type": "object", "additionalProperties": S}, email=S),
                errors=(400, *editor, 409, 415), tag=TAG),
        },
    }
    schemas = {
        "KbEntry": obj(faq_id=S, category=S, demo=B, zh=_NULLABLE_TEXT, en=_NULLABLE_TEXT, updated_at=S,
                       updated_by=S),
        "KbDocument": obj(id=I, filename=S, kind={"type": "string", "enum": ["md", "txt", "pdf", "docx", "xlsx"]},
                          size=I, sha256=S, chunks=I, warnings=_ARRAY(S), uploaded_at=S, uploaded_by=S),
        "KbJob": obj(id=I, status={"type": "string", "enum": ["queued", "running", "done", "failed"]}, stage=S,
                     progress=N, message=S, note=S, version_id={"type": "integer", "nullable": True}, started_by=S,
                     created_at=S, heartbeat_at=S, finished_at={"type": "string", "nullable": True}),
        "KbDemoFacts": obj(community_name=obj(zh=S, en=S), office_hours=obj(zh=S, en=S),
                           phones=_ARRAY(obj(number=S, zh=S, en=S)), email=S),
    }
    return paths, schemas
