"""Command line: ``python -m knowledge ingest|search|ask|unanswered``."""

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
    """Embed sources into an index folder."""
    from .ingest import ingest
    from .sources import SourceError

    cfg = load_config()
    index_dir = Path(args.index or cfg.path(cfg.index))
    try:
        stats = ingest(args.sources, index_dir, resolve_model(args.embed_model or cfg.embed_model),
                       index_type=args.index_type, progress=not args.quiet, force=args.force)
    except (SourceError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"index": str(index_dir), **stats}, ensure_ascii=False))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Print the top-k passages for each question."""
    from . import store
    from .embedding import get_embedder
    from .retrieval import Retriever

    cfg = load_config()
    try:
        stored = store.read(Path(args.index or cfg.path(cfg.index)))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    retriever = Retriever(stored, get_embedder(resolve_model(cfg.embed_model)), args.mode or cfg.retrieval)
    questions = _questions(args)
    for q in questions:
        t0 = time.perf_counter()
        hits = retriever.search(q, k=args.k, language=args.language)
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
        answerer = Answerer(cfg.with_overrides(**overrides), Path(args.index) if args.index else None, args.generator)
    except FileNotFoundError as exc:
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
    """List questions the knowledge base could not answer."""
    from .unanswered import read

    cfg = load_config()
    for row in read(cfg.path(cfg.unanswered_log), args.limit):
        print(json.dumps(row, ensure_ascii=False))
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
    ing.set_defaults(func=cmd_ingest)

    for name, func, helptext in (("search", cmd_search, "retrieve passages"), ("ask", cmd_ask, "answer with citations")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("question", nargs="*", help="the question (or use --queries)")
        s.add_argument("--index", help="index folder (default: KNOWLEDGE_INDEX or var/knowledge_index)")
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
    un.set_defaults(func=cmd_unanswered)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)
