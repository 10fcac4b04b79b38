"""TransformerNLU: train on a tiny data set, persist, load, predict (real encoder)."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from bot.nlu.bio import Span, spans_to_tags, tag_names, tags_to_spans
from bot.provision.paths import E5_DIR

needs_encoder = pytest.mark.skipif(
    not (E5_DIR / "model.safetensors").is_file(),
    reason=f"pretrained encoder missing at {E5_DIR}; run `.venv/bin/python -m bot.provision --only e5`",
)

REPAIR = "3栋2单元502卫生间漏水，电话13812345678"


# ----------------------------------------------------------------- pure BIO logic
def test_bio_round_trip_keeps_exact_chinese_offsets() -> None:
    # Offsets as the XLM-R tokenizer gives them for REPAIR (checked in test_provision).
    offsets = [None, (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 7), (7, 8), (8, 10), (10, 11),
               (11, 12), (12, 13), (13, 14), (14, 16), (16, 19), (19, 21), (21, 24), (24, 27), None]
    gold = [Span(0, 8, "unit"), Span(16, 27, "phone")]
    names = tag_names(["unit", "phone"])
    ids = spans_to_tags(offsets, gold, {t: i for i, t in enumerate(names)})
    tags = [names[i] if i >= 0 else "O" for i in ids]
    assert tags[1] == "B-unit" and tags[7] == "I-unit" and tags[8] == "O"
    assert tags[14] == "B-phone" and tags[17] == "I-phone"
    spans = tags_to_spans(REPAIR, offsets, tags, [1.0] * len(tags))
    assert [(s.label, REPAIR[s.start:s.end]) for s in spans] == [("unit", "3栋2单元502"), ("phone", "13812345678")]


def test_decoding_widens_subwords_to_whole_ascii_words_and_trims_spaces() -> None:
    text = "call me at Bldg12 now"
    offsets = [(10, 13), (13, 15), (15, 17)]  # " Bl", "dg", "12"
    spans = tags_to_spans(text, offsets, ["O", "B-unit", "I-unit"], [0.9, 0.9, 0.9])
    assert [(text[s.start:s.end]) for s in spans] == ["Bldg12"]


# ----------------------------------------------------------------- Rasa component
def _training_data():
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(Path(__file__).parent / "data" / "tiny_nlu.yml"))


def _component(tmp_path: Path, **overrides):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.transformer_nlu import TransformerNLU

    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("transformer_nlu")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**TransformerNLU.get_default_config(), "epochs": 30, "batch_size": 8, "max_length": 40,
              "learning_rate": 1e-4, "head_learning_rate": 3e-3, **overrides}
    return TransformerNLU, config, storage, resource, context


def _parse(component, texts: List[str]):
    from rasa.shared.nlu.training_data.message import Message

    messages = [Message(data={"text": t}) for t in texts]
    component.process(messages)
    return messages


@needs_encoder
def test_train_persist_load_predict_with_exact_entity_offsets(tmp_path: Path) -> None:
    cls, config, storage, resource, context = _component(tmp_path)
    trained = cls.create(config, storage, resource, context)
    trained.train(_training_data())
    loaded = cls.load(config, storage, resource, context)

    texts = ["8栋1单元601卫生间漏水，电话13912345678", "hello there", "工单BX-20261124-0042处理得怎么样了"]
    before = _parse(trained, texts)
    after = _parse(loaded, texts)
    assert [m.get("intent")["name"] for m in after] == ["report_repair", "greet", "check_ticket"]
    for b, a in zip(before, after):  # the archive holds everything: same predictions after load
        assert a.get("intent")["confidence"] == pytest.approx(b.get("intent")["confidence"], abs=1e-4)
        ranking = a.get("intent_ranking")
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-3)
        assert 0.0 < ranking[0]["confidence"] < 1.0  # label smoothing keeps it off 1.0

    found = {(e["entity"], e["start"], e["end"], e["value"]) for e in after[0].get("entities")}
    assert ("unit", 0, 8, "8栋1单元601") in found
    assert ("phone", 16, 27, "13912345678") in found
    assert all(e["extractor"] == "TransformerNLU" for e in after[0].get("entities"))
    ticket = [e for e in after[2].get("entities") if e["entity"] == "ticket_id"]
    assert [(e["start"], e["end"]) for e in ticket] == [(2, 18)]


@needs_encoder
def test_learned_entities_do_not_duplicate_existing_ones(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.message import Message

    cls, config, storage, resource, context = _component(tmp_path, epochs=30)
    component = cls.create(config, storage, resource, context)
    component.train(_training_data())
    text = "5栋2单元1203厨房水管爆了，电话13700001111"
    pattern_phone = {"entity": "phone", "start": 19, "end": 30, "value": "13700001111", "extractor": "Pattern"}
    message = Message(data={"text": text, "entities": [pattern_phone]})
    component.process([message])
    phones = [e for e in message.get("entities") if e["entity"] == "phone"]
    assert phones == [pattern_phone]


@needs_encoder
def test_training_is_deterministic_with_a_fixed_seed(tmp_path: Path) -> None:
    confidences = []
    for run in range(2):
        cls, config, storage, resource, context = _component(tmp_path / str(run), epochs=2)
        component = cls.create(config, storage, resource, context)
        component.train(_training_data())
        confidences.append(_parse(component, ["我家厨房漏水了"])[0].get("intent")["confidence"])
    assert confidences[0] == pytest.approx(confidences[1], abs=1e-6)
