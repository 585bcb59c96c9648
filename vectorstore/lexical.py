"""BM25 over the store's chunks (bm25s), persisted and rebuilt only when the store changed."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vectorstore.records import Hit
from vectorstore.store import Store


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], stemmer=None, stopwords: str | list[str] = "en") -> list[list[str]]:
    """English BM25 tokens: lower-cased, stop words removed, Snowball-stemmed."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords=stopwords, stemmer=stemmer or _stemmer(),
                          return_ids=False, show_progress=False)


def query_stopwords() -> list[str]:
    """A fuller list for queries: "who", "did", "about" match everything and decide nothing."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return list(STOPWORDS_EN_PLUS)


class LexicalIndex:
    """A BM25 index of every visible chunk, kept in `directory` next to the store."""

    def __init__(self, store: Store, directory: Path):
        self.store = store
        self.directory = Path(directory)
        self._retriever = None
        self._ids: list[str] = []
        self._sources: np.ndarray = np.array([], dtype=object)
        self._generation: str | None = None
        self._stemmer = None

    def _ensure_fresh(self) -> None:
        generation = self.store.generation()
        if generation == self._generation:
            return
        if not self._load(generation):
            self._build(generation)

    def _load(self, generation: str) -> bool:
        meta_path = self.directory / "ids.json"
        if not meta_path.is_file():
            return False
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("generation") != generation:
                return False
            import bm25s

            self._retriever = bm25s.BM25.load(str(self.directory / "bm25"), show_progress=False) if meta["ids"] else None
        except (OSError, ValueError, KeyError):
            return False  # a damaged index is simply rebuilt
        self._set(generation, meta["ids"], meta["sources"])
        return True

    def _build(self, generation: str) -> None:
        import bm25s

        chunks = list(self.store.iter_chunks())
        self._stemmer = self._stemmer or _stemmer()
        retriever = None
        if chunks:
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenize([c.text for c in chunks], stopwords="en", stemmer=self._stemmer,
                                           show_progress=False), show_progress=False)
        self._retriever = retriever
        ids, sources = [c.id for c in chunks], [c.source for c in chunks]
        self._set(generation, ids, sources)
        self._save(generation, ids, sources)

    def _save(self, generation: str, ids: list[str], sources: list[str]) -> None:
        # Write beside, then swap: a reader never sees half an index.
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            if self._retriever is not None:
                self._retriever.save(str(tmp / "bm25"), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps({"generation": generation, "ids": ids, "sources": sources}))
            shutil.rmtree(self.directory, ignore_errors=True)
            tmp.rename(self.directory)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # cannot persist (read-only home): keep it in memory

    def _set(self, generation: str, ids: list[str], sources: list[str]) -> None:
        self._generation = generation
        self._ids = ids
        self._sources = np.array(sources, dtype=object)

    def unknown(self, stems: Iterable[str]) -> set[str]:
        """The stemmed words that occur in no indexed chunk."""
        self._ensure_fresh()
        vocab = self._retriever.vocab_dict if self._retriever is not None else {}
        return {t for t in stems if t not in vocab}

    def rank(self, query: str, k: int, sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with a positive score, optionally only from some sources; no store call."""
        self._ensure_fresh()
        if self._retriever is None or not self._ids:
            return []
        self._stemmer = self._stemmer or _stemmer()
        vocab = self._retriever.vocab_dict
        tokens = [t for t in tokenize([query], self._stemmer, query_stopwords())[0] if t in vocab]
        if not tokens:
            return []
        mask = None
        if sources:
            mask = np.isin(self._sources, list(sources)).astype(np.float32)
            if not mask.any():
                return []
        k = min(k, len(self._ids))
        docs, scores = self._retriever.retrieve([tokens], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        return [(self._ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    def search(self, query: str, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k chunks by BM25 score (only positive scores), optionally only from some sources."""
        ranked = self.rank(query, k, sources)
        chunks = self.store.chunks([cid for cid, _ in ranked])
        hits = []
        for cid, score in ranked:
            if cid in chunks:
                hits.append(Hit(chunk=chunks[cid], score=score, bm25_rank=len(hits) + 1, bm25_score=score))
        return hits
