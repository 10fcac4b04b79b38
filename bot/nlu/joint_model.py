"""Joint intent + BIO entity model on top of a transformer encoder.

Intent: mean-pooled token states -> cosine classifier (a learnable scale times
cosine similarity to one prototype per intent).  Prototypes can be initialised
from class means of the pretrained embeddings, so fine-tuning starts from a
nearest-centroid classifier instead of a random head.
Entities: a linear layer over each token state.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from bot.nlu import compact_store

HEADS_FILE = "heads.pt"
LABELS_FILE = "labels.json"
ENCODER_DIR = "encoder"


class JointModel(nn.Module):
    """Encoder + intent head + entity tag head."""

    def __init__(self, encoder: nn.Module, intents: List[str], tags: List[str], dropout: float = 0.1) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.intents, self.tags = list(intents), list(tags)
        self.dropout = nn.Dropout(dropout)
        self.prototypes = nn.Parameter(torch.randn(len(intents), hidden) * 0.02)
        self.log_scale = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(20.0)))))
        self.tagger = nn.Linear(hidden, len(tags))
        # Temperature for calibrated confidences; fitted after training, 1.0 = none.
        self.register_buffer("temperature", torch.tensor(1.0))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, text_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return (intent logits [B, I] before temperature, tag logits [B, T, K])."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads(states, text_mask)

    @staticmethod
    def pool(states: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the text tokens' final states: the sentence vector the intent head compares."""
        weights = text_mask.unsqueeze(-1).to(states.dtype)
        return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def heads(self, states: torch.Tensor, text_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Intent and tag logits from final token states."""
        mean = self.pool(states, text_mask)
        sims = F.normalize(self.dropout(mean), dim=-1) @ F.normalize(self.prototypes, dim=-1).T
        return sims * self.log_scale.exp(), self.tagger(self.dropout(states))

    @torch.no_grad()
    def init_prototypes(self, class_means: torch.Tensor) -> None:
        """Start the intent head at the nearest-centroid classifier."""
        self.prototypes.copy_(F.normalize(class_means, dim=-1))

    def save(self, folder: Path, tokenizer, meta: Optional[Dict[str, Any]] = None) -> None:
        """Write encoder (compact safetensors), tokenizer, heads and label names to ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        compact_store.save(self.encoder, folder / ENCODER_DIR)
        tokenizer.save_pretrained(folder / ENCODER_DIR)
        heads = {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}
        torch.save(heads, folder / HEADS_FILE)
        labels = {"intents": self.intents, "tags": self.tags, "meta": meta or {}}
        (folder / LABELS_FILE).write_text(json.dumps(labels, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> Tuple["JointModel", Any, Dict[str, Any]]:
        """Load what :meth:`save` wrote; returns (model, tokenizer, meta)."""
        from transformers import AutoTokenizer

        labels = json.loads((folder / LABELS_FILE).read_text(encoding="utf-8"))
        encoder = compact_store.load(folder / ENCODER_DIR)
        tokenizer = AutoTokenizer.from_pretrained(folder / ENCODER_DIR)
        model = cls(encoder, labels["intents"], labels["tags"])
        model.load_state_dict(torch.load(folder / HEADS_FILE, map_location="cpu"), strict=False)
        return model.to(device).eval(), tokenizer, labels.get("meta", {})
