"""Compact, self-contained storage of a fine-tuned encoder inside the Rasa archive.

Rasa gzips the model archive at level 9, which took minutes for the 471 MB
fp32 encoder on the 2-core machine.  Stored here instead: the 96M-parameter
word-embedding matrix as int8 with one fp32 scale per row (absmax), all
other weights as fp16 - about 140 MB.  :func:`round_trip` applies the same
rounding to the in-memory model right after training, so predictions before
saving and after loading are identical.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import torch

WEIGHTS_FILE = "encoder.safetensors"
_Q = ".__int8"
_S = ".__scale"


def _embedding_key(encoder) -> str:
    weight = encoder.get_input_embeddings().weight
    return next(k for k, v in encoder.state_dict().items() if v.data_ptr() == weight.data_ptr())


def _quantize_rows(weight: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    return torch.round(weight / scale).to(torch.int8), scale.float()


def _pack(encoder) -> Dict[str, torch.Tensor]:
    key = _embedding_key(encoder)
    packed: Dict[str, torch.Tensor] = {}
    for name, value in encoder.state_dict().items():
        if name == key:
            q, scale = _quantize_rows(value.float())
            packed[name + _Q], packed[name + _S] = q, scale
        elif value.is_floating_point():
            packed[name] = value.to(torch.float16)
        else:
            packed[name] = value
    return {k: v.contiguous().cpu() for k, v in packed.items()}


def _unpack(packed: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    state: Dict[str, torch.Tensor] = {}
    for name, value in packed.items():
        if name.endswith(_S):
            continue
        if name.endswith(_Q):
            base = name[: -len(_Q)]
            state[base] = value.float() * packed[base + _S]
        else:
            state[name] = value.float() if value.is_floating_point() else value
    return state


@torch.no_grad()
def round_trip(encoder) -> None:
    """Give the in-memory encoder exactly the weights that :func:`save` stores."""
    state = _unpack(_pack(encoder))
    own = encoder.state_dict()
    for name, value in state.items():
        own[name].copy_(value.to(own[name].dtype))


def save(encoder, folder: Path) -> None:
    """Write ``config.json`` and the compact weights into ``folder``."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    encoder.config.save_pretrained(folder)
    save_file(_pack(encoder), str(folder / WEIGHTS_FILE), metadata={"format": "linli-compact-v1"})


def load(folder: Path):
    """Rebuild the encoder saved by :func:`save` (no pooler: mean pooling is used)."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(folder)
    try:
        encoder = AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:  # architectures without that option
        encoder = AutoModel.from_config(config)
    state = _unpack(load_file(str(folder / WEIGHTS_FILE)))
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("pooler.") and "position_ids" not in k]
    if missing or unexpected:
        raise ValueError(f"{folder}: stored weights do not match the architecture (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return encoder.eval()
