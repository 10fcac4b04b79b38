"""The Rasa project itself: data, domain and config are consistent."""

import subprocess
import sys

import yaml

from tests.servers import ROOT


def test_rasa_data_validate_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain.yml",
         "--config", "config.yml", "--data", "data/nlu.yml", "data/rules.yml", "data/stories.yml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _responses() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def test_every_response_exists_in_chinese_and_english() -> None:
    for name, variations in _responses().items():
        default = [v for v in variations if not v.get("condition")]
        english = [v for v in variations if v.get("condition") == [{"type": "slot", "name": "language", "value": "en"}]]
        assert default and english, f"{name} needs a Chinese default and an English variation"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in default[0]["text"]), f"{name}: default is not Chinese"


def _examples(path: str) -> set:
    texts = set()
    for block in yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))["nlu"]:
        for line in block.get("examples", "").splitlines():
            texts.add(line.strip().lstrip("- ").strip())
    return texts - {""}


def test_held_out_examples_are_never_trained_on() -> None:
    overlap = _examples("data/nlu.yml") & _examples("data/test/nlu_test.yml")
    assert not overlap, f"held-out examples also in training data: {sorted(overlap)[:10]}"


def test_transactional_intents_have_25_examples_per_language() -> None:
    data = yaml.safe_load((ROOT / "data/nlu.yml").read_text(encoding="utf-8"))["nlu"]
    for block in data:
        if block["intent"] not in {"report_repair", "check_ticket", "complaint", "request_human", "ask_question", "inform"}:
            continue
        lines = [l.strip()[2:] for l in block["examples"].splitlines() if l.strip()]
        zh = [l for l in lines if any("\u4e00" <= ch <= "\u9fff" for ch in l)]
        en = [l for l in lines if l not in zh]
        assert len(zh) >= 25 and len(en) >= 25, f"{block['intent']}: {len(zh)} zh / {len(en)} en"
