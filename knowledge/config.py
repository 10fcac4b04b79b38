"""Load knowledge-base settings from ``knowledge/config.yml`` and ``KNOWLEDGE_*`` env vars.

The variables (``KNOWLEDGE_CONFIG`` and ``KNOWLEDGE_<KEY>`` for every key) are declared and
parsed by :class:`bot.settings.Knowledge`; the defaults are the ones in ``config.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Optional

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_CONFIG_FILE = PACKAGE_DIR / "config.yml"


@dataclass(frozen=True)
class KnowledgeConfig:
    """All tunable settings of the knowledge base (see config.yml for meanings)."""

    index: str = "var/knowledge_index"
    embed_model: str = "multilingual-e5-small"
    generator: str = "auto"
    gen_model_zh: str = "gemma-3-270m"
    gen_model_en: str = "smollm2-135m-instruct"
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key_env: str = "KNOWLEDGE_LLM_API_KEY"
    llm_timeout_s: float = 20.0
    llm_connect_timeout_s: float = 3.0
    llm_cooldown_s: float = 30.0
    max_new_tokens: int = 80
    n_threads: int = 1
    embed_threads: int = 1
    top_k: int = 5
    context_passages: int = 2
    retrieval: str = "vector"
    rerank_en: str = "minilm"
    rerank_weight: float = 0.2
    rerank_depth: int = 10
    region: str = ""
    abstain_below_zh: float = 0.892
    abstain_below_en: float = 0.841
    abstention: str = "base"
    abstain_quantile: float = 23.0
    calibration_min_questions: int = 8
    extractive_faq_above_zh: float = 0.90
    extractive_faq_above_en: float = 0.85
    min_support: float = 0.8
    answer_style: str = "concise"
    concise_max_chars: int = 180
    unanswered_log: str = "var/knowledge/unanswered.jsonl"
    version_cache: str = "var/knowledge_versions"
    hf_cache: str = "var/knowledge/hf_cache"

    def path(self, value: str) -> Path:
        """Resolve a configured path relative to the repository root."""
        p = Path(value)
        return p if p.is_absolute() else REPO_ROOT / p

    def abstain_below(self, language: str) -> float:
        """Fixed cosine under which the best hit is too weak to answer from.

        The answerer uses the base's measured threshold instead when ``abstention`` is
        ``base`` (:meth:`knowledge.answer.Answerer.abstain_below`); this is its fallback.
        """
        return self.abstain_below_en if language == "en" else self.abstain_below_zh

    def extractive_faq_above(self, language: str) -> float:
        """Cosine from which a curated FAQ answer is returned verbatim."""
        return self.extractive_faq_above_en if language == "en" else self.extractive_faq_above_zh

    def with_overrides(self, **kwargs: Any) -> "KnowledgeConfig":
        """Return a copy with the non-None keyword arguments applied."""
        return replace(self, **{k: v for k, v in kwargs.items() if v is not None})


def _coerce(value: str, template: Any) -> Any:
    if isinstance(template, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(template, int):
        return int(value)
    if isinstance(template, float):
        return float(value)
    return value


def load_config(path: Optional[Path] = None) -> KnowledgeConfig:
    """Read the YAML file (``KNOWLEDGE_CONFIG``, else ``path``, else the packaged one), then env overrides."""
    from bot.settings import Knowledge  # bot.settings reads this module's fields: import it late

    env = Knowledge.from_env()
    path = Path(env.config_file or path or DEFAULT_CONFIG_FILE)
    data: dict = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    base = KnowledgeConfig()
    known = {f.name for f in fields(KnowledgeConfig)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; valid keys: {sorted(known)}")
    values = {k: _coerce(str(v), getattr(base, k)) if v is not None else getattr(base, k) for k, v in data.items()}
    values.update(env.config_overrides)  # KNOWLEDGE_<KEY>, already typed
    return replace(base, **values)


def models_dir() -> Path:
    """Folder of provisioned pretrained models (``LINLI_MODELS_DIR``, :mod:`bot.provision.paths`)."""
    from bot.provision.paths import models_dir as provisioned_dir  # the canonical location

    return provisioned_dir()


def resolve_model(name: str) -> Path:
    """Path of a model given as an absolute path or a folder name under :func:`models_dir`."""
    p = Path(name)
    if p.is_absolute() or p.exists():
        return p
    candidate = models_dir() / name
    if not candidate.exists():
        raise FileNotFoundError(
            f"model '{name}' not found at {candidate}; run `python -m bot.provision` "
            f"or set LINLI_MODELS_DIR / KNOWLEDGE_EMBED_MODEL to a folder that holds it"
        )
    return candidate
