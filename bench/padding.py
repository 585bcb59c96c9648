"""Tokens the model pads to, per way of batching the SciFact chunks: exact, no timing, no noise.

    python bench/padding.py SCIFACT_DIR/corpus.jsonl

A batch of texts costs about (texts x the longest one's tokens), so sorting chunks by length before
batching them cuts the padding. Chunks come from the project's chunker (200/40 MiniLM tokens);
lengths are counted with the MiniLM tokenizer, plus its 2 special tokens, capped at 256.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BATCH = 64  # texts per model batch (the project's embed_batch_size, and the baseline's)
WAYS = (("plain llama-index: 64 per encode call, in document order", 64),
        ("sorted 256 at a time", 256),
        ("sorted 1,024 at a time (the ingest default)", 1024),
        ("sorted 4,096 at a time", 4096))


def chunk_lengths(corpus: Path) -> list[int]:
    """Model tokens of every chunk of `title + " " + text` per abstract, in corpus order."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from ingest.chunking import Chunker
    from ingest.documents import Document
    from vectorstore.embedder import Embedder
    from vectorstore.minilm import MAX_TOKENS

    embedder = Embedder()
    chunker = Chunker(200, 40, embedder.count_tokens)
    lengths = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            text = f"{doc['title']} {doc['text']}".strip()
            for chunk in chunker.chunk(Document(doc["_id"], doc["title"], text, "-")):
                lengths.append(min(MAX_TOKENS, len(embedder.count_tokens(chunk.text)) + 2))
    return lengths


def padded_tokens(lengths: list[int], window: int) -> int:
    """Tokens computed when each `window` of chunks is sorted by length, then cut into batches."""
    total = 0
    for begin in range(0, len(lengths), window):
        part = sorted(lengths[begin:begin + window])
        total += sum(len(part[i:i + BATCH]) * max(part[i:i + BATCH]) for i in range(0, len(part), BATCH))
    return total


def main() -> None:
    lengths = chunk_lengths(Path(sys.argv[1]))
    useful = sum(lengths)
    plain = padded_tokens(lengths, WAYS[0][1])
    print(f"{len(lengths):,} chunks, {useful:,} tokens of text\n")
    print("| batching | tokens computed | padding | vs plain llama-index |\n|---|---:|---:|---:|")
    for name, window in WAYS:
        cost = padded_tokens(lengths, window)
        print(f"| {name} | {cost:,} | {1 - useful / cost:.1%} | {cost / plain:.3f} |")


if __name__ == "__main__":
    main()
