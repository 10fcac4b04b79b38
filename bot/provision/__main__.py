"""CLI: ``python -m bot.provision [--models-dir DIR] [--only e5|llm] [--force]``.

Builds the pretrained models idempotently; each target is skipped when its
stamp says it is up to date.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from bot.provision import paths
from bot.provision.stamp import MissingPackageError


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.provision", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=paths.models_dir(),
                        help=f"target folder (default: ${paths.MODELS_DIR_ENV} or models/pretrained)")
    parser.add_argument("--only", choices=["e5", "llm"], help="build only this group")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the requested builds; return a process exit code."""
    args = _parse(argv)
    root: Path = args.models_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    start = time.time()

    def log(msg: str) -> None:
        print(msg, flush=True)

    try:
        if args.only in (None, "e5"):
            from bot.provision.e5 import build_e5

            build_e5(root / paths.E5_NAME, force=args.force, log=log)
        if args.only in (None, "llm"):
            from bot.provision.llm import build_gemma, build_smollm

            build_gemma(root / paths.GEMMA_NAME, force=args.force, log=log)
            build_smollm(root / paths.SMOLLM_NAME, force=args.force, log=log)
    except MissingPackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log(f"[provision] finished in {time.time() - start:.1f}s -> {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
