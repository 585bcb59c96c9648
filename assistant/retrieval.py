"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank fusion."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from assistant.settings import RetrievalSettings
from vectorstore.lexical import LexicalIndex
from vectorstore.records import Hit
from vectorstore.store import Store


def fuse(dense: Sequence[Hit], lexical: Sequence[Hit], settings: RetrievalSettings) -> list[Hit]:
    """Reciprocal rank fusion: sum of weight / (rrf_k + rank) over the lists a chunk appears in."""
    merged: dict[str, Hit] = {}
    for hit in dense:
        merged[hit.chunk.id] = replace(hit, score=settings.dense_weight / (settings.rrf_k + hit.dense_rank))
    for hit in lexical:
        part = settings.bm25_weight / (settings.rrf_k + hit.bm25_rank)
        seen = merged.get(hit.chunk.id)
        merged[hit.chunk.id] = (replace(seen, score=seen.score + part, bm25_rank=hit.bm25_rank,
                                        bm25_score=hit.bm25_score) if seen else replace(hit, score=part))
    return sorted(merged.values(), key=lambda h: -h.score)


class HybridRetriever:
    """Finds the passages most likely to answer a query."""

    def __init__(self, store: Store, lexical: LexicalIndex, settings: RetrievalSettings):
        self.store = store
        self.lexical = lexical
        self.settings = settings

    def retrieve(self, query: str, query_embedding: np.ndarray, k: int,
                 sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k fused hits, each with its dense and BM25 rank and score."""
        s = self.settings
        dense = self.store.dense_search(query_embedding, max(s.dense_k, k), sources) if s.dense_weight else []
        lexical = self.lexical.search(query, max(s.bm25_k, k), sources) if s.bm25_weight else []
        return fuse(dense, lexical, s)[:k]
