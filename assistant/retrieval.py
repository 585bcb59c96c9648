"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank fusion."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np

from assistant.settings import RetrievalSettings
from vectorstore.lexical import LexicalIndex
from vectorstore.records import Hit
from vectorstore.store import Store


class HybridRetriever:
    """Finds the passages most likely to answer a query."""

    def __init__(self, store: Store, lexical: LexicalIndex, settings: RetrievalSettings):
        self.store = store
        self.lexical = lexical
        self.settings = settings
        self.last_sources: tuple[str, ...] = ()  # of the latest hits: their documents are read together

    def retrieve(self, query: str, query_embedding: np.ndarray, k: int,
                 sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k fused hits, each with its dense and BM25 rank and score.

        BM25 ranks ids without reading the store; only the chunks of the fused top k that the
        dense search did not return are then fetched, in one call (none if dense has them all).
        """
        s = self.settings
        dense = self.store.dense_search(query_embedding, max(s.dense_k, k), sources) if s.dense_weight else []
        ranked = self.lexical.rank(query, max(s.bm25_k, k), sources) if s.bm25_weight else []
        rare = self.lexical.rare(query, s.rare_term_chunks, sources) if s.bm25_weight else set()
        top = fuse(dense, ranked, rare, k, s)[:k]
        by_id = {h.chunk.id: h for h in dense}
        missing = [row.id for row in top if row.id not in by_id]
        fetched = self.store.chunks(missing) if missing else {}
        hits = []
        for row in top:
            d = by_id.get(row.id)
            chunk = d.chunk if d else fetched.get(row.id)
            if chunk is None:  # no longer visible (changed after the BM25 index was read)
                continue
            hits.append(Hit(chunk=chunk, score=row.score, dense_rank=row.dense_rank, dense_score=d and d.dense_score,
                            bm25_rank=row.bm25_rank, bm25_score=row.bm25_score))
        self.last_sources = tuple(dict.fromkeys(h.chunk.source for h in hits))
        return hits


class Fused(NamedTuple):
    """A chunk id with its fused score and its place in each ranking (None: not in it)."""

    id: str
    score: float
    dense_rank: int | None
    bm25_rank: int | None
    bm25_score: float | None


def fuse(dense: Sequence[Hit], ranked: Sequence[tuple[str, float]], rare: Collection[str], k: int,
         s: RetrievalSettings) -> list[Fused]:
    """Reciprocal rank fusion of the dense hits and the BM25 (id, score) ranking, best first, before any chunk
    is read: the sum over both rankings of weight / (rrf_k + rank).

    A chunk missing from a ranking counts as just past the depth asked of it (max(dense_k, k) or
    max(bm25_k, k)), as RRF intends, not past the end of a short list: when BM25 matches one chunk,
    the others are not all nearly as good as it. Equal BM25 scores share a rank, so chunks BM25 cannot
    tell apart are ordered by meaning. A chunk in `rare` (LexicalIndex.rare: it holds a query term found
    in one chunk, or an identifier found in at most `rare_term_chunks`) also scores what first place in
    both rankings would, so it comes before every chunk without one; among themselves, fused order.
    Equal fused scores keep BM25's order.
    """
    d_rank = {h.chunk.id: h.dense_rank for h in dense}
    b: dict[str, tuple[int, float]] = {}
    for i, (cid, score) in enumerate(ranked):
        b[cid] = (b[ranked[i - 1][0]][0] if i and score == ranked[i - 1][1] else i + 1, score)
    past_dense, past_bm25 = max(s.dense_k, k) + 1, max(s.bm25_k, k) + 1
    bonus = (s.dense_weight + s.bm25_weight) / (s.rrf_k + 1)
    rows = []
    for cid in dict.fromkeys([*b, *d_rank, *sorted(rare)]):  # ties keep this order: BM25's first
        b_rank, b_score = b.get(cid, (None, None))
        dr = d_rank.get(cid)
        score = (s.dense_weight / (s.rrf_k + (dr or past_dense)) + s.bm25_weight / (s.rrf_k + (b_rank or past_bm25))
                 + (bonus if cid in rare else 0.0))
        rows.append(Fused(cid, score, dr, b_rank, b_score))
    return sorted(rows, key=lambda row: -row.score)
