"""BM25 over the store's chunks, persisted, and brought up to date in proportion to what changed.

The index is a list of segments. A segment holds the chunks of some documents as postings of raw
term counts (term -> rows and counts) and each chunk's length in tokens; it is written once and never
changed. No BM25 weight is stored: a question computes the weights of its own few terms from the
live totals (chunks, their average length, each term's document frequency), so a change alters no
stored number. After a commit, the next question diffs the committed documents (source -> sha256,
the listing the store makes for every question after a change anyway) against the indexed ones,
reads and tokenizes only the chunks of new or changed documents, writes them as a new segment, and
marks the rows of replaced or removed documents dead. A segment is merged into the one before it
while that one is less than MERGE_RATIO times its size (merges drop dead rows, and a segment more
than half dead is rewritten), so there are O(log n) segments and a chunk is rewritten O(log n)
times over its life; a change bigger than half the corpus is a rebuild.

Scores are bm25s' default BM25 ("lucene": k1 1.5, b 0.75) with bm25s' own arithmetic and float32
roundings, so they equal, bit for bit, those of a bm25s index built over the visible chunks: an index
grown by many small changes scores exactly as one built from scratch, and ranks the same (equal
scores in chunk-id order). Questions never import bm25s (it imports scipy, which took longer than
everything else a question reads from disk); its stop word lists are read from its module file.
A segment's postings and files are vectorstore/segments.py; this module keeps the list of them (the
manifest, `index.json`), fresh and scored.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from vectorstore.segments import Segment
from vectorstore.store import Store

K1, B = 1.5, 0.75  # bm25s' defaults
MERGE_RATIO = 4
FORMAT = 3  # of the manifest and the segments' files; any other saved index is rebuilt once
MANIFEST = "index.json"
ORPHAN_AGE = 600.0  # s: a segment no manifest names is kept this long after it was written (another process may be saving it)


@lru_cache(maxsize=1)
def english_stemmer():
    """The one English Snowball stemmer of the process: BM25's tokens and the answerers' terms (assistant/text)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], stemmer=None, stopwords: str | list[str] = "en") -> list[list[str]]:
    """English BM25 tokens: lower-cased, stop words removed, Snowball-stemmed (as bm25s.tokenize does)."""
    stop = frozenset(_stopwords("STOPWORDS_EN") if stopwords in ("en", "english") else stopwords)
    stemmer = stemmer or english_stemmer()
    words = [[w for w in _TOKEN.findall(text.lower()) if w not in stop] for text in texts]
    distinct = list({w: None for text_words in words for w in text_words})
    stems = dict(zip(distinct, stemmer.stemWords(distinct)))  # each distinct word stemmed once
    return [[stems[w] for w in text_words] for text_words in words]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s' token_pattern
IDENTIFIER = re.compile(r"[\d_]")  # a token holding a digit or an underscore: a code, a number, a snake_case name


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


class _State:
    """An immutable view over segments and their dead documents, at one store generation."""

    def __init__(self, generation: str, parts: Sequence[tuple[Segment, frozenset[int]]]):
        self.generation = generation
        self.parts = list(parts)
        self.offsets = np.cumsum([0] + [seg.size for seg, _ in self.parts])
        self.ids = np.concatenate([seg.ids for seg, _ in self.parts]) if self.parts else np.zeros(0, dtype=str)
        self.doc_offsets = doc_offsets = np.cumsum([0] + [len(seg.sources) for seg, _ in self.parts])
        self.doc_of_row = (np.concatenate([seg.doc_of_row + off for (seg, _), off in zip(self.parts, doc_offsets)])
                           if self.parts else np.zeros(0, dtype=np.int64))
        dead_docs = np.zeros(int(doc_offsets[-1]), dtype=bool)
        self.docs: dict[str, str] = {}  # live documents: source -> sha256
        self.doc_index: dict[str, int] = {}  # live documents: source -> global document index
        for (seg, dead), off in zip(self.parts, doc_offsets):  # oldest first: a later version replaces an earlier
            self.docs.update(zip(seg.sources, seg.shas))
            self.doc_index.update(zip(seg.sources, range(int(off), int(off) + len(seg.sources))))
            for i in dead:
                dead_docs[off + i] = True
                del self.docs[seg.sources[i]], self.doc_index[seg.sources[i]]
        self.live = ~dead_docs[self.doc_of_row]
        lengths = np.concatenate([seg.lengths for seg, _ in self.parts]) if self.parts else np.zeros(0, np.int32)
        self.lengths = lengths.astype(np.float64)
        self.num_docs = int(self.live.sum())
        # bm25s: the mean of the chunk lengths, np.float64 (an exact integer sum, divided once)
        self.avg_len = np.float64(int(lengths[self.live].sum())) / self.num_docs if self.num_docs else np.float64(0)

    def locate(self, source: str) -> tuple[int, int]:
        """(segment, document index in it) of a live document."""
        g = self.doc_index[source]
        p = int(np.searchsorted(self.doc_offsets, g, side="right")) - 1
        return p, g - int(self.doc_offsets[p])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, counts) of the live chunks holding term."""
        rows, counts = [], []
        for (seg, _), off in zip(self.parts, self.offsets):
            column = seg.terms.get(term)
            if column is not None:
                a, b = seg.indptr[column], seg.indptr[column + 1]
                rows.append(seg.rows[a:b].astype(np.int64) + off)
                counts.append(seg.counts[a:b])
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows_all, counts_all = np.concatenate(rows), np.concatenate(counts)
        alive = self.live[rows_all]
        return rows_all[alive], counts_all[alive]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """float32 BM25 score per row (dead rows 0): bm25s' index and retrieve, term by term in query order."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term in tokens:
            rows, counts = self.postings(term)
            if not len(rows):
                continue
            df = len(rows)
            idf = np.float32(math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5)))
            tfc = counts / (K1 * ((1 - B) + B * self.lengths[rows] / self.avg_len) + counts)
            scores[rows] += (idf * tfc).astype(np.float32)  # one posting per row and term: no repeats
        return scores


class LexicalIndex:
    """A BM25 index of every visible chunk, kept in `directory` next to the store."""

    def __init__(self, store: Store, directory: Path):
        self.store = store
        self.directory = Path(directory)
        self._state: _State | None = None
        self._lock = threading.Lock()

    @cached_property
    def stemmer(self):
        """The Snowball stemmer, made on first use (a question or a refresh)."""
        return english_stemmer()

    # ---- keeping it fresh ------------------------------------------------------------
    def _ensure_fresh(self) -> _State:
        generation = self.store.generation()
        state = self._state
        if state is not None and state.generation == generation:
            return state
        with self._lock:  # several questions at once: one refresh
            state = self._state
            if state is None:
                state = self._load()
            if state is None or state.generation != generation:
                committed, listed_at = self.store.committed_at()
                state = self._refresh(state, committed, listed_at)
            self._state = state
            return state

    def _refresh(self, state: _State | None, committed: dict[str, str], generation: str) -> _State:
        """The index at `generation`: only the chunks of new or changed documents are read and tokenized."""
        if state is None:
            return self._build(committed, generation)
        gone = [source for source, _ in state.docs.items() - committed.items()]
        new = dict(committed.items() - state.docs.items())
        if len(new) > max(len(committed) // 2, 100):  # most of it is new: one pass over the store is cheaper
            return self._build(committed, generation)
        dead = [set(d) for _, d in state.parts]
        for source in gone:
            p, i = state.locate(source)
            dead[p].add(i)
        parts = [(seg, frozenset(d)) for (seg, _), d in zip(state.parts, dead)]
        if new:
            parts.append((self._segment(new), frozenset()))
        fresh = _State(generation, _merged(parts))
        self._save(fresh)
        return fresh

    def _build(self, committed: dict[str, str], generation: str) -> _State:
        """The whole index from the store: every visible chunk read and tokenized."""
        state = _State(generation, [(self._segment(committed), frozenset())] if committed else [])
        self._save(state)
        return state

    def _segment(self, versions: dict[str, str]) -> Segment:
        """A segment of the chunks of exactly these document versions (source -> sha256)."""
        docs = list(versions.items())
        index = {source: i for i, (source, _) in enumerate(docs)}
        chunks = list(self.store.iter_chunks(versions))
        tokens = tokenize([c.text for c in chunks], self.stemmer)
        return Segment.build(docs, [(c.id, index[c.source], t) for c, t in zip(chunks, tokens)])

    # ---- on disk ---------------------------------------------------------------------
    def _load(self) -> _State | None:
        """The saved index, at whatever generation it was saved; None if there is none or it is unreadable."""
        for _ in range(2):  # a segment deleted between reading the manifest and reading it: read them again
            try:
                manifest = json.loads((self.directory / MANIFEST).read_text())
                if manifest.get("format") != FORMAT:
                    return None
                parts = [(Segment.load(self.directory, p["name"]), frozenset(p["dead"])) for p in manifest["segments"]]
                return _State(manifest["generation"], parts)
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError):
                return None  # a damaged index is simply rebuilt
        return None

    def _save(self, state: _State) -> None:
        """New segments first, then the manifest that names them (replaced in one step), then unused files."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for seg, _ in state.parts:
                if not seg.saved:
                    seg.save(self.directory)
                    seg.saved = True
            manifest = {"format": FORMAT, "generation": state.generation,
                        "segments": [{"name": seg.name, "dead": sorted(dead)} for seg, dead in state.parts]}
            tmp = self.directory / f"{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
            tmp.write_text(json.dumps(manifest))
            os.replace(tmp, self.directory / MANIFEST)
            self._collect({seg.name for seg, _ in state.parts})
        except OSError:
            pass  # cannot persist (read-only home): keep it in memory

    def _collect(self, keep: set[str]) -> None:
        """Delete what no manifest needs: an older format's files at once, unnamed segments once ORPHAN_AGE old."""
        now = time.time()
        for entry in self.directory.iterdir():
            if entry.name == MANIFEST or entry.name in keep:
                continue
            try:
                old_format = entry.name in ("ids.json", "bm25")
                if not old_format and now - entry.stat().st_mtime < ORPHAN_AGE:
                    continue  # another process may be writing it, or reading the manifest that names it
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
            except OSError:
                continue

    # ---- asking ----------------------------------------------------------------------
    @property
    def segments(self) -> int:
        """Segments of the index as it is now (for tests and benchmarks)."""
        return len(self._ensure_fresh().parts)

    def unknown(self, stems: Iterable[str]) -> set[str]:
        """The stemmed words that occur in no indexed chunk."""
        state = self._ensure_fresh()
        return {t for t in stems if not len(state.postings(t)[0])}

    def rank(self, query: str, k: int, sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with a positive score, optionally only from some sources; no store call."""
        state = self._ensure_fresh()
        if not state.num_docs:
            return []
        scores = state.scores(self._terms(query))
        wanted = _wanted(state, sources)
        if wanted is not None:
            scores *= wanted[state.doc_of_row]
        rows = np.flatnonzero(scores > 0)
        if len(rows) > k:  # the k best, and every row tied with the k-th (ties go by chunk id)
            kth = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
            rows = rows[scores[rows] >= kth]
        best = sorted(rows.tolist(), key=lambda r: (-scores[r], state.ids[r]))[:k]
        return [(str(state.ids[r]), float(scores[r])) for r in best]

    def rare(self, query: str, at_most: int, sources: Sequence[str] | None = None) -> set[str]:
        """Ids of the chunks holding a query term found in one chunk of the whole index, or an identifier-like
        term (an error code, a ticket or part number, a snake_case name) found in at most `at_most`, optionally
        only from some sources; none if at_most is 0. No store call."""
        if at_most < 1:
            return set()
        state = self._ensure_fresh()
        wanted = _wanted(state, sources)
        found: set[str] = set()
        for term in set(self._terms(query)):
            rows, _ = state.postings(term)
            if len(rows) == 1 or (len(rows) <= at_most and IDENTIFIER.search(term)):
                if wanted is not None:
                    rows = rows[wanted[state.doc_of_row[rows]] > 0]
                found.update(str(i) for i in state.ids[rows])
        return found

    def _terms(self, query: str) -> list[str]:
        return tokenize([query], self.stemmer, query_stopwords())[0]


def _wanted(state: _State, sources: Sequence[str] | None) -> np.ndarray | None:
    """1.0 per (global) document of these sources, else 0.0; None for no filter."""
    if not sources:
        return None
    docs = np.zeros(int(state.doc_offsets[-1]), dtype=np.float32)
    docs[[state.doc_index[s] for s in sources if s in state.doc_index]] = 1.0
    return docs


def _merged(parts: list[tuple[Segment, frozenset[int]]]) -> list[tuple[Segment, frozenset[int]]]:
    """Segments after merging: the newest into the one before while that one is < MERGE_RATIO x its live size,
    any segment more than half dead rewritten, segments without a live document dropped."""
    parts = [p for p in parts if len(p[1]) < len(p[0].sources)]
    while len(parts) >= 2 and _live_rows(parts[-2]) < MERGE_RATIO * _live_rows(parts[-1]):
        parts[-2:] = [(Segment.merge(parts[-2:]), frozenset())]
    return [(Segment.merge([p]), frozenset()) if 2 * (p[0].size - _live_rows(p)) > p[0].size else p for p in parts]


def _live_rows(part: tuple[Segment, frozenset[int]]) -> int:
    seg, dead = part
    return seg.size - int(seg.doc_rows[list(dead)].sum()) if dead else seg.size
