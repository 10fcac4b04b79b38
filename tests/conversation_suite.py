"""The conversation test suite: multi-turn conversations kept as data (``tests/conversations/*.yml``).

Each file holds one category::

    category: emergency
    conversations:
      - id: gas-zh-kitchen
        lang: zh                      # zh | en | mixed
        note: optional free text, shown when the conversation fails
        turns:
          - user: 厨房好大一股煤气味
            expect:                   # checks on the bot's joined reply (all optional)
              any: ["119", "燃气"]     # at least one of these substrings
              all: ["0571-8765 4300"]  # every one of these
              none: ["房号"]           # none of these
              regex: '...'             # re.search (case-insensitive)
              silent: true             # the bot says nothing
          - fill:                      # answer whatever the form asks until `until` appears
              请确认报修信息: 确认        # marker in the bot's last reply → what the resident answers;
              紧急吗: 不急               # of the markers found, the first not yet answered wins, in
              联系电话: "13812345678"    # the order written: the confirmation first, then form order
            until: 报修已提交            # a string or a list (any of them); max: 8 answers by default
        final:                        # checks on the database after the last turn (all optional)
          tickets: 1                  # or {min: 1, max: 2}, or per type {repair: 1, complaint: 0}
          ticket: {urgency: urgent}   # the resident's latest ticket (see below)
          handoff: {reason: emergency, priority: urgent}   # the latest handoff (null: none at all)

Substring checks match when spaces differ ("0571-87654300" matches "0571-8765 4300") and use
"smart case": all-lowercase needles ignore case, needles with a capital ("Where") do not.
``ticket`` keys are Ticket columns compared as text, ignoring case (``null`` = empty), or a
column with a suffix: ``<col>_contains`` (a string or a list: all of them), ``<col>_excludes``
(none of them), ``<col>_in`` (one of a list), ``<col>_set`` (true: not empty, false: empty).
``descriptions_contain`` checks the descriptions of *all* the resident's tickets together (one
ticket naming both problems, or two tickets). A column the schema does not have fails the
conversation with a clear message, never the suite. ``handoff: null`` means no handoff at all;
``handoff: {}`` any handoff. Tickets and handoffs are read through ``tests.servers.tickets_of`` and
``handoff_of``.

Quote YAML values that YAML would read otherwise: ``"yes"``, ``"no"``, phone numbers, and any
text with `` #`` or ``: `` in it (the loader rejects booleans where text is expected).

API: :func:`load_suite` → :class:`Conversation` list; :func:`run_conversation` → :class:`Result`;
:func:`summarise` → pass rates per category and language; :func:`format_summary` prints them.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from tests.servers import handoff_of, tickets_of

SUITE_DIR = Path(__file__).resolve().parent / "conversations"
LANGS = ("zh", "en", "mixed")
EXPECT_KEYS = {"any", "all", "none", "regex", "silent"}
FINAL_KEYS = {"tickets", "ticket", "handoff", "descriptions_contain"}
TICKET_NUMBER = re.compile(r"\b(BX|TS)-\d{8}-\d{4}\b")


class SuiteError(ValueError):
    """A conversation file is malformed."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Expect:
    """What one bot reply must (and must not) contain."""

    any: Tuple[str, ...] = ()
    all: Tuple[str, ...] = ()
    none: Tuple[str, ...] = ()
    regex: Optional[str] = None
    silent: bool = False


@dataclass(frozen=True)
class Turn:
    """One resident message and the checks on the bot's answer to it.

    A *fill* turn (``fill`` set, ``user`` empty) answers the form's questions from a table
    (marker in the bot's last reply → answer) until a reply contains one of ``until``.
    """

    user: str
    expect: Optional[Expect] = None
    fill: Tuple[Tuple[str, str], ...] = ()
    until: Tuple[str, ...] = ()
    max: int = 8


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation of the suite."""

    id: str
    category: str
    lang: str
    turns: Tuple[Turn, ...]
    final: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    source: str = ""


@dataclass
class TurnResult:
    """What happened on one turn."""

    user: str
    reply: str
    messages: List[Dict[str, Any]]
    failures: List[str]


@dataclass
class Result:
    """The outcome of one conversation."""

    conversation: Conversation
    sender: str
    turns: List[TurnResult] = field(default_factory=list)
    final_failures: List[str] = field(default_factory=list)
    error: Optional[str] = None
    seconds: float = 0.0

    @property
    def failures(self) -> List[str]:
        """Every failed check, turn by turn, then the database checks."""
        out = [f"turn {i + 1} ({t.user!r}): {f}" for i, t in enumerate(self.turns) for f in t.failures]
        out += [f"final: {f}" for f in self.final_failures]
        if self.error:
            out.append(f"error: {self.error}")
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        """A readable transcript with the failed checks, for assertion messages and logs."""
        conv = self.conversation
        lines = [f"conversation {conv.id} [{conv.category}/{conv.lang}] sender={self.sender} ({conv.source})"]
        if conv.note:
            lines.append(f"  note: {conv.note}")
        for turn in self.turns:
            lines.append(f"  user> {turn.user}")
            for line in (turn.reply or "<silent>").splitlines() or [""]:
                lines.append(f"  bot > {line}")
            for failure in turn.failures:
                lines.append(f"  !! {failure}")
        for failure in self.final_failures:
            lines.append(f"  !! final: {failure}")
        if self.error:
            lines.append(f"  !! error: {self.error}")
        return "\n".join(lines)

    def as_dict(self) -> Dict[str, Any]:
        """JSON form for benchmark results."""
        return {
            "id": self.conversation.id,
            "category": self.conversation.category,
            "lang": self.conversation.lang,
            "passed": self.passed,
            "failures": self.failures,
            "seconds": round(self.seconds, 2),
            "transcript": [{"user": t.user, "bot": t.reply} for t in self.turns],
        }


# --------------------------------------------------------------------------- loading


def _strings(value: Any, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value)):
        raise SuiteError(f"{where}: quote {value!r} (YAML reads yes/no/on/off as booleans)")
    if isinstance(value, (str, int, float)):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise SuiteError(f"{where}: expected a string or a list of strings, got {value!r}")


def _expect(raw: Any, where: str) -> Optional[Expect]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: expect must be a mapping")
    unknown = set(raw) - EXPECT_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown expect keys {sorted(unknown)} (allowed: {sorted(EXPECT_KEYS)})")
    regex = raw.get("regex")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise SuiteError(f"{where}: bad regex {regex!r}: {exc}") from None
    return Expect(
        any=_strings(raw.get("any"), where),
        all=_strings(raw.get("all"), where),
        none=_strings(raw.get("none"), where),
        regex=regex,
        silent=bool(raw.get("silent", False)),
    )


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a turn must be a mapping")
    if "fill" in raw:
        unknown = set(raw) - {"fill", "until", "max"}
        if unknown:
            raise SuiteError(f"{where}: unknown keys {sorted(unknown)} in a fill turn")
        table = raw["fill"]
        if not isinstance(table, dict) or not table:
            raise SuiteError(f"{where}: fill must be a non-empty mapping of marker: answer")
        bad = [k for k, v in table.items() if isinstance(v, bool) or v is None or isinstance(k, bool)]
        if bad:
            raise SuiteError(f"{where}: quote the fill answers for {bad} (YAML reads yes/no/on/off as booleans)")
        until = _strings(raw.get("until"), where)
        if not until:
            raise SuiteError(f"{where}: a fill turn needs `until`")
        return Turn(user="", fill=tuple((str(k), str(v)) for k, v in table.items()), until=until,
                    max=int(raw.get("max", 8)))
    if isinstance(raw.get("user"), bool):
        raise SuiteError(f"{where}: quote the user text (YAML reads yes/no/on/off as booleans)")
    if not isinstance(raw.get("user"), (str, int)):
        raise SuiteError(f"{where}: every turn needs `user` (or `fill`)")
    unknown = set(raw) - {"user", "expect"}
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    return Turn(user=str(raw["user"]), expect=_expect(raw.get("expect"), where))


def _final(raw: Any, where: str) -> Dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: final must be a mapping")
    unknown = set(raw) - FINAL_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown final keys {sorted(unknown)} (allowed: {sorted(FINAL_KEYS)})")
    tickets = raw.get("tickets")
    if tickets is not None and not isinstance(tickets, (int, dict)):
        raise SuiteError(f"{where}: tickets must be a number or a mapping")
    if raw.get("ticket") is not None and not isinstance(raw["ticket"], dict):
        raise SuiteError(f"{where}: ticket must be a mapping of column: value")
    handoff = raw.get("handoff", "absent")
    if handoff not in ("absent", None, True, False) and not isinstance(handoff, dict):
        raise SuiteError(f"{where}: handoff must be a mapping, true, or none")
    return dict(raw)


def load_file(path: Path) -> List[Conversation]:
    """The conversations of one category file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from None
    category = data.get("category")
    if not category:
        raise SuiteError(f"{path}: missing `category`")
    if category != path.stem:
        raise SuiteError(f"{path}: category {category!r} does not match the file name")
    out: List[Conversation] = []
    for i, raw in enumerate(data.get("conversations") or []):
        where = f"{path.name}#{raw.get('id', i)}"
        if not raw.get("id"):
            raise SuiteError(f"{where}: missing `id`")
        lang = raw.get("lang")
        if lang not in LANGS:
            raise SuiteError(f"{where}: lang must be one of {LANGS}, got {lang!r}")
        turns = []
        for j, turn in enumerate(raw.get("turns") or []):
            turns.append(_turn(turn, f"{where} turn {j + 1}"))
        if not turns:
            raise SuiteError(f"{where}: no turns")
        out.append(Conversation(
            id=str(raw["id"]), category=category, lang=lang, turns=tuple(turns),
            final=_final(raw.get("final"), where), note=str(raw.get("note") or ""), source=path.name,
        ))
    return out


def load_suite(directory: Path = SUITE_DIR, categories: Optional[Iterable[str]] = None) -> List[Conversation]:
    """Every conversation under ``directory`` (``*.yml``), file by file; ids are unique."""
    wanted = set(categories) if categories else None
    conversations: List[Conversation] = []
    seen: Dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        for conv in load_file(path):
            if conv.id in seen:
                raise SuiteError(f"duplicate conversation id {conv.id!r} in {path.name} and {seen[conv.id]}")
            seen[conv.id] = path.name
            if wanted is None or conv.category in wanted:
                conversations.append(conv)
    return conversations


# --------------------------------------------------------------------------- checks on replies


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.casefold())


def contains(text: str, needle: str) -> bool:
    """Substring match, also when whitespace differs; "smart case": a needle with a capital letter
    ("Where", "Please confirm") matches case-sensitively, an all-lowercase one ignores case."""
    if needle != needle.lower():
        return needle in text or re.sub(r"\s+", "", needle) in re.sub(r"\s+", "", text)
    return needle in text.casefold() or _squash(needle) in _squash(text)


def check_reply(reply: str, expect: Optional[Expect]) -> List[str]:
    """The failed checks of one bot reply."""
    if expect is None:
        return []
    failures = []
    if expect.silent and reply.strip():
        failures.append("expected the bot to stay silent")
    if expect.any and not any(contains(reply, s) for s in expect.any):
        failures.append(f"none of {list(expect.any)} in the reply")
    missing = [s for s in expect.all if not contains(reply, s)]
    if missing:
        failures.append(f"missing {missing}")
    present = [s for s in expect.none if contains(reply, s)]
    if present:
        failures.append(f"must not say {present}")
    if expect.regex and not re.search(expect.regex, reply, re.IGNORECASE | re.MULTILINE):
        failures.append(f"no match for /{expect.regex}/")
    if not expect.silent and (expect.any or expect.all or expect.regex) and not reply.strip():
        failures.insert(0, "the bot said nothing")
    return failures


def joined_text(messages: Optional[Sequence[Mapping[str, Any]]]) -> str:
    """The bot's messages as one text (what the resident reads)."""
    return "\n".join(str(m.get("text") or "") for m in (messages or []) if m.get("text"))


# --------------------------------------------------------------------------- database lookups


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


_MISSING = object()


def _column(row: Any, name: str, what: str) -> Any:
    value = getattr(row, name, _MISSING)
    if value is _MISSING or callable(value):
        raise LookupError(f"{what} has no column {name!r} (not in this schema yet?)")
    return value


def check_fields(row: Any, expected: Mapping[str, Any], what: str) -> List[str]:
    """Compare columns of a ticket or handoff with the expected values (see the module docs)."""
    failures = []
    for key, want in expected.items():
        name, op = key, "eq"
        for suffix in ("_contains", "_excludes", "_in", "_set"):
            if key.endswith(suffix):
                name, op = key[: -len(suffix)], suffix[1:]
                break
        try:
            actual = _column(row, name, what)
        except LookupError as exc:
            failures.append(str(exc))
            continue
        text = _text(actual)
        if op == "eq":
            if want is None:
                if text.strip():
                    failures.append(f"{what}.{name} is {text!r}, expected empty")
            elif text.strip().casefold() != str(want).strip().casefold():
                failures.append(f"{what}.{name} is {text!r}, expected {want!r}")
        elif op == "contains":
            missing = [s for s in _strings(want, key) if not contains(text, s)]
            if missing:
                failures.append(f"{what}.{name} {text!r} lacks {missing}")
        elif op == "excludes":
            present = [s for s in _strings(want, key) if contains(text, s)]
            if present:
                failures.append(f"{what}.{name} {text!r} must not contain {present}")
        elif op == "set":
            if bool(want) != bool(text.strip()):
                failures.append(f"{what}.{name} is {text!r}, expected it {'set' if want else 'empty'}")
        elif op == "in":
            options = [s.casefold() for s in _strings(want, key)]
            if text.strip().casefold() not in options:
                failures.append(f"{what}.{name} is {text!r}, expected one of {list(_strings(want, key))}")
    return failures


def _describe(ticket: Any) -> str:
    fields = ("number", "type", "category", "urgency", "unit", "location", "description")
    return ", ".join(f"{f}={getattr(ticket, f, None)!r}" for f in fields if getattr(ticket, f, None) is not None)


def check_final(stack: Any, sender: str, final: Mapping[str, Any]) -> List[str]:
    """The failed database checks after a conversation."""
    if not final:
        return []
    failures: List[str] = []
    tickets = tickets_of(stack, sender)
    listing = "; ".join(_describe(t) for t in tickets) or "none"
    want = final.get("tickets")
    if isinstance(want, int):
        if len(tickets) != want:
            failures.append(f"expected {want} ticket(s), found {len(tickets)} ({listing})")
    elif isinstance(want, dict):
        for key, count in want.items():
            if key == "min":
                ok, label = len(tickets) >= count, f"at least {count}"
                found = len(tickets)
            elif key == "max":
                ok, label = len(tickets) <= count, f"at most {count}"
                found = len(tickets)
            else:
                found = sum(1 for t in tickets if _text(getattr(t, "type", None)) == key)
                ok, label = found == count, f"{count} {key}"
            if not ok:
                failures.append(f"expected {label} ticket(s), found {found} ({listing})")
    if final.get("ticket"):
        if not tickets:
            failures.append("expected a ticket, found none")
        else:
            failures += check_fields(tickets[0], final["ticket"], f"ticket {getattr(tickets[0], 'number', '?')}")
    if final.get("descriptions_contain"):
        everything = "\n".join(_text(getattr(t, "description", "")) for t in tickets)
        missing = [s for s in _strings(final["descriptions_contain"], "descriptions_contain")
                   if not contains(everything, s)]
        if missing:
            failures.append(f"no ticket description mentions {missing} ({listing})")
    if "handoff" in final:
        expected = final["handoff"]
        handoff = handoff_of(stack, sender)
        if expected in (None, False):
            if handoff is not None:
                failures.append(f"expected no handoff, found one (reason={getattr(handoff, 'reason', None)!r})")
        elif handoff is None:
            failures.append("expected a handoff, found none")
        elif isinstance(expected, dict):
            failures += check_fields(handoff, expected, "handoff")
    return failures


# --------------------------------------------------------------------------- running


def new_sender(conv: Conversation) -> str:
    """A fresh resident identity per run, so conversations never share state."""
    return f"suite-{re.sub(r'[^A-Za-z0-9-]', '', conv.id)[:40]}-{uuid.uuid4().hex[:8]}"


def run_conversation(stack: Any, conv: Conversation, sender: Optional[str] = None) -> Result:
    """Play one conversation against a running stack (``stack.chat(sender, text)``) and check it."""
    result = Result(conversation=conv, sender=sender or new_sender(conv))
    started = time.monotonic()

    def send(text: str) -> Optional[TurnResult]:
        try:
            messages = stack.chat(result.sender, text) or []
        except Exception as exc:  # an HTTP error or a timeout: the conversation cannot go on
            result.turns.append(TurnResult(text, "", [], [f"request failed: {exc!r}"]))
            return None
        turn_result = TurnResult(text, joined_text(messages), list(messages), [])
        result.turns.append(turn_result)
        return turn_result

    for turn in conv.turns:
        if turn.fill:
            if not _fill(send, result, turn):
                break
            continue
        sent = send(turn.user)
        if sent is None:
            break
        sent.failures = check_reply(sent.reply, turn.expect)
    else:
        try:
            result.final_failures = check_final(stack, result.sender, conv.final)
        except Exception as exc:  # the database checks must never stop the suite
            result.error = f"database check failed: {exc!r}"
    result.seconds = time.monotonic() - started
    return result


def _fill(send: Any, result: Result, turn: Turn) -> bool:
    """Answer the form from ``turn.fill`` until ``turn.until``; False when the conversation broke off."""
    reply = result.turns[-1].reply if result.turns else ""
    answered: set = set()
    for _ in range(turn.max):
        if any(contains(reply, s) for s in turn.until):
            return True
        found = [(marker, a) for marker, a in turn.fill if contains(reply, marker)]
        # An acknowledgement may repeat the marker of the question just answered: prefer a new one.
        fresh = [(marker, a) for marker, a in found if marker not in answered]
        marker, answer = (fresh or found or [(None, None)])[0]
        if answer is None:
            failure = f"fill: no known question ({[m for m, _ in turn.fill]}) and none of {list(turn.until)}"
            if result.turns:
                result.turns[-1].failures.append(failure)
            else:
                result.final_failures.append(failure)
            return True
        answered.add(marker)
        sent = send(answer)
        if sent is None:
            return False
        reply = sent.reply
    if any(contains(reply, s) for s in turn.until):
        return True
    result.turns[-1].failures.append(f"fill: none of {list(turn.until)} after {turn.max} answers")
    return True


def run_suite(stack: Any, conversations: Sequence[Conversation], jobs: int = 1,
              progress: Optional[Any] = None) -> List[Result]:
    """Run many conversations (``jobs`` at a time, each with its own sender); results in suite order."""
    if jobs <= 1:
        results = []
        for conv in conversations:
            results.append(run_conversation(stack, conv))
            if progress:
                progress(results[-1])
        return results
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_conversation, stack, conv) for conv in conversations]
        results = []
        for future in futures:
            results.append(future.result())
            if progress:
                progress(results[-1])
        return results


# --------------------------------------------------------------------------- summary


def _rate(passed: int, total: int) -> Dict[str, Any]:
    return {"passed": passed, "total": total, "rate": round(passed / total, 4) if total else None}


def summarise(results: Sequence[Result]) -> Dict[str, Any]:
    """Pass rates overall, per category, per language and per category × language."""
    def tally(items: Iterable[Result]) -> Dict[str, Any]:
        items = list(items)
        return _rate(sum(r.passed for r in items), len(items))

    categories = sorted({r.conversation.category for r in results})
    langs = [lang for lang in LANGS if any(r.conversation.lang == lang for r in results)]
    return {
        "overall": tally(results),
        "by_category": {c: tally(r for r in results if r.conversation.category == c) for c in categories},
        "by_lang": {lang: tally(r for r in results if r.conversation.lang == lang) for lang in langs},
        "by_category_lang": {
            c: {lang: tally(r for r in results if r.conversation.category == c and r.conversation.lang == lang)
                for lang in langs if any(r.conversation.category == c and r.conversation.lang == lang
                                         for r in results)}
            for c in categories
        },
        "failed": [r.conversation.id for r in results if not r.passed],
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """A Markdown table: categories as rows, languages as columns, then the totals."""
    langs = list(summary["by_lang"])

    def cell(entry: Optional[Mapping[str, Any]]) -> str:
        if not entry or not entry["total"]:
            return "–"
        return f"{entry['rate']:.0%} ({entry['passed']}/{entry['total']})"

    header = ["category", *langs, "all"]
    rows = [header, ["---"] * len(header)]
    for category, entry in summary["by_category"].items():
        per_lang = summary["by_category_lang"][category]
        rows.append([category, *(cell(per_lang.get(lang)) for lang in langs), cell(entry)])
    rows.append(["**all**", *(cell(summary["by_lang"][lang]) for lang in langs), cell(summary["overall"])])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
