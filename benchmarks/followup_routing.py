"""Follow-ups end to end: does a follow-up message reach the knowledge base at all?

``benchmarks/followup_eval.py`` measures the resolver given that a message reaches
``action_answer_question``. In the running bot the intent classifier decides first, one
message at a time: "周末呢？" alone reads as a greeting. This script starts the real servers
(the trained model in models/rasa/current.tar.gz), parses every follow-up and control message
of knowledge/eval/followup_questions.yaml and every other-intent message of
data/test/nlu_test.yml, and counts what goes to the knowledge base:

- ``rules``: the intents the rules send there (ask_question, nlu_fallback, out_of_scope);
- ``with policy``: those, plus what ``bot.followup.policy.follows_up`` takes right after a
  knowledge-base answer (the policy's own test on the message and its intent).

The nlu_test messages of other intents measure what the policy would wrongly take (each as
if it came right after an answer). Run: ``python benchmarks/followup_routing.py``; writes
benchmarks/results/dialogue_followup_routing.json.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.followup.policy import ROUTED, follows_up  # noqa: E402
from knowledge.lang import language_or  # noqa: E402
from rasa.shared.core.events import UserUttered  # noqa: E402
from tests.servers import load_default_settings, post_json, start_stack  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "dialogue_followup_routing.json"


def messages() -> Dict[str, List[str]]:
    """Follow-ups, controls (follow-up set) and other-intent messages (nlu_test.yml)."""
    import yaml

    out: Dict[str, List[str]] = {"followup": [], "control": [], "other_intents": []}
    for t in yaml.safe_load((ROOT / "knowledge" / "eval" / "followup_questions.yaml").read_text(encoding="utf-8")):
        out[t["kind"]] += t["then"] if isinstance(t["then"], list) else [t["then"]]
    for item in yaml.safe_load((ROOT / "data" / "test" / "nlu_test.yml").read_text(encoding="utf-8"))["nlu"]:
        if "intent" in item and item["intent"] not in ROUTED:
            out["other_intents"] += [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
    return out


def main() -> int:
    load_default_settings()
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), ROOT / "models" / "rasa" / "current.tar.gz")
        try:
            def parse(text: str) -> Dict[str, Any]:
                return post_json(f"{stack.rasa_url}/model/parse?token={stack.api_token}", {"text": text}, 60)["intent"]

            result: Dict[str, Any] = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                      "machine": platform.processor() or platform.machine(), "sets": {}}
            for name, texts in messages().items():
                rows = []
                for text in texts:
                    intent = parse(text)
                    taken = follows_up(UserUttered(text, intent), language_or(text))
                    rows.append({"text": text, "intent": intent["name"], "confidence": round(intent["confidence"], 3),
                                 "rules": intent["name"] in ROUTED, "policy": taken})
                result["sets"][name] = {
                    "n": len(rows), "rules": sum(r["rules"] for r in rows),
                    "with_policy": sum(r["rules"] or r["policy"] for r in rows),
                    "not_reached": [r for r in rows if not (r["rules"] or r["policy"])] if name != "other_intents" else [],
                    "taken_by_policy": [r for r in rows if r["policy"]] if name == "other_intents" else []}
        finally:
            stack.stop()
    print("| messages | n | reach the knowledge base: rules | with FollowupPolicy |\n|---|---|---|---|")
    for name, r in result["sets"].items():
        print(f"| {name} | {r['n']} | {r['rules']} | {r['with_policy']} |")
    for r in result["sets"]["followup"]["not_reached"]:
        print(f"  not reached: {r['text']} ({r['intent']} {r['confidence']})")
    for r in result["sets"]["other_intents"]["taken_by_policy"]:
        print(f"  taken although not a follow-up: {r['text']} ({r['intent']} {r['confidence']})")
    RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"-> {RESULT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
