"""First-run setup: replace the demo community's invented facts, or start from nothing.

A new installation answers from the demo FAQ of 阳光花园 / Sunshine Garden, whose name,
office hours, phone numbers and e-mail are invented. ``knowledge/sources/demo_facts.yaml``
names each of them as it appears in the demo FAQ (:func:`demo_facts`). Two ways out,
in the desk (``POST /api/kb/setup``) or on the command line (``python -m knowledge setup``):

``customise``
    every occurrence of each demo fact, in every FAQ question and answer of both
    languages, is replaced by the property's own (:func:`customise`); the entries stop
    being demo content and the answers are recorded as the setup profile;
``empty``
    every FAQ entry and document is deleted (:func:`make_empty`).

Both are followed by a re-index (the caller starts it: a job in the desk, a synchronous
build on the command line). Prices and rules in the demo answers are invented too: the
desk shows each entry for review.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from .config import PACKAGE_DIR
from .content import ContentError, ContentStore

DEMO_FACTS_FILE = PACKAGE_DIR / "sources" / "demo_facts.yaml"  # ingest skips it by name
MAX_NAME, MAX_HOURS, MAX_PHONE, MAX_EMAIL = 100, 200, 40, 120
_PHONE = re.compile(r"^[0-9+()\-#*.,/ 转分机extEXT]{3,%d}$" % MAX_PHONE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,%d}$" % MAX_EMAIL)
TEXT_FIELDS = {"community_name_zh": MAX_NAME, "community_name_en": MAX_NAME,
               "office_hours_zh": MAX_HOURS, "office_hours_en": MAX_HOURS}


def demo_facts(path: Path = DEMO_FACTS_FILE) -> Dict[str, Any]:
    """The demo community's facts: ``community_name``/``office_hours`` ``{zh, en}``, ``phones`` (number, zh, en), ``email``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for key in ("community_name", "office_hours", "phones"):
        if key not in data:
            raise ValueError(f"{path}: missing {key!r}; see knowledge/sources/README.md")
    data["phones"] = [{"number": str(p["number"]), "zh": p.get("zh", ""), "en": p.get("en", "")}
                      for p in data["phones"]]
    return data


def check_profile(data: Dict[str, Any], facts: Dict[str, Any]) -> Dict[str, Any]:
    """The ``customise`` answers, checked: names and hours in both languages, a number for each demo phone."""
    profile: Dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit or "\n" in value.strip():
            raise ContentError(f"{name} is required: one line of at most {limit} characters / {name} 必填（一行，最多 {limit} 字）")
        profile[name] = value.strip()
    phones = data.get("phones")
    demo_numbers = [p["number"] for p in facts["phones"]]
    if not isinstance(phones, dict):
        raise ContentError(f"phones must map each demo number to yours: {{{', '.join(repr(n) + ': ...' for n in demo_numbers)}}} "
                           "/ 请为每个示例电话填写真实号码")
    unknown = [k for k in phones if k not in demo_numbers]
    if unknown:
        raise ContentError(f"{unknown[0]!r} is not a demo phone number; the demo numbers are {demo_numbers} / 不是示例号码")
    checked = {}
    for number in demo_numbers:
        value = phones.get(number)
        if not isinstance(value, str) or not _PHONE.match(value.strip()) or sum(ch.isdigit() for ch in value) < 3:
            raise ContentError(f"phones[{number!r}] needs your number (digits, spaces, + - ( ), at most {MAX_PHONE} "
                               f"characters) / 请填写 {number} 对应的真实电话")
        checked[number] = value.strip()
    profile["phones"] = checked
    email = data.get("email")
    if email not in (None, ""):
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise ContentError("email must be an address like service@example.com / 邮箱格式不正确")
        profile["email"] = email.strip()
    return profile


def replacements(profile: Dict[str, Any], facts: Dict[str, Any]) -> List[Tuple[str, str]]:
    """``(demo text, replacement)`` pairs, longest demo text first (the e-mail before the name it contains)."""
    pairs: List[Tuple[str, str]] = []
    if profile.get("email") and facts.get("email"):
        pairs.append((str(facts["email"]), profile["email"]))
    for lang in ("zh", "en"):
        pairs.append((str(facts["office_hours"][lang]), profile[f"office_hours_{lang}"]))
        pairs.append((str(facts["community_name"][lang]), profile[f"community_name_{lang}"]))
    pairs.extend((number, new) for number, new in profile["phones"].items())
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def customise(content: ContentStore, data: Dict[str, Any], user: str,
              facts: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Replace the demo facts everywhere in the FAQ; returns ``{"replaced": entries changed, "deleted": 0}``."""
    facts = facts or demo_facts()
    profile = check_profile(data, facts)
    changed = content.replace_everywhere(replacements(profile, facts), user)
    content.set_profile({"mode": "customise", **profile, "set_by": user, "set_at": _now()})
    return {"replaced": changed, "deleted": 0}


def make_empty(content: ContentStore, user: str) -> Dict[str, Any]:
    """Delete every FAQ entry and document; returns ``{"replaced": 0, "deleted": entries + documents}``."""
    removed = content.clear(user)
    content.set_profile({"mode": "empty", "set_by": user, "set_at": _now()})
    return {"replaced": 0, "deleted": removed["faq"] + removed["documents"]}


def view(content: ContentStore) -> Dict[str, Any]:
    """``{"demo": demo entries remain, "profile": the last setup or None, "demo_facts"}`` (the setup page)."""
    return {"demo": content.has_demo(), "profile": content.state().profile, "demo_facts": demo_facts()}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
