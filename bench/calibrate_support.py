"""Calibrate `[llm] min_support`, the similarity a cited passage's best sentence needs to support a claim.

Data: CLAP NQ dev (Apache-2.0; see docs/evals.md for where it comes from). Its answers are written by
people from a gold passage, sentence by sentence: each answer sentence with its own passage is a claim
the passage supports; the same sentence with the most similar *other* passage (an on-topic passage of
another question) is a claim that passage does not support. The verifier's two checks run on both:
the best-sentence cosine, and the facts check (names, numbers, dates present in the passage).

    python bench/calibrate_support.py PATH/TO/clapnq-dev --out bench/results/support_calibration.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.answerers.llm.claims import read_claims  # noqa: E402
from assistant.answerers.llm.verify import missing_facts  # noqa: E402
from assistant.text.sentences import sentence_spans  # noqa: E402
from vectorstore.embedder import Embedder  # noqa: E402


def load(directory: Path) -> list[dict]:
    rows = []
    for name in ("clapnq_dev_answerable.jsonl", "clapnq_dev_unanswerable.jsonl"):
        with (directory / name).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clapnq", type=Path, help="the clapnq-dev directory")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args()
    rows = load(args.clapnq)
    passages = [" ".join(r["passages"][0]["text"].split()) for r in rows]
    embedder = Embedder()
    passage_vectors = embedder.embed(passages)
    sentences = [[passage[a:b] for a, b, _ in sentence_spans(passage)] for passage in passages]
    sentence_vectors = [embedder.embed(s) for s in sentences]

    positive, negative, facts_pos, facts_neg = [], [], [], []
    for i, row in enumerate(rows):
        answer = (row.get("output") or [{}])[0].get("answer")
        if not answer:
            continue
        claims = [c.text for c in read_claims(" ".join(answer.split()))]
        if not claims:
            continue
        claim_vectors = embedder.embed(claims)
        # The hardest wrong passage: the one closest to this question's own passage.
        closeness = passage_vectors @ passage_vectors[i]
        closeness[[j for j, p in enumerate(passages) if p == passages[i]]] = -1
        other = int(np.argmax(closeness))
        for claim, vector in zip(claims, claim_vectors):
            positive.append(float(np.max(sentence_vectors[i] @ vector)))
            negative.append(float(np.max(sentence_vectors[other] @ vector)))
            facts_pos.append(not missing_facts(claim, passages[i] + " " + row["input"]))
            facts_neg.append(not missing_facts(claim, passages[other] + " " + row["input"]))

    pos, neg = np.array(positive), np.array(negative)
    fp, fn = np.array(facts_pos), np.array(facts_neg)
    table = []
    for t in np.arange(0.30, 0.81, 0.05):
        table.append({"min_support": round(float(t), 2),
                      "supported_kept": round(float(np.mean(pos >= t)), 3),
                      "unsupported_accepted": round(float(np.mean(neg >= t)), 3),
                      "supported_kept_with_facts": round(float(np.mean((pos >= t) & fp)), 3),
                      "unsupported_accepted_with_facts": round(float(np.mean((neg >= t) & fn)), 3)})
    result = {"claims": len(positive), "facts_check_passes_supported": round(float(fp.mean()), 3),
              "facts_check_passes_unsupported": round(float(fn.mean()), 3),
              "median_similarity_supported": round(float(np.median(pos)), 3),
              "median_similarity_unsupported": round(float(np.median(neg)), 3), "thresholds": table}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
