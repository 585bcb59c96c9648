"""ONNX fp32 vs sentence-transformers on SciFact: cosine per text and whether dense rankings change.

    python bench/onnx_agreement.py SCIFACT_DIR [--every 25] [--queries 100]

Chunks every N-th abstract of SCIFACT_DIR/corpus.jsonl as ingest does, embeds the chunks and the
first queries of SCIFACT_DIR/queries.jsonl with both backends, and prints the lowest cosine and how
many queries rank their top-10 chunks in the same order. A quick stand-in for a full SciFact eval
when deciding whether a change of backend can move nDCG. Downloads nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scifact", type=Path, help="BEIR SciFact directory (corpus.jsonl, queries.jsonl)")
    parser.add_argument("--every", type=int, default=25, help="take every N-th abstract")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()

    from ingest.chunking import Chunker
    from ingest.loading import document_from_text
    from vectorstore.embedder import Embedder

    onnx = Embedder(backend="onnx")
    chunker = Chunker(200, 40, onnx.count_tokens)
    with (args.scifact / "corpus.jsonl").open() as fh:
        rows = [json.loads(line) for line in fh if line.strip()][::args.every]
    texts = [c.text for r in rows for c in chunker.chunk(document_from_text(r["_id"], f"{r['title']} {r['text']}"))]
    with (args.scifact / "queries.jsonl").open() as fh:
        queries = [json.loads(line)["text"] for line, _ in zip(fh, range(args.queries))]
    a = onnx.embed(texts + queries)
    b = Embedder(backend="torch").embed(texts + queries)
    cos = (a * b).sum(axis=1)
    n = len(texts)
    top_a = np.argsort(-(a[n:] @ a[:n].T), axis=1)[:, :10]
    top_b = np.argsort(-(b[n:] @ b[:n].T), axis=1)[:, :10]
    same = int((top_a == top_b).all(axis=1).sum())
    print(f"{n} chunks + {len(queries)} queries: min cosine {cos.min():.7f}, mean {cos.mean():.7f}; "
          f"identical top-10 chunk order for {same} of {len(queries)} queries")


if __name__ == "__main__":
    main()
