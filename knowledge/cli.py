"""Command line: ``python -m knowledge ingest|search|ask|unanswered|versions|activate|import|reindex|setup``.

``ingest`` builds the index folder and, when it is the service's folder
(``KNOWLEDGE_INDEX``; ``--publish`` for any other), stores it in the database as a
new version and activates it (``--no-activate`` keeps the current one): every
running replica answers from it within ``LINLI_KB_RELOAD_SECONDS``. A build of a
scratch folder (benchmarks, tests) stays a plain folder. ``versions`` lists the
stored versions, ``activate ID`` serves another (the restore), ``unanswered``
lists the database's unanswered questions.

Once the desk manages the knowledge base (the database's content store was seeded,
:mod:`knowledge.content`), ``ingest`` of the service's folder imports and builds nothing,
so ``make index`` never overwrites staff edits: ``import FILES...`` adds files to the
content store, ``reindex`` builds from it, ``setup`` is the first-run setup.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import List, Optional

from .config import load_config, resolve_model


def _questions(args: argparse.Namespace) -> List[str]:
    if args.queries:
        path = Path(args.queries)
        if not path.exists():
            sys.exit(f"error: --queries file {path} not found")
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not args.question:
        sys.exit("error: give a QUESTION or --queries FILE (one question per line)")
    return [" ".join(args.question)]


def cmd_ingest(args: argparse.Namespace) -> int:
    """Embed sources into an index folder; store the service's folder as a database version."""
    from sqlalchemy.exc import SQLAlchemyError

    from .build import build_version
    from .ingest import ingest
    from .sources import SourceError

    cfg = load_config()
    service_dir = cfg.path(cfg.index)
    index_dir = Path(args.index or service_dir)
    publish = args.publish if args.publish is not None else _same_path(index_dir, service_dir)
    if publish and _managed_in_desk(cfg):
        print("the knowledge base is managed in the desk (/console, Knowledge base): nothing imported or built; "
              "add files with `python -m knowledge import FILES...`, rebuild with `python -m knowledge reindex` / "
              "知识库已由工作台管理，未导入任何内容")
        return 0
    try:
        if publish:
            out = build_version(args.sources, cfg=cfg, index_dir=index_dir, activate=not args.no_activate,
                                note=args.note or "", index_type=args.index_type, embed_model=args.embed_model,
                                force=args.force, progress=not args.quiet)
        else:
            out = {"index": str(index_dir), **ingest(
                args.sources, index_dir, resolve_model(args.embed_model or cfg.embed_model),
                index_type=args.index_type, progress=not args.quiet, force=args.force)}
    except (SourceError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"error: the index in {index_dir} could not be stored in the database (DATABASE_URL): {exc}; "
              f"fix the database and run the same command again (unchanged files are not re-embedded)",
              file=sys.stderr)
        return 3
    version = out.get("version")
    if version and not version["created"] and not version["active"]:
        print(f"same content as version {version['id']}, which is not active: "
              f"`python -m knowledge activate {version['id']}` serves it", file=sys.stderr)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _same_path(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _managed_in_desk(cfg) -> bool:  # type: ignore[no-untyped-def]
    """Has the database's content store been seeded? Then staff edits are the truth, not the files."""
    from .content import ContentStore

    return ContentStore(cfg=cfg).is_seeded()


def _print_job(job) -> None:  # type: ignore[no-untyped-def]
    """One progress line of a re-index job (stderr)."""
    line = f"[{job.progress * 100:5.1f}%] {job.status} {job.stage}"
    print(f"{line} {job.message}" if job.message else line, file=sys.stderr, flush=True)


def _reindex(content, note: str) -> int:  # type: ignore[no-untyped-def]
    """Build and activate a version from the content store in this process; exit status."""
    from .jobs import JobRunning, Reindexer

    try:
        job = Reindexer(content).run("cli", note, on_update=_print_job)
    except JobRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    print(json.dumps(job.to_dict(), ensure_ascii=False))
    return 0 if job.status == "done" else 5


def cmd_reindex(args: argparse.Namespace) -> int:
    """Build an index version from the content store (what the desk's Re-index button does)."""
    from .content import ContentStore

    return _reindex(ContentStore(), args.note or "re-index from the command line")


def cmd_import(args: argparse.Namespace) -> int:
    """Add FAQ files and documents to the content store (the desk manages them afterwards)."""
    from .content import ContentError, ContentStore
    from .content_import import import_paths

    content = ContentStore()
    try:
        report = import_paths(content, args.files, mode="replace" if args.replace_faq else "merge", user="cli")
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for row, message in getattr(exc, "errors", [])[:50]:
            print(f"  row {row}: {message}" if row else f"  {message}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False))
    if args.no_reindex:
        print("not re-indexed: `python -m knowledge reindex` (or Re-index in the desk) serves the changes",
              file=sys.stderr)
        return 0
    return _reindex(content, "import " + " ".join(Path(f).name for f in args.files)[:400])


def cmd_setup(args: argparse.Namespace) -> int:
    """First-run setup: replace the demo community's facts everywhere, or start empty; then re-index."""
    from .content import ContentError, ContentStore
    from .setup import customise, demo_facts, make_empty, view

    facts = demo_facts()
    if args.show:
        print(json.dumps(view(ContentStore()), ensure_ascii=False, indent=1))
        return 0
    content = ContentStore()
    try:
        if args.empty:
            if not args.yes:
                print("error: --empty deletes every FAQ entry and document; add --yes to confirm", file=sys.stderr)
                return 2
            result = make_empty(content, "cli")
        else:
            phones = {}
            for item in args.phone or []:
                demo, sep, new = item.partition("=")
                if not sep:
                    print(f"error: --phone takes DEMO=YOURS, e.g. --phone '{facts['phones'][0]['number']}=010-1234 5678'",
                          file=sys.stderr)
                    return 2
                phones[demo.strip()] = new.strip()
            result = customise(content, {
                "community_name_zh": args.community_zh, "community_name_en": args.community_en,
                "office_hours_zh": args.hours_zh, "office_hours_en": args.hours_en, "phones": phones,
                "email": args.email}, "cli", facts)
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("the demo facts: " + json.dumps(facts, ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    print("the emergency duty phone is LINLI_DUTY_PHONE (bot/emergency/playbook.yml), not the FAQ: set it too",
          file=sys.stderr)
    return _reindex(content, "first-run setup: " + ("empty" if args.empty else "customise"))


def _index_arg(args: argparse.Namespace) -> Optional[Path]:
    """The folder of ``--index``, or of ``--version`` (fetched from the database), or None (the default)."""
    if getattr(args, "version", None):
        from .versions import VersionError, VersionStore

        cfg = load_config()
        versions = VersionStore()
        version_id = versions.active_id() if args.version == "active" else int(args.version)
        if version_id is None:
            raise VersionError("no active knowledge-base version; run `python -m knowledge ingest` first")
        return versions.materialise(version_id, cfg.path(cfg.version_cache))
    return Path(args.index) if args.index else None


def cmd_search(args: argparse.Namespace) -> int:
    """Print the top-k passages for each question."""
    from . import store
    from .embedding import get_embedder
    from .lang import detect_language
    from .rerank import get_reranker
    from .retrieval import Retriever

    cfg = load_config()
    try:
        stored = store.read(_index_arg(args) or cfg.path(cfg.index))
    except (FileNotFoundError, LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    retriever = Retriever(stored, get_embedder(resolve_model(cfg.embed_model)), args.mode or cfg.retrieval,
                          region=cfg.region, reranker=get_reranker(cfg.rerank_en, cfg.rerank_weight, cfg.rerank_depth))
    questions = _questions(args)
    for q in questions:
        t0 = time.perf_counter()
        # The answer's language, as the assistant detects it: same-language passages first,
        # and an English question re-ordered by the English reranker.
        hits = retriever.search(q, k=args.k, language=args.language or detect_language(q))
        ms = round((time.perf_counter() - t0) * 1000, 1)
        if args.json:
            print(json.dumps({"question": q, "search_ms": ms, "hits": [h.to_dict(args.language) for h in hits]},
                             ensure_ascii=False), flush=True)
        else:
            print(f"# {q}  ({ms} ms)")
            for i, h in enumerate(hits, 1):
                d = h.to_dict(args.language)
                print(f"{i}. [{d['score']:.4f} cos {d['dense']:.3f}] {d['citation']}  {d['text'][:80]}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer each question with citations (or abstain)."""
    from .answer import Answerer

    cfg = load_config()
    overrides = {"retrieval": args.mode}
    try:
        answerer = Answerer(cfg.with_overrides(**overrides), _index_arg(args), args.generator)
    except (FileNotFoundError, LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for q in _questions(args):
        result = answerer.ask(q, args.language, log_unanswered=not args.no_log)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(f"# {q}\n{result.reply_text()}\n({result.mode}, {result.timings.get('total_ms')} ms)\n")
    return 0


def cmd_unanswered(args: argparse.Namespace) -> int:
    """List questions the knowledge base could not answer (from the database), newest first."""
    from .unanswered import UnansweredStore

    cfg = load_config()
    unanswered = UnansweredStore()
    if cfg.unanswered_log:
        unanswered.import_jsonl(cfg.path(cfg.unanswered_log))  # a local JSONL log joins the shared list
    try:
        rows = unanswered.latest(args.limit, args.status)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    """List the index versions stored in the database, newest first."""
    from .versions import VersionStore

    versions = VersionStore().list()
    if args.json:
        for v in versions:
            print(json.dumps(v.to_dict(), ensure_ascii=False))
        return 0
    if not versions:
        print("no knowledge-base versions in the database; `python -m knowledge ingest knowledge/sources` makes one")
        return 0
    for v in versions:
        d = v.to_dict()
        print(f"{'*' if v.active else ' '} {v.id:>4}  {d['created_at']}  {v.n_chunks:>6} chunks  "
              f"{v.archive_bytes / 1e6:6.1f} MB  {v.checksum[:12]}  {len(v.sources)} files  {v.note}")
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    """Serve another stored version (every replica switches within its reload interval)."""
    from .live import reload_seconds
    from .versions import VersionError, VersionStore

    try:
        version = VersionStore().activate(args.id)
    except VersionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"active": version.id, "n_chunks": version.n_chunks,
                      "replicas_switch_within_s": reload_seconds()}, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the ``knowledge`` command."""
    p = argparse.ArgumentParser(prog="python -m knowledge", description="Linli knowledge base (RAG) tools")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="embed FAQ files and documents into an index folder")
    ing.add_argument("sources", nargs="+", help="files or folders (csv/yaml/json FAQ, md, txt, pdf, docx)")
    ing.add_argument("--index", help="index folder (default: KNOWLEDGE_INDEX or var/knowledge_index)")
    ing.add_argument("--index-type", default="auto", choices=["auto", "flat", "hnsw", "ivf"])
    ing.add_argument("--embed-model", help="sentence-transformers folder (default: provisioned e5-small)")
    ing.add_argument("--force", action="store_true", help="re-embed every file")
    ing.add_argument("--quiet", action="store_true", help="no progress bars")
    ing.add_argument("--publish", dest="publish", action="store_true", default=None,
                     help="store the result in the database as a new version (default: only for KNOWLEDGE_INDEX)")
    ing.add_argument("--no-publish", dest="publish", action="store_false", help="only build the folder")
    ing.add_argument("--no-activate", action="store_true",
                     help="store the new version without serving it (a first version is served anyway)")
    ing.add_argument("--note", help="what changed (shown by `versions`)")
    ing.set_defaults(func=cmd_ingest)

    for name, func, helptext in (("search", cmd_search, "retrieve passages"), ("ask", cmd_ask, "answer with citations")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("question", nargs="*", help="the question (or use --queries)")
        s.add_argument("--index", help="index folder (default: KNOWLEDGE_INDEX or var/knowledge_index)")
        s.add_argument("--version", help="a database version instead: its id, or 'active'")
        s.add_argument("--queries", help="file with one question per line; JSON lines out with --json")
        s.add_argument("--json", action="store_true", help="one JSON object per question")
        s.add_argument("--mode", choices=["vector", "bm25", "hybrid"], help="retrieval mode (default: config)")
        s.add_argument("--language", choices=["zh", "en"], help="answer language (default: detected)")
        s.set_defaults(func=func)
        if name == "search":
            s.add_argument("-k", type=int, default=5, help="number of hits")
        else:
            s.add_argument("--generator", choices=["auto", "llamacpp", "transformers", "openai", "extractive"])
            s.add_argument("--no-log", action="store_true", help="do not record unanswered questions")

    un = sub.add_parser("unanswered", help="list questions the knowledge base could not answer")
    un.add_argument("--limit", type=int, default=50)
    un.add_argument("--status", help="only new, ignored or answered ones")
    un.set_defaults(func=cmd_unanswered)

    ver = sub.add_parser("versions", help="list the index versions stored in the database (* = active)")
    ver.add_argument("--json", action="store_true", help="one JSON object per version")
    ver.set_defaults(func=cmd_versions)

    act = sub.add_parser("activate", help="serve a stored version (restore an earlier one)")
    act.add_argument("id", type=int, help="version id (see `versions`)")
    act.set_defaults(func=cmd_activate)

    imp = sub.add_parser("import", help="add FAQ tables/files and documents to the desk's content store, re-index")
    imp.add_argument("files", nargs="+", help="FAQ csv/xlsx/yaml/json; documents md/txt/pdf/docx/xlsx; or folders")
    imp.add_argument("--replace-faq", action="store_true", help="the FAQ files replace every FAQ entry")
    imp.add_argument("--no-reindex", action="store_true", help="only store them (re-index later)")
    imp.set_defaults(func=cmd_import)

    rei = sub.add_parser("reindex", help="build and activate a version from the desk's content store")
    rei.add_argument("--note", help="what changed (shown by `versions`)")
    rei.set_defaults(func=cmd_reindex)

    st = sub.add_parser("setup", help="first-run setup: replace the demo community's facts, or start empty")
    st.add_argument("--show", action="store_true", help="print the demo facts and the last setup, change nothing")
    st.add_argument("--empty", action="store_true", help="delete every FAQ entry and document (needs --yes)")
    st.add_argument("--yes", action="store_true", help="confirm --empty")
    st.add_argument("--community-zh", help="community name in Chinese (replaces 阳光花园)")
    st.add_argument("--community-en", help="community name in English (replaces Sunshine Garden)")
    st.add_argument("--hours-zh", help="office hours as the Chinese FAQ should say them")
    st.add_argument("--hours-en", help="office hours as the English FAQ should say them")
    st.add_argument("--phone", action="append", metavar="DEMO=YOURS",
                    help="replace a demo phone number; once per demo number (see --show)")
    st.add_argument("--email", help="replaces the demo e-mail address")
    st.set_defaults(func=cmd_setup)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)
