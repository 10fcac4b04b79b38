"""Single source of truth for where provisioned pretrained models live.

Every module that needs a pretrained model imports its path from here.  The
root folder comes from the environment variable ``LINLI_MODELS_DIR`` (default
``<repo>/models/pretrained``, declared in :class:`bot.settings.Paths`) so deployments
can keep weights elsewhere.
"""
from __future__ import annotations

from pathlib import Path

from bot.settings import Paths

REPO_ROOT: Path = Path(__file__).resolve().parents[2]
MODELS_DIR_ENV: str = Paths.variables()["models_dir"].name  # LINLI_MODELS_DIR


def models_dir() -> Path:
    """Return the folder holding all provisioned pretrained models.

    A relative ``LINLI_MODELS_DIR`` is taken relative to the repository root,
    so the path does not depend on the current working directory.
    """
    return (REPO_ROOT / Paths.read("models_dir")).resolve()


# Folder and file names inside the models dir (stable: other code relies on them).
E5_NAME = "multilingual-e5-small"
GEMMA_NAME = "gemma-3-270m"
GEMMA_GGUF_FILE = "gemma-3-270m-q4_k_m.gguf"
SMOLLM_NAME = "smollm2-135m-instruct"
SMOLLM_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STAMP_FILE = "provision-stamp.json"
LLM_INFO_FILE = "model-info.json"

MODELS_DIR: Path = models_dir()
# Transformers + sentence-transformers folder of multilingual-e5-small (fp32).
E5_DIR: Path = MODELS_DIR / E5_NAME
GEMMA_DIR: Path = MODELS_DIR / GEMMA_NAME
GEMMA_GGUF: Path = GEMMA_DIR / GEMMA_GGUF_FILE
SMOLLM_DIR: Path = MODELS_DIR / SMOLLM_NAME
SMOLLM_GGUF: Path = SMOLLM_DIR / SMOLLM_GGUF_FILE
