"""Loaders for the NLU benchmark data sets, as lists of labelled utterances.

- ``own``: the project's ``data/nlu.yml`` (train) and ``data/test/nlu_test.yml`` (held out).
- ``banking77``: ``train.csv`` / ``test.csv`` (columns ``text,category``).
- ``clinc150``: ``data_full.json``; train = train + oos_train, test = test + oos_test,
  val = val + oos_val (the only data used for tuning).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
OOS = {"own": "out_of_scope", "clinc150": "oos"}


@dataclass
class Utterance:
    """Text, gold intent and gold entities (``entity``, ``start``, ``end``)."""

    text: str
    intent: str
    entities: List[Dict] = field(default_factory=list)


@dataclass
class Dataset:
    """Train/test (and optional validation) split of one benchmark."""

    name: str
    train: List[Utterance]
    test: List[Utterance]
    val: List[Utterance] = field(default_factory=list)
    oos_intent: Optional[str] = None
    has_entities: bool = False


def _from_rasa(path: Path) -> List[Utterance]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        Utterance(m.get("text"), m.get("intent"),
                  [{"entity": e["entity"], "start": e["start"], "end": e["end"]} for e in m.get("entities") or []])
        for m in data.intent_examples
    ]


def _from_csv(path: Path) -> List[Utterance]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [Utterance(row["text"], row["category"]) for row in csv.DictReader(handle)]


def load_dataset(name: str, data_root: Path) -> Dataset:
    """Load benchmark ``name``; raises FileNotFoundError telling what is missing."""
    if name == "own":
        return Dataset(
            "own",
            _from_rasa(REPO_ROOT / "data" / "nlu.yml"),
            _from_rasa(REPO_ROOT / "data" / "test" / "nlu_test.yml"),
            oos_intent=OOS["own"],
            has_entities=True,
        )
    if name == "banking77":
        folder = data_root / "banking77"
        return Dataset("banking77", _from_csv(folder / "train.csv"), _from_csv(folder / "test.csv"))
    if name == "clinc150":
        raw = json.loads((data_root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))

        def rows(*keys: str) -> List[Utterance]:
            return [Utterance(t, i) for k in keys for t, i in raw[k]]

        return Dataset(
            "clinc150",
            rows("train", "oos_train"),
            rows("test", "oos_test"),
            val=rows("val", "oos_val"),
            oos_intent=OOS["clinc150"],
        )
    raise ValueError(f"unknown dataset {name!r}; use own, banking77 or clinc150")
