"""Stamp files that make provisioning idempotent.

A stamp records the versions of the source packages, the SHA-256 of the
source artefact, the builder version and the size of every output file.  A
build is skipped when a fresh stamp equals the stored one and all outputs
still exist with the recorded sizes.
"""
from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from bot.provision.paths import STAMP_FILE


class MissingPackageError(RuntimeError):
    """A package that ships the pretrained weights is not installed."""


def package_version(dist_name: str, pip_hint: str) -> str:
    """Return the installed version of ``dist_name`` or explain how to install it."""
    try:
        return metadata.version(dist_name)
    except metadata.PackageNotFoundError as exc:
        raise MissingPackageError(
            f"Package '{dist_name}' is not installed. Run: .venv/bin/pip install {pip_hint}"
        ) from exc


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def output_sizes(folder: Path, files: Iterable[str]) -> Dict[str, int]:
    """Map each output file (relative to ``folder``) to its size in bytes."""
    return {name: (folder / name).stat().st_size for name in files}


def read_stamp(folder: Path) -> Optional[Dict[str, Any]]:
    """Return the stored stamp of ``folder`` or ``None`` when absent/corrupt."""
    try:
        return json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(folder: Path, source: Dict[str, Any]) -> bool:
    """True when ``folder`` was built from ``source`` and its outputs are intact."""
    stamp = read_stamp(folder)
    if not stamp or stamp.get("source") != source:
        return False
    for name, size in stamp.get("outputs", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def write_stamp(folder: Path, source: Dict[str, Any], outputs: Iterable[str]) -> None:
    """Record ``source`` and the sizes of ``outputs`` as the stamp of ``folder``."""
    stamp = {"source": source, "outputs": output_sizes(folder, outputs)}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
