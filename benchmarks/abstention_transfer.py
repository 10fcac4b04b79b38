"""Abstention on knowledge bases it was not tuned on (issue 15): DSTC10 and DSTC11 FAQs.

The product's threshold is a percentile of the base's own held-out FAQ scores
(``knowledge/calibration.py``), the percentile chosen on the demo base's dev questions.
Here the same rule is applied, unchanged, to two other FAQ bases, and compared with the
fixed English threshold tuned on the demo base:

- **Bases.** DSTC10 track 2 (val, spoken dialogues, hotels/restaurants/attractions) and
  DSTC11 track 5 (val, written dialogues). As in ``bench_rag --parts dstc10``, the entity
  the dialogue is about is found by name (``dstc10_entities.EntityTracker``) and its FAQs
  are the candidates; the held-out scores are the same per entity: each FAQ question
  against the entity's other FAQs.
- **Questions.** Answerable: last user turns whose gold is an FAQ. Unanswerable: turns
  that need no knowledge (``target: false``; DSTC11 capped at 1,000, evenly sampled),
  and every answerable turn again with its gold FAQ removed from the base (an in-domain
  question the base cannot answer: the case of a company's FAQ that lacks an entry).
  DSTC11 turns answered by reviews only are left out (neither answerable from FAQs
  nor clearly out of scope). A turn whose entity is not found abstains.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

Entity = Tuple[str, str]
NONE_CAP = 1000


def load(base: Path) -> Tuple[Dict, List, List]:
    """Knowledge (DSTC10's ``docs`` layout), dialogues and labels of one data set's val split."""
    knowledge = json.loads((base / "knowledge.json").read_text())
    if any("faqs" in e for ents in knowledge.values() for e in ents.values()):  # DSTC11 layout
        knowledge = {d: {eid: {"name": e.get("name"), "docs": {fid: {"title": f["question"], "body": f["answer"]}
                                                               for fid, f in (e.get("faqs") or {}).items()}}
                         for eid, e in ents.items()} for d, ents in knowledge.items()}
    logs = json.loads((base / "val" / "logs.json").read_text())
    labels = json.loads((base / "val" / "labels.json").read_text())
    return knowledge, logs, labels


def turns(knowledge: Dict, logs: List, labels: List) -> List[Dict]:
    """Last user turns with their entity (or None), kind (faq | none) and gold FAQ id."""
    from dstc10_entities import EntityTracker

    tracker = EntityTracker(knowledge)
    items, none = [], []
    for dialogue, label in zip(logs, labels):
        gold = [g for g in label.get("knowledge", []) if g.get("doc_type", "faq") == "faq"] if label["target"] else []
        if label["target"] and not gold:
            continue  # answered by reviews only
        item = {"q": dialogue[-1]["text"], "entity": tracker.entity_of([t["text"] for t in dialogue]),
                "kind": "faq" if gold else "none", "gold": str(gold[0]["doc_id"]) if gold else None,
                "gold_entity": (gold[0]["domain"], str(gold[0]["entity_id"])) if gold else None}
        (items if gold else none).append(item)
    if len(none) > NONE_CAP:
        none = [none[int(i)] for i in np.linspace(0, len(none) - 1, NONE_CAP)]
    return items + none


def entity_faqs(knowledge: Dict, entities: List[Entity], encode: Callable[[List[str]], np.ndarray]
                ) -> Tuple[Dict[Entity, List], np.ndarray, np.ndarray, Dict[Entity, int]]:
    """The entities' FAQs in id order, their passage and question-as-query vectors, and each
    entity's first row in those matrices (the product's FAQ form: ``passage: question\nanswer``)."""
    docs = {e: sorted(knowledge[e[0]][e[1]]["docs"].items(), key=lambda kv: int(kv[0])) for e in entities}
    passages = encode([f"passage: {d['title']}\n{d['body']}" for e in entities for _, d in docs[e]])
    titles = encode([f"query: {d['title']}" for e in entities for _, d in docs[e]])
    offset, row = {}, 0
    for e in entities:
        offset[e] = row
        row += len(docs[e])
    return docs, passages, titles, offset


def evaluate(base: Path, encode: Callable[[List[str]], np.ndarray], quantile: float, fixed: float) -> Dict:
    """Answered / abstained rates of the fixed and the base-derived threshold on one data set."""
    knowledge, logs, labels = load(base)
    items = turns(knowledge, logs, labels)
    entities = sorted({x["entity"] for x in items if x["entity"] and knowledge[x["entity"][0]][x["entity"][1]]["docs"]})
    docs, passages, titles, offset = entity_faqs(knowledge, entities, encode)
    queries = encode([f"query: {x['q']}" for x in items])
    held_out: List[float] = []
    for e in entities:
        n = len(docs[e])
        if n >= 2:
            sims = titles[offset[e]:offset[e] + n] @ passages[offset[e]:offset[e] + n].T
            np.fill_diagonal(sims, -1.0)
            held_out.extend(sims.max(1).tolist())
    base_threshold = float(np.percentile(held_out, quantile))
    answerable, missing, none = [], [], []  # best-hit cosines (0.0 = no entity: abstains)
    for x, qv in zip(items, queries):
        e: Optional[Entity] = x["entity"] if x["entity"] in offset else None
        ids = [did for did, _ in docs[e]] if e else []
        sims = passages[offset[e]:offset[e] + len(ids)] @ qv if e else np.zeros(0)
        best = float(sims.max()) if len(ids) else 0.0
        if x["kind"] == "none":
            none.append(best)
            continue
        right = e == x["gold_entity"] and x["gold"] in ids
        answerable.append(best if right else 0.0)  # the wrong entity's FAQs cannot answer it
        if right:
            others = [s for did, s in zip(ids, sims) if did != x["gold"]]
            missing.append(float(max(others)) if others else 0.0)

    def rates(t: float) -> Dict:
        a, m, u = (np.asarray(v) for v in (answerable, missing, none))
        return {"threshold": round(t, 4), "answered": round(float((a >= t).mean()), 4),
                "abstained_no_knowledge": round(float((u < t).mean()), 4),
                "abstained_entry_missing": round(float((m < t).mean()), 4)}

    return {"answerable": len(answerable), "no_knowledge": len(none), "entry_missing": len(missing),
            "entities": len(entities), "faqs": len(passages), "held_out_questions": len(held_out),
            "held_out_percentiles": {str(p): round(float(np.percentile(held_out, p)), 4) for p in (10, 23, 50, 90)},
            "fixed": rates(fixed), "base": rates(base_threshold)}


def table(result: Dict) -> str:
    """Markdown rows for docs/benchmarks.md."""
    lines = ["| knowledge base | threshold | value | answered | abstained: no knowledge needed | abstained: entry removed |",
             "|---|---|---|---|---|---|"]
    for name, r in result["bases"].items():
        for kind in ("fixed", "base"):
            x = r[kind]
            label = "fixed (demo base, en)" if kind == "fixed" else f"measured on the base (p{result['quantile']:g})"
            lines.append(f"| {name} | {label} | {x['threshold']} | {x['answered']:.3f} | "
                         f"{x['abstained_no_knowledge']:.3f} | {x['abstained_entry_missing']:.3f} |")
    return "\n".join(lines)
