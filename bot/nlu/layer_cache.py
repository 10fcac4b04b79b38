"""Cache the outputs of frozen lower encoder layers (BERT-like encoders).

With ``trainable_layers = k`` only the top k layers change during training, so
the states entering them are computed once per example instead of once per
epoch.  Each epoch then costs k layers of forward + backward instead of all
of them - on a CPU this is the difference between minutes and an hour.
"""
from __future__ import annotations

from typing import List

import torch


def supports_cache(encoder) -> bool:
    """True for encoders with ``embeddings`` and ``encoder.layer`` (BERT, XLM-R, E5)."""
    return hasattr(encoder, "embeddings") and hasattr(getattr(encoder, "encoder", None), "layer")


@torch.no_grad()
def lower_states(encoder, input_ids: torch.Tensor, attention_mask: torch.Tensor, n_lower: int) -> torch.Tensor:
    """Hidden states after the first ``n_lower`` layers (eval mode, no dropout)."""
    layers = encoder.encoder.layer
    was_training = encoder.training
    encoder.eval()
    try:
        encoder.encoder.layer = layers[:n_lower]
        return encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    finally:
        encoder.encoder.layer = layers
        encoder.train(was_training)


def run_top_layers(encoder, hidden: torch.Tensor, attention_mask: torch.Tensor, start: int) -> torch.Tensor:
    """Apply encoder layers ``start..`` to cached states, as ``BertModel.forward`` would."""
    from transformers.masking_utils import create_bidirectional_mask

    mask = create_bidirectional_mask(config=encoder.config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in encoder.encoder.layer[start:]:
        out = layer(hidden, mask)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def pad_states(states: List[torch.Tensor]) -> torch.Tensor:
    """Stack per-example [len, H] tensors into [B, max_len, H] with zero padding."""
    return torch.nn.utils.rnn.pad_sequence(states, batch_first=True)
