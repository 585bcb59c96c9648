"""SciFact (BEIR) retrieval: hybrid vs dense-only vs BM25-only nDCG@10 in one run, next to published anchors.

    python bench/scifact_retrieval.py SCIFACT_DIR --out evals/results/scifact
    python bench/scifact_retrieval.py SCIFACT_DIR --variant 'rrf20={"retrieval": {"rrf_k": 20}}'

Runs through the same adapter, cached store and runner as `assistant eval`, so the numbers are what
the assistant does. The store is built once (ingest of 5,183 abstracts) and reused on later runs.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# Published nDCG@10 on the SciFact test split (MTEB results; see evals/DATASETS.md).
ANCHORS = {"MiniLM-L6 (published)": 0.6451, "BM25 (published)": 0.6874, "bge-large (published)": 0.7464}
TOP_PASSAGE = {"answer": {"kind": "top-passage"}}  # retrieval only: nothing to answer


def specs(variants: list[str]):
    from evals.systems import Spec, merge

    out = [Spec("hybrid", TOP_PASSAGE),
           Spec("dense-only", merge(TOP_PASSAGE, {"retrieval": {"bm25_weight": 0.0}}), "plain baseline"),
           Spec("bm25-only", merge(TOP_PASSAGE, {"retrieval": {"dense_weight": 0.0}}))]
    for variant in variants:
        name, _, overrides = variant.partition("=")
        out.append(Spec(name, merge(TOP_PASSAGE, json.loads(overrides))))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scifact", type=Path, help="BEIR SciFact directory (corpus.jsonl, queries.jsonl, qrels/)")
    parser.add_argument("--out", type=Path, help="write results.json, summary.md and charts here")
    parser.add_argument("--variant", action="append", default=[],
                        help='extra system NAME=JSON setting overrides, e.g. rrf20=\'{"retrieval": {"rrf_k": 20}}\'')
    parser.add_argument("--top-k", type=int, default=None, help="passages ranked per query (default 40)")
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N queries")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from evals.command import evaluate, write_all

    err = Console(stderr=True)
    results = evaluate(args.scifact, specs=specs(args.variant), top_k=args.top_k, limit=args.limit, seed=args.seed,
                       console=err)
    results["command"] = "python " + shlex.join(["bench/scifact_retrieval.py", *sys.argv[1:]])
    results["anchors"] = ANCHORS
    table = Table(title=f"SciFact test: {results['completed']} queries, nDCG@10 at document level")
    for column in ("system", "nDCG@10", "MRR@10", "recall@10", "hit@1", "- MiniLM", "- BM25"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, system in results["systems"].items():
        m = system["metrics"]
        table.add_row(name, f"{m['ndcg@10']:.4f}", f"{m['mrr@10']:.4f}", f"{m['recall@10']:.4f}", f"{m['hit@1']:.4f}",
                      f"{m['ndcg@10'] - 0.6451:+.4f}", f"{m['ndcg@10'] - 0.6874:+.4f}")
    for name, value in ANCHORS.items():
        table.add_row(f"[dim]{name}[/]", f"[dim]{value:.4f}[/]", "", "", "", "", "")
    Console().print(table)
    if args.out:
        written = write_all(results, args.out)
        err.print(f"Wrote {', '.join(Path(w).name for w in written)} to {args.out}")
    return 130 if results["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
