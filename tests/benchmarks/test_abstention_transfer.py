"""The abstention-transfer benchmark (benchmarks/abstention_transfer.py) on a small DSTC-shaped data set."""
from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from typing import List

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import abstention_transfer  # noqa: E402

FAQS = {"0": ("Is there parking?", "Yes, free parking behind the hotel."),
        "1": ("Do they allow pets?", "No pets are allowed."),
        "2": ("Is breakfast included?", "Breakfast is included in every room rate."),
        "3": ("Is there free wifi?", "Free wifi in every room.")}


def bag_of_words(texts: List[str]) -> np.ndarray:
    """A deterministic stand-in for e5: hashed word counts, L2-normalised (prefixes dropped)."""
    out = np.zeros((len(texts), 64), dtype="float32")
    for i, text in enumerate(texts):
        for word in text.split(":", 1)[-1].lower().replace("?", " ").replace(".", " ").replace(",", " ").split():
            out[i, zlib.crc32(word.encode()) % 64] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def dialogue(*user_turns: str) -> List[dict]:
    return [{"speaker": "U", "text": t} for t in user_turns]


@pytest.fixture()
def dstc11_like(tmp_path: Path) -> Path:
    knowledge = {"hotel": {"7": {"name": "Acorn Guest House", "reviews": {},
                                 "faqs": {k: {"question": q, "answer": a} for k, (q, a) in FAQS.items()}}}}
    logs = [dialogue("I need a room at the Acorn Guest House.", "is there parking there?"),
            dialogue("Acorn Guest House please.", "can I bring my pets?"),
            dialogue("Acorn Guest House, tonight.", "book it for two people"),
            dialogue("Somewhere cheap in the north.", "is there parking?"),  # no entity named
            dialogue("Acorn Guest House.", "are the reviews good?")]
    faq = lambda doc: {"target": True, "knowledge": [{"domain": "hotel", "entity_id": 7, "doc_type": "faq", "doc_id": doc}]}  # noqa: E731
    labels = [faq(0), faq(1), {"target": False}, faq(0),
              {"target": True, "knowledge": [{"domain": "hotel", "entity_id": 7, "doc_type": "review", "doc_id": 0}]}]
    (tmp_path / "val").mkdir()
    (tmp_path / "knowledge.json").write_text(json.dumps(knowledge))
    (tmp_path / "val" / "logs.json").write_text(json.dumps(logs))
    (tmp_path / "val" / "labels.json").write_text(json.dumps(labels))
    return tmp_path


def test_turns_are_sorted_into_answerable_and_no_knowledge_and_review_turns_left_out(dstc11_like: Path) -> None:
    knowledge, logs, labels = abstention_transfer.load(dstc11_like)
    assert knowledge["hotel"]["7"]["docs"]["1"]["title"] == "Do they allow pets?"  # DSTC11 layout converted
    items = abstention_transfer.turns(knowledge, logs, labels)
    assert [(x["kind"], x["gold"]) for x in items] == [("faq", "0"), ("faq", "1"), ("faq", "0"), ("none", None)]
    assert items[2]["entity"] is None and items[0]["entity"] == ("hotel", "7")


def test_the_base_threshold_is_the_percentile_of_held_out_faq_scores_and_rates_follow_it(dstc11_like: Path) -> None:
    result = abstention_transfer.evaluate(dstc11_like, bag_of_words, quantile=50, fixed=0.99)
    assert (result["answerable"], result["no_knowledge"], result["entry_missing"]) == (3, 1, 2)
    passages = bag_of_words([f"passage: {q}\n{a}" for q, a in FAQS.values()])
    titles = bag_of_words([f"query: {q}" for q, _ in FAQS.values()])
    sims = titles @ passages.T
    np.fill_diagonal(sims, -1.0)
    assert result["base"]["threshold"] == pytest.approx(float(np.percentile(sims.max(1), 50)), abs=1e-4)
    # A fixed threshold above every cosine abstains on everything.
    assert result["fixed"] == {"threshold": 0.99, "answered": 0.0, "abstained_no_knowledge": 1.0,
                               "abstained_entry_missing": 1.0}
    # The turn without an entity can never be answered, whatever the threshold.
    assert result["base"]["answered"] <= 2 / 3
    assert "| dstc |" in abstention_transfer.table({"quantile": 50, "bases": {"dstc": result}})
