"""BM25 over the store's chunks (bm25s), persisted and rebuilt only when the store changed.

bm25s builds and saves the index. A question reads the saved arrays and scores them with numpy
alone (`SavedBM25`, the same arithmetic as bm25s' `retrieve`): importing bm25s imports scipy,
which took longer than everything else a question reads from disk.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from functools import lru_cache
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vectorstore.records import Hit
from vectorstore.store import Store


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], stemmer=None, stopwords: str | list[str] = "en") -> list[list[str]]:
    """English BM25 tokens: lower-cased, stop words removed, Snowball-stemmed (as bm25s.tokenize does)."""
    stop = frozenset(_stopwords("STOPWORDS_EN") if stopwords in ("en", "english") else stopwords)
    stemmer = stemmer or _stemmer()
    out = []
    for text in texts:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
        out.append(stemmer.stemWords(words) if words else [])
    return out


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s' token_pattern


@lru_cache(maxsize=4)
def _stopwords(name: str) -> tuple[str, ...]:
    """A stop word list of bm25s, read from its module file alone (the package imports scipy)."""
    spec = importlib.util.find_spec("bm25s")
    location = list(spec.submodule_search_locations)[0] if spec and spec.submodule_search_locations else None
    if location is None:
        import bm25s.stopwords as module
    else:
        file_spec = importlib.util.spec_from_file_location("_bm25s_stopwords", f"{location}/stopwords.py")
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
    return tuple(getattr(module, name))


def query_stopwords() -> list[str]:
    """A fuller list for queries: "who", "did", "about" match everything and decide nothing."""
    return list(_stopwords("STOPWORDS_EN_PLUS"))


class SavedBM25:
    """A bm25s index saved on disk, scored with numpy alone: bm25s' `retrieve` without bm25s.

    Only the "lucene" family (no non-occurrence array) is read; anything else loads with bm25s.
    """

    def __init__(self, directory: Path):
        directory = Path(directory)
        params = json.loads((directory / "params.index.json").read_text())
        if (directory / "nonoccurrence_array.index.npy").exists():
            raise ValueError("index with a non-occurrence array")
        self.num_docs = int(params["num_docs"])
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.int_dtype = np.dtype(params.get("int_dtype", "int32"))
        self.data = np.load(directory / "data.csc.index.npy", allow_pickle=False)
        self.indices = np.load(directory / "indices.csc.index.npy", allow_pickle=False)
        self.indptr = np.load(directory / "indptr.csc.index.npy", allow_pickle=False)
        self.vocab_dict = json.loads((directory / "vocab.index.json").read_text())

    def scores(self, tokens: Sequence[str], weight_mask: np.ndarray | None = None) -> np.ndarray:
        ids = np.asarray([self.vocab_dict[t] for t in tokens if t in self.vocab_dict], dtype=self.int_dtype)
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        for start, end in zip(self.indptr[ids], self.indptr[ids + 1]):  # token by token, as bm25s adds them
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if weight_mask is not None:
            scores *= weight_mask
        return scores

    def retrieve(self, queries: list[list[str]], k: int, weight_mask: np.ndarray | None = None,
                 **_ignored) -> tuple[np.ndarray, np.ndarray]:
        """(doc indices, scores), each of shape (len(queries), k), best first: bm25s' numpy top-k."""
        docs, scores = [], []
        for tokens in queries:
            query_scores = self.scores(tokens, weight_mask) if tokens else np.zeros(self.num_docs, self.dtype)
            part = np.argpartition(query_scores, -k).take(indices=range(-k, 0))
            part_scores = np.take(query_scores, part)
            order = np.flip(np.argsort(part_scores))
            docs.append(part[order])
            scores.append(part_scores[order])
        return np.array(docs), np.array(scores)


def _load_saved(directory: Path):
    try:
        return SavedBM25(directory)
    except ValueError:  # another scoring method: let bm25s read it
        import bm25s

        return bm25s.BM25.load(str(directory), show_progress=False)


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
            self._retriever = _load_saved(self.directory / "bm25") if meta["ids"] else None
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
