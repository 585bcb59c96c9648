"""One segment of the BM25 index (vectorstore/lexical.py): the chunks of some documents as term postings.

A segment is written once and never changed: `<name>/meta.json` (its documents' sources and sha256s, and its
vocabulary) and `<name>/arrays.npz` (per chunk its id, document and length in tokens; per term its postings,
the rows holding it and how often). It is built from tokenized chunks, or merged from the live rows of
older segments; the index's manifest says which segments make it up and which of their documents are dead.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from functools import cached_property
from itertools import compress
from pathlib import Path

import numpy as np


class Segment:
    """The chunks of some documents, as term postings: immutable, saved once."""

    def __init__(self, sources: list[str], shas: list[str], doc_of_row: np.ndarray, ids: np.ndarray,
                 lengths: np.ndarray, vocab: list[str], indptr: np.ndarray, rows: np.ndarray, counts: np.ndarray,
                 name: str | None = None):
        # The documents, in the segment's order: two flat lists (a tuple per document made loading
        # 63k documents take seconds, the garbage collector scanning while they were made).
        self.sources = sources
        self.shas = shas  # sha256 of the version indexed
        self.doc_of_row = doc_of_row  # int32 per chunk: index into sources
        self.ids = ids  # chunk id per row (a numpy str array: read from disk at once, no Python list)
        self.lengths = lengths  # int32 per chunk: tokens
        self.vocab = vocab  # column -> term
        self.terms = {t: i for i, t in enumerate(vocab)}
        self.indptr = indptr  # int64, len(vocab) + 1: postings of column c are [indptr[c], indptr[c + 1])
        self.rows = rows  # int32 per posting, ascending within a column
        self.counts = counts  # float32 per posting: occurrences of the term in the chunk
        self.name = name or f"seg-{uuid.uuid4().hex[:16]}"
        self.saved = name is not None  # a loaded segment is on disk already

    @property
    def docs(self) -> list[tuple[str, str]]:
        """(source, sha256) per document."""
        return list(zip(self.sources, self.shas))

    @cached_property
    def doc_rows(self) -> np.ndarray:
        """Chunks per document."""
        return np.bincount(self.doc_of_row, minlength=len(self.sources))

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, docs: list[tuple[str, str]], chunks: Sequence[tuple[str, int, Sequence[str]]]) -> Segment:
        """From (chunk id, document index, tokens) rows."""
        terms: dict[str, int] = {}
        flat: list[int] = []
        lengths = np.zeros(len(chunks), dtype=np.int32)
        for row, (_, _, tokens) in enumerate(chunks):
            lengths[row] = len(tokens)
            flat.extend([terms.setdefault(t, len(terms)) for t in tokens])
        n = max(len(chunks), 1)
        key = np.asarray(flat, dtype=np.int64) * n + np.repeat(np.arange(len(chunks), dtype=np.int64), lengths)
        return cls._from_keys([s for s, _ in docs], [sha for _, sha in docs], np.array([d for _, d, _ in chunks], dtype=np.int32),
                              np.array([c for c, _, _ in chunks], dtype=str), lengths, list(terms),
                              *np.unique(key, return_counts=True))

    @classmethod
    def _from_keys(cls, sources, shas, doc_of_row, ids, lengths, vocab, keys, counts) -> Segment:
        """From sorted unique keys term * rows + row and their counts: drops terms without postings."""
        n = max(len(ids), 1)
        column, rows = np.divmod(keys, n)
        used, column = np.unique(column, return_inverse=True)
        indptr = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(np.bincount(column, minlength=len(used)), out=indptr[1:])
        return cls(sources, shas, doc_of_row, ids, lengths, [vocab[int(c)] for c in used], indptr,
                   rows.astype(np.int32), np.asarray(counts, dtype=np.float32))

    @classmethod
    def merge(cls, parts: Sequence[tuple[Segment, frozenset[int]]]) -> Segment:
        """One segment of the live rows of several (segment, its dead document indices)."""
        sources: list[str] = []
        shas: list[str] = []
        doc_of_row, ids, lengths, keys, counts = [], [], [], [], []
        terms: dict[str, int] = {}
        live_rows = [(seg, ~np.isin(seg.doc_of_row, list(dead))) for seg, dead in parts]
        total = sum(int(keep.sum()) for _, keep in live_rows)
        n = max(total, 1)
        base = 0
        for (seg, dead), (_, keep) in zip(parts, live_rows):
            alive = np.ones(len(seg.sources), dtype=bool)
            alive[list(dead)] = False
            doc_map = np.full(len(seg.sources), -1, dtype=np.int32)
            doc_map[alive] = np.arange(int(alive.sum()), dtype=np.int32) + len(sources)
            sources += compress(seg.sources, alive)
            shas += compress(seg.shas, alive)
            new_row = np.cumsum(keep, dtype=np.int64) - 1 + base
            doc_of_row.append(doc_map[seg.doc_of_row[keep]])
            ids.append(seg.ids[keep])
            lengths.append(seg.lengths[keep])
            column_map = np.array([terms.setdefault(t, len(terms)) for t in seg.vocab], dtype=np.int64)
            column = np.repeat(column_map, np.diff(seg.indptr))
            alive = keep[seg.rows]
            keys.append(column[alive] * n + new_row[seg.rows[alive]])
            counts.append(seg.counts[alive])
            base += int(keep.sum())
        keys_all = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        order = np.argsort(keys_all, kind="stable")
        return cls._from_keys(sources, shas, np.concatenate(doc_of_row).astype(np.int32), np.concatenate(ids),
                              np.concatenate(lengths).astype(np.int32), list(terms), keys_all[order],
                              np.concatenate(counts)[order])

    def save(self, directory: Path) -> None:
        tmp = directory / f"tmp-{self.name}"
        tmp.mkdir(parents=True)
        (tmp / "meta.json").write_text(json.dumps({"sources": self.sources, "shas": self.shas, "vocab": self.vocab}))
        np.savez(tmp / "arrays.npz", ids=self.ids, doc_of_row=self.doc_of_row, lengths=self.lengths,
                 indptr=self.indptr, rows=self.rows, counts=self.counts)
        tmp.rename(directory / self.name)

    @classmethod
    def load(cls, directory: Path, name: str) -> Segment:
        meta = json.loads((directory / name / "meta.json").read_text())
        with np.load(directory / name / "arrays.npz", allow_pickle=False) as arrays:
            return cls(meta["sources"], meta["shas"], arrays["doc_of_row"], arrays["ids"], arrays["lengths"],
                       meta["vocab"], arrays["indptr"], arrays["rows"], arrays["counts"], name=name)
