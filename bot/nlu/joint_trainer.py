"""Fine-tune a transformer encoder jointly for intents and BIO entities (plain PyTorch).

Rasa-independent so that benchmarks and tests can use it directly; the Rasa
component in :mod:`bot.nlu.transformer_nlu` is a thin wrapper around it.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from bot.nlu import compact_store
from bot.nlu.bio import IGNORE_INDEX, Span, spans_to_tags, tag_names
from bot.nlu.calibration import fit_temperature
from bot.nlu.encoding import encode_texts
from bot.nlu.joint_model import JointModel
from bot.nlu.joint_predictor import JointPredictor, resolve_device
from bot.nlu.threads import configure_threads
from bot.nlu.layer_cache import lower_states, pad_states, run_top_layers, supports_cache


@dataclass
class Example:
    """One training utterance."""

    text: str
    intent: str
    spans: List[Span] = field(default_factory=list)


@dataclass
class TrainConfig:
    """Hyper-parameters; the Rasa component maps its config keys onto these."""

    model_name_or_path: str = ""
    epochs: int = 6
    batch_size: int = 16
    learning_rate: float = 5e-5  # encoder
    head_learning_rate: float = 2e-3  # prototypes, scale, tagger (start from scratch / centroids)
    max_length: int = 64
    random_seed: int = 42
    device: str = "auto"
    freeze_embeddings: bool = True  # 96M of the 118M parameters; freezing saves most CPU time
    num_hidden_layers: int = 0  # >0 keeps only the first N encoder layers (faster, a bit less accurate)
    trainable_layers: int = 4  # >0 trains only the top N layers (lower ones cached once); 0 = all
    label_smoothing: float = 0.1  # keeps confidences off 1.0 so fallback thresholds mean something
    entity_loss_weight: float = 1.0
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    prototype_init: bool = True
    query_prefix: str = "query: "
    num_threads: int = 0  # 0 = auto (see bot.nlu.threads)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (Rasa adds its own)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known and v is not None})


def set_seed(seed: int) -> None:
    """Seed every RNG that training touches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_encoder(path: str, num_layers: int = 0):
    """Load (tokenizer, encoder); insists on a fast tokenizer (offsets are needed)."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{path}: a fast tokenizer (tokenizer.json) is required for entity offsets")
    encoder = AutoModel.from_pretrained(path)
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None  # mean pooling is used; the saved model then has no pooler weights
    if num_layers and hasattr(encoder, "encoder") and hasattr(encoder.encoder, "layer"):
        encoder.encoder.layer = encoder.encoder.layer[:num_layers]
        encoder.config.num_hidden_layers = num_layers
    return tokenizer, encoder


def freeze_lower_layers(encoder, trainable: int) -> None:
    """Freeze embeddings and all but the top ``trainable`` transformer layers."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError("trainable_layers needs a BERT-like encoder (encoder.layer)")
    for module in [encoder.embeddings, *layers[: max(0, len(layers) - trainable)]]:
        for param in module.parameters():
            param.requires_grad_(False)


def _batches(lengths: Sequence[int], size: int, generator: torch.Generator) -> List[List[int]]:
    """Shuffled batches of similar length: less padding, so less CPU per epoch.

    Indices are shuffled, cut into pools of 8 batches, each pool sorted by
    length and cut into batches; then the batch order is shuffled.
    """
    order = torch.randperm(len(lengths), generator=generator).tolist()
    pool = size * 8
    batches: List[List[int]] = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: lengths[j])
        batches += [chunk[k : k + size] for k in range(0, len(chunk), size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def _optimizer(model: JointModel, cfg: TrainConfig) -> torch.optim.Optimizer:
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    return torch.optim.AdamW(
        [
            {"params": encoder_params, "lr": cfg.learning_rate, "weight_decay": cfg.weight_decay},
            {"params": head_params, "lr": cfg.head_learning_rate, "weight_decay": 0.0},
        ]
    )


def _schedule(optimizer: torch.optim.Optimizer, total: int, warmup_ratio: float) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = max(1, int(total * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class _Item:
    """One pre-tokenized example (unpadded tensors) with its gold labels."""

    input_ids: torch.Tensor
    text_mask: torch.Tensor
    tags: torch.Tensor
    label: int
    lower: Optional[torch.Tensor] = None  # cached frozen-layer states [len, H]


def _prepare(
    model: JointModel, tokenizer, examples: Sequence[Example], cfg: TrainConfig, device: str,
    intent_index: Dict[str, int], tag_index: Dict[str, int], n_lower: int,
) -> List[_Item]:
    """Tokenize once; with ``n_lower`` > 0 also cache the frozen lower-layer states."""
    items: List[Optional[_Item]] = [None] * len(examples)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].text))  # little padding
    for k in range(0, len(order), 64):
        ids = order[k : k + 64]
        batch = encode_texts(tokenizer, [examples[i].text for i in ids], cfg.query_prefix, cfg.max_length)
        lower = None
        if n_lower:
            lower = lower_states(model.encoder, batch.input_ids.to(device), batch.attention_mask.to(device), n_lower).cpu()
        for row, i in enumerate(ids):
            n = int(batch.attention_mask[row].sum())
            tags = spans_to_tags(batch.offsets[row][:n], examples[i].spans, tag_index)
            items[i] = _Item(
                batch.input_ids[row, :n].clone(), batch.text_mask[row, :n].clone(), torch.tensor(tags),
                intent_index[examples[i].intent], None if lower is None else lower[row, :n].clone(),
            )
    return [item for item in items if item is not None]


def _collate(items: Sequence[_Item], pad_id: int, device: str) -> Dict[str, torch.Tensor]:
    pad = torch.nn.utils.rnn.pad_sequence
    lengths = torch.tensor([len(it.input_ids) for it in items])
    batch = {
        "input_ids": pad([it.input_ids for it in items], batch_first=True, padding_value=pad_id),
        "attention_mask": (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).long(),
        "text_mask": pad([it.text_mask for it in items], batch_first=True),
        "tags": pad([it.tags for it in items], batch_first=True, padding_value=IGNORE_INDEX),
        "labels": torch.tensor([it.label for it in items]),
    }
    if items[0].lower is not None:
        batch["lower"] = pad_states([it.lower for it in items])
    return {k: v.to(device) for k, v in batch.items()}


def _logits(model: JointModel, batch: Dict[str, torch.Tensor], n_lower: int):
    """Forward pass, starting from cached lower states when there are any."""
    if "lower" in batch:
        states = run_top_layers(model.encoder, batch["lower"], batch["attention_mask"], n_lower)
        return model.heads(states, batch["text_mask"])
    return model(batch["input_ids"], batch["attention_mask"], batch["text_mask"])


@torch.no_grad()
def _class_means(model: JointModel, items: Sequence[_Item], pad_id: int, device: str, n_lower: int) -> torch.Tensor:
    """Sum of L2-normalised mean-pooled pretrained embeddings per intent."""
    model.eval()
    sums = torch.zeros(len(model.intents), model.encoder.config.hidden_size)
    for k in range(0, len(items), 64):
        batch = _collate(items[k : k + 64], pad_id, device)
        if "lower" in batch:
            states = run_top_layers(model.encoder, batch["lower"], batch["attention_mask"], n_lower)
        else:
            states = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        weights = batch["text_mask"].unsqueeze(-1).to(states.dtype)
        mean = F.normalize(((states * weights).sum(1) / weights.sum(1).clamp(min=1.0)).float(), dim=-1).cpu()
        sums.index_add_(0, batch["labels"].cpu(), mean)
    return sums


def train(
    examples: Sequence[Example],
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
    calibration_examples: Optional[Sequence[Example]] = None,
) -> JointPredictor:
    """Fine-tune on ``examples``; optionally fit a temperature on ``calibration_examples``."""
    if not examples:
        raise ValueError("no training examples with an intent were given")
    if not cfg.model_name_or_path:
        raise ValueError("model_name_or_path is empty; run `python -m bot.provision --only e5` or set it in config.yml")
    set_seed(cfg.random_seed)
    threads = configure_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    start = time.time()
    tokenizer, encoder = load_encoder(cfg.model_name_or_path, cfg.num_hidden_layers)
    intents = sorted({e.intent for e in examples})
    tags = tag_names([s.label for e in examples for s in e.spans])
    tag_index = {t: i for i, t in enumerate(tags)}
    intent_index = {name: i for i, name in enumerate(intents)}
    model = JointModel(encoder, intents, tags, cfg.dropout).to(device)
    if cfg.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    n_lower = 0
    if cfg.trainable_layers:
        freeze_lower_layers(model.encoder, cfg.trainable_layers)
        if supports_cache(model.encoder):
            n_lower = max(0, len(model.encoder.encoder.layer) - cfg.trainable_layers)
    pad_id = tokenizer.pad_token_id or 0
    items = _prepare(model, tokenizer, examples, cfg, device, intent_index, tag_index, n_lower)
    if n_lower:
        log(f"[transformer-nlu] cached the {n_lower} frozen lower layers ({time.time() - start:.0f}s)")
    if cfg.prototype_init:
        model.init_prototypes(_class_means(model, items, pad_id, device, n_lower).to(device))

    generator = torch.Generator().manual_seed(cfg.random_seed)
    lengths = [len(it.input_ids) for it in items]
    steps_per_epoch = math.ceil(len(items) / cfg.batch_size)
    total = max(1, steps_per_epoch * cfg.epochs)
    optimizer = _optimizer(model, cfg)
    scheduler = _schedule(optimizer, total, cfg.warmup_ratio)
    use_entities = len(tags) > 1
    log(
        f"[transformer-nlu] {len(items)} examples, {len(intents)} intents, {len(tags)} tags, "
        f"{cfg.epochs} epochs x {steps_per_epoch} steps on {device} ({threads} CPU threads)"
    )
    step, train_start = 0, time.time()
    for epoch in range(cfg.epochs):
        model.train()
        epoch_loss, correct = 0.0, 0
        for ids in _batches(lengths, cfg.batch_size, generator):
            batch = _collate([items[i] for i in ids], pad_id, device)
            intent_logits, tag_logits = _logits(model, batch, n_lower)
            loss = F.cross_entropy(intent_logits, batch["labels"], label_smoothing=cfg.label_smoothing)
            if use_entities:
                loss = loss + cfg.entity_loss_weight * F.cross_entropy(
                    tag_logits.reshape(-1, len(tags)), batch["tags"].reshape(-1), ignore_index=IGNORE_INDEX
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            epoch_loss += loss.item() * len(ids)
            correct += int((intent_logits.argmax(-1) == batch["labels"]).sum())
            if step % 50 == 0:
                eta = (time.time() - train_start) / step * (total - step)
                log(f"[transformer-nlu]   step {step}/{total} loss {loss.item():.4f} eta {eta:.0f}s")
        log(
            f"[transformer-nlu] epoch {epoch + 1}/{cfg.epochs} loss {epoch_loss / len(items):.4f} "
            f"train-acc {correct / len(items):.3f} ({time.time() - start:.0f}s)"
        )
    model.eval()
    compact_store.round_trip(model.encoder)  # in-memory weights == what the archive will hold
    predictor = JointPredictor(model, tokenizer, cfg.query_prefix, cfg.max_length, device)
    if calibration_examples:
        calibrate(predictor, calibration_examples, log)
    return predictor


def calibrate(predictor: JointPredictor, examples: Sequence[Example], log: Callable[[str], None] = print) -> float:
    """Fit the predictor's temperature on held-out examples with known intents."""
    index = {name: i for i, name in enumerate(predictor.model.intents)}
    usable = [e for e in examples if e.intent in index]
    if not usable:
        return float(predictor.model.temperature)
    logits, _, _ = predictor.logits([e.text for e in usable])
    temperature = fit_temperature(logits, torch.tensor([index[e.intent] for e in usable]))
    predictor.model.temperature.fill_(temperature)
    log(f"[transformer-nlu] temperature {temperature:.3f} fitted on {len(usable)} held-out examples")
    return temperature


def config_dict(cfg: TrainConfig) -> Dict[str, Any]:
    """Plain-dict view of a config (for logs and result files)."""
    return asdict(cfg)
