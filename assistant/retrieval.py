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
        self.last_sources: tuple[str, ...] = ()  # of the latest hits: their documents are read together

    def retrieve(self, query: str, query_embedding: np.ndarray, k: int,
                 sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k fused hits, each with its dense and BM25 rank and score.

        BM25 ranks ids without reading the store; only the chunks of the fused top k that the
        dense search did not return are then fetched, in one call (none if dense has them all).
        The result is what fuse() gives on full dense and BM25 hit lists.
        """
        s = self.settings
        dense = self.store.dense_search(query_embedding, max(s.dense_k, k), sources) if s.dense_weight else []
        ranked = self.lexical.rank(query, max(s.bm25_k, k), sources) if s.bm25_weight else []
        scored = _fused(dense, ranked, s)
        by_id = {h.chunk.id: h for h in dense}
        top = [row for row in scored[:k]]
        missing = [cid for cid, *_ in top if cid not in by_id]
        fetched = self.store.chunks(missing) if missing else {}
        hits = []
        for cid, score, d_rank, b_rank, b_score in top:
            d = by_id.get(cid)
            chunk = d.chunk if d else fetched.get(cid)
            if chunk is None:  # no longer visible (changed after the BM25 index was read)
                continue
            hits.append(Hit(chunk=chunk, score=score, dense_rank=d_rank, dense_score=d and d.dense_score,
                            bm25_rank=b_rank, bm25_score=b_score))
        self.last_sources = tuple(dict.fromkeys(h.chunk.source for h in hits))
        return hits


def _fused(dense: Sequence[Hit], ranked: Sequence[tuple[str, float]], s: RetrievalSettings) -> list[tuple]:
    """(id, fused score, dense rank, BM25 rank, BM25 score) best first: fuse() on ids, before any chunk is read."""
    d_rank = {h.chunk.id: h.dense_rank for h in dense}
    b = {cid: (i + 1, score) for i, (cid, score) in enumerate(ranked)}
    rows = []
    for cid in dict.fromkeys([*b, *d_rank]):  # the same order as fuse(): ties keep it
        b_rank, b_score = b.get(cid, (None, None))
        dr = d_rank.get(cid)
        score = (s.dense_weight / (s.rrf_k + (dr if dr else len(dense) + 1)) +
                 s.bm25_weight / (s.rrf_k + (b_rank if b_rank else len(ranked) + 1)))
        rows.append((cid, score, dr, b_rank, b_score))
    return sorted(rows, key=lambda row: -row[1])
