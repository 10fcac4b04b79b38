"""Tokenize texts for the joint model and map token offsets back to the raw text.

E5 was trained with a ``query: `` prompt; keeping it helps fine-tuning start
from the pretrained geometry.  Offsets are shifted so they index the text
without the prompt; prompt and special tokens get ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import torch

from bot.nlu.bio import Offset


@dataclass
class EncodedBatch:
    """Model inputs plus, per text, token offsets into that text."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    text_mask: torch.Tensor  # 1 for tokens that carry text (used for mean pooling)
    offsets: List[List[Offset]]


def encode_texts(tokenizer, texts: Sequence[str], prefix: str, max_length: int) -> EncodedBatch:
    """Tokenize ``prefix + text`` with dynamic padding; ``tokenizer`` must be a fast tokenizer."""
    enc = tokenizer(
        [prefix + t for t in texts],
        padding=True,
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    shift = len(prefix)
    all_offsets: List[List[Offset]] = []
    text_mask = torch.zeros_like(enc["attention_mask"])
    for row, (pairs, special) in enumerate(zip(enc["offset_mapping"].tolist(), enc["special_tokens_mask"].tolist())):
        offsets: List[Offset] = []
        for col, ((start, end), is_special) in enumerate(zip(pairs, special)):
            if is_special or end <= shift:
                offsets.append(None)
                continue
            offsets.append((max(start, shift) - shift, end - shift))
            text_mask[row, col] = 1
        all_offsets.append(offsets)
    # Texts that are empty after truncation still need one pooled token.
    empty = text_mask.sum(dim=1) == 0
    text_mask[empty] = enc["attention_mask"][empty]
    return EncodedBatch(enc["input_ids"], enc["attention_mask"], text_mask, all_offsets)
