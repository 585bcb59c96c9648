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
    """Reciprocal rank fusion: sum over both rankings of weight / (rrf_k + rank).

    A chunk missing from a ranking counts as tied just past its end (rank len + 1): BM25 gives
    no score to a chunk that lacks every query term, and a short BM25 list must not push the
    best dense passages below every weak lexical match.
    """
    chunks = {h.chunk.id: h for h in (*lexical, *dense)}
    dense_by_id = {h.chunk.id: h for h in dense}
    lexical_by_id = {h.chunk.id: h for h in lexical}
    fused = []
    for cid, hit in chunks.items():
        d, b = dense_by_id.get(cid), lexical_by_id.get(cid)
        score = (settings.dense_weight / (settings.rrf_k + (d.dense_rank if d else len(dense) + 1)) +
                 settings.bm25_weight / (settings.rrf_k + (b.bm25_rank if b else len(lexical) + 1)))
        fused.append(replace(hit, score=score, dense_rank=d and d.dense_rank, dense_score=d and d.dense_score,
                             bm25_rank=b and b.bm25_rank, bm25_score=b and b.bm25_score))
    return sorted(fused, key=lambda h: -h.score)


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
