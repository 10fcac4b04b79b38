"""Property-based fuzzing of the desk API from its own /api/openapi.json, bounded for CI.

Schemathesis cannot be installed next to Rasa 3.6's pins (attrs, pytest, jsonschema), so
this drives the same idea with the standard library: for every documented operation,
requests built from the document (valid values, wrong types, hostile strings, missing
and extra fields), seeded and bounded (``LINLI_FUZZ_EXAMPLES`` per operation, default 25),
with an agent's and an admin's session and with none. No answer may be a 5xx, every
answer must be JSON, and nothing may take longer than the long-poll limit.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import requests

from tests.handoff.conftest import Desk

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "25"))
HOSTILE = ["", " ", "'", "\"", "../../etc/passwd", "%00", "\u0000", "😀" * 50, "<script>alert(1)</script>",
           "' OR 1=1 --", "-1", "0", "1e309", "NaN", "9" * 40, "x" * 5000, "BX-20260101-0001",
           "${jndi:ldap://x}", "\r\nSet-Cookie: a=b", "null", "true", "[]", "{}"]
#: Writes that change which knowledge base the shared stack serves (a re-index, the first-run setup,
#: a restore), which its other tests rely on: fuzzed here without the admin's session only;
#: tests/knowledge_desk/test_kb_api.py sends them bad input on the kb_stack.
SERVED_KB = ("/api/kb/reindex", "/api/kb/setup", "/api/kb/versions/")


def _value(schema: Dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    kind = schema.get("type")
    roll = rng.random()
    if roll < 0.25:  # wrong type or hostile string whatever the schema says
        return rng.choice([rng.choice(HOSTILE), rng.randint(-2**63, 2**63), None, True, [1, "a"], {"a": 1},
                           rng.random() * 1e12])
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if kind == "integer":
        return rng.choice([0, 1, -1, 2**31, 2**63, rng.randint(-1000, 1000)])
    if kind == "number":
        return rng.choice([0.0, -1.5, 1e308, rng.random() * 100])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return [_value(schema.get("items") or {}, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "object" and depth < 3:
        props = schema.get("properties") or {}
        data = {k: _value(v, rng, depth + 1) for k, v in props.items() if rng.random() < 0.8}
        if rng.random() < 0.2:
            data[rng.choice(HOSTILE)[:20] or "extra"] = rng.choice(HOSTILE)
        return data
    return rng.choice(HOSTILE + ["wang", "admin", "open", "repair", "2026-11-24", "zh"])


def _resolve(document: Dict[str, Any], schema: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if schema and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return document["components"]["schemas"][name]
    return schema or {}


def _requests(document: Dict[str, Any], rng: random.Random) -> List[Dict[str, Any]]:
    cases = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            body_schema = _resolve(document, ((op.get("requestBody") or {}).get("content") or {})
                                   .get("application/json", {}).get("schema"))
            for _ in range(EXAMPLES):
                url = path
                query = {}
                for param in op.get("parameters") or []:
                    value = _value(param.get("schema") or {}, rng)
                    text = "" if value is None else str(value)
                    if param["in"] == "path":
                        url = url.replace("{" + param["name"] + "}", quote(text or "x", safe="") or "x")
                    elif rng.random() < 0.7:
                        query[param["name"]] = text
                body = _value(body_schema, rng) if body_schema else None
                if method == "post" and rng.random() < 0.1:
                    body = rng.choice(["not json", b"\xff\xfe", "[" * 1000])
                # What a success may be: JSON unless the document names other types (an export's CSV).
                produces = list(((op.get("responses") or {}).get("200") or {}).get("content") or ["application/json"])
                cases.append({"method": method.upper(), "url": url, "params": query, "body": body,
                              "produces": produces})
    return cases


def test_desk_api_never_answers_5xx(stack, agent: Desk, admin: Desk) -> None:  # type: ignore[no-untyped-def]
    document = agent.get("/api/openapi.json").json()
    rng = random.Random(11)
    anonymous = requests.Session()
    failures = []
    started = time.monotonic()
    for case in _requests(document, rng):
        if case["url"] in ("/api/logout",) or case["url"].endswith("/active"):
            continue  # would end the fuzzing sessions / disable the fixture accounts
        if "/messages" in case["url"]:
            case["params"]["wait"] = "0"
        client = rng.choice([agent.http, admin.http, anonymous])
        if client is admin.http and case["method"] == "POST" and case["url"].startswith(SERVED_KB):
            client = agent.http  # refused: see SERVED_KB
        body = case["body"]
        kwargs: Dict[str, Any] = {"params": case["params"], "timeout": 40}
        if isinstance(body, (bytes, str)):
            kwargs["data"] = body
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif body is not None:
            kwargs["json"] = body
        response = client.request(case["method"], stack.rasa_url + case["url"], **kwargs)
        # Successful answers are JSON (or the documented file type); Sanic itself answers unmatched paths (404) and oversized
        # requests (413) in plain text, which is fine: no 5xx is the property.
        content_type = response.headers.get("Content-Type", "")
        if response.status_code >= 500 or (response.status_code < 300
                                           and not any(kind in content_type for kind in case["produces"])):
            failures.append((case, response.status_code, response.text[:200]))
    assert not failures, failures[:5]
    assert time.monotonic() - started < 600
