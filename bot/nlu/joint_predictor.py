"""Inference for :class:`bot.nlu.joint_model.JointModel`: intent ranking + entity spans."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from bot.nlu.bio import OUTSIDE, Span, tags_to_spans
from bot.nlu.encoding import encode_texts
from bot.nlu.joint_model import JointModel


@dataclass
class Prediction:
    """Intents sorted by confidence, and entity spans in the text."""

    intent_ranking: List[Tuple[str, float]]
    spans: List[Span] = field(default_factory=list)

    @property
    def intent(self) -> Tuple[str, float]:
        """The top intent and its confidence."""
        return self.intent_ranking[0]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else unchanged."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class JointPredictor:
    """Wraps a trained model and its tokenizer for batched prediction."""

    def __init__(self, model: JointModel, tokenizer, prefix: str, max_length: int, device: str = "cpu") -> None:
        self.model, self.tokenizer = model.eval(), tokenizer
        self.prefix, self.max_length, self.device = prefix, max_length, device
        self.has_entities = any(t != OUTSIDE for t in model.tags)

    @property
    def meta(self) -> Dict[str, Any]:
        """Settings needed to rebuild this predictor."""
        return {"prefix": self.prefix, "max_length": self.max_length}

    def save(self, folder: Path) -> None:
        """Persist everything needed for :meth:`load` into ``folder``."""
        self.model.save(folder, self.tokenizer, self.meta)

    @classmethod
    def load(cls, folder: Path, device: str = "auto") -> "JointPredictor":
        """Load a predictor saved with :meth:`save`."""
        device = resolve_device(device)
        model, tokenizer, meta = JointModel.load(Path(folder), device)
        return cls(model, tokenizer, meta.get("prefix", "query: "), int(meta.get("max_length", 64)), device)

    @torch.inference_mode()
    def logits(self, texts: Sequence[str], batch_size: int = 64) -> Tuple[torch.Tensor, List[torch.Tensor], List[list]]:
        """Temperature-free intent logits [N, I], per-text tag logits, per-text offsets."""
        intent_out, tag_out, offsets = [], [], []
        for i in range(0, len(texts), batch_size):
            batch = encode_texts(self.tokenizer, texts[i : i + batch_size], self.prefix, self.max_length)
            intent_logits, tag_logits = self.model(
                batch.input_ids.to(self.device), batch.attention_mask.to(self.device), batch.text_mask.to(self.device)
            )
            intent_out.append(intent_logits.float().cpu())
            tag_out.extend(tag_logits.float().cpu())
            offsets.extend(batch.offsets)
        if not intent_out:
            return torch.zeros(0, len(self.model.intents)), [], []
        return torch.cat(intent_out), tag_out, offsets

    @torch.inference_mode()
    def sentence_vectors(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """L2-normalised pooled sentence vectors [N, H] (for distance-based out-of-scope scores)."""
        out = []
        for i in range(0, len(texts), batch_size):
            batch = encode_texts(self.tokenizer, texts[i : i + batch_size], self.prefix, self.max_length)
            states = self.model.encoder(input_ids=batch.input_ids.to(self.device),
                                        attention_mask=batch.attention_mask.to(self.device)).last_hidden_state
            out.append(torch.nn.functional.normalize(self.model.pool(states, batch.text_mask.to(self.device)), dim=-1)
                       .float().cpu())
        return torch.cat(out) if out else torch.zeros(0, self.model.prototypes.shape[1])

    def predict(self, texts: Sequence[str], batch_size: int = 64, top_k: Optional[int] = None) -> List[Prediction]:
        """Calibrated intent ranking and entity spans for each text."""
        intent_logits, tag_logits, offsets = self.logits(texts, batch_size)
        probs = torch.softmax(intent_logits / self.model.temperature.cpu(), dim=-1)
        results: List[Prediction] = []
        for row, text in enumerate(texts):
            order = torch.argsort(probs[row], descending=True)[: top_k or len(self.model.intents)]
            ranking = [(self.model.intents[j], float(probs[row, j])) for j in order.tolist()]
            spans: List[Span] = []
            if self.has_entities:
                tag_probs = torch.softmax(tag_logits[row], dim=-1)
                conf, ids = tag_probs.max(dim=-1)
                tags = [self.model.tags[j] for j in ids.tolist()]
                spans = tags_to_spans(text, offsets[row], tags, conf.tolist())
            results.append(Prediction(ranking, spans))
        return results
