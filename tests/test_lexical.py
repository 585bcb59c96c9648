"""The BM25 index: bm25s' scores, and a refresh after a change that reads only the changed documents
yet ranks exactly as a rebuild from scratch."""
from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest

from conftest import ROOT
from vectorstore.lexical import (MANIFEST, LexicalIndex, _merged, _State, english_stemmer, query_stopwords,
                                 tokenize)
from vectorstore.segments import Segment

QUERIES = ["Who denied involvement?", "Peskov allegations absurd", "debate election hack", "Zanzibar cloves harvest",
           "What did Markov say about WikiLeaks?", "ferry timetable nine morning", "zzzz unknownword"]


def _corpus() -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "data/sample").glob("*.txt"))]
    return [t[i:i + 700] for t in texts for i in range(0, len(t), 350)] + ["", "the a an", "Über café naïve"]


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in (ROOT / "evals/sets/news.jsonl").open()]


class _FixedStore:
    """Enough of a Store for an index whose state is set by the test."""

    def generation(self):
        return "fixed"


def _index(state: _State) -> LexicalIndex:
    index = LexicalIndex(_FixedStore(), ROOT / "does-not-exist")
    index._state = state
    return index


def test_scores_and_ranks_are_bm25s(tmp_path):
    """Scores equal bm25s' (bit for bit) over the same chunks; the top k has bm25s' scores, ties by chunk id."""
    import bm25s

    corpus = _corpus()
    stemmer = english_stemmer()
    ours = tokenize(corpus, stemmer)
    theirs = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
    assert ours == [list(t) for t in theirs]
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    ids = [f"c{i:03d}" for i in range(len(corpus))]
    sources = [f"doc{i % 4}" for i in range(len(corpus))]  # four documents, chunks interleaved
    docs = sorted(set(sources))
    state = _State("fixed", [(Segment.build([(s, "sha") for s in docs],
                                            [(c, docs.index(s), t) for c, s, t in zip(ids, sources, ours)]),
                              frozenset())])
    index = _index(state)
    mask = np.array([s != "doc0" for s in sources], dtype=np.float32)
    checked = 0
    for question in _questions():
        query = tokenize([question], stemmer, query_stopwords())[0]
        query = [t for t in query if t in reference.vocab_dict]
        if not query:
            continue
        want = reference.get_scores(query).astype(np.float32)
        assert np.array_equal(state.scores(query), want), question
        for k, weights, only in ((5, None, None), (len(corpus), None, None), (10, mask, ["doc1", "doc2", "doc3"])):
            scores = want * weights if weights is not None else want
            got = index.rank(question, k, only)
            best = sorted((i for i in range(len(corpus)) if scores[i] > 0), key=lambda i: (-scores[i], ids[i]))[:k]
            assert got == [(ids[i], float(scores[i])) for i in best], question
        checked += 1
    assert checked > 30


def _random_history(seed: int, corpus: list[str]):
    """A random sequence of adds, replacements and removals of documents (each 1-4 chunks of the corpus)."""
    rng = random.Random(seed)
    live: dict[str, tuple[str, list[int]]] = {}
    steps = []
    for step in range(40):
        action = rng.random()
        if live and action < 0.2:
            source = rng.choice(sorted(live))
            del live[source]
        else:
            source = rng.choice(sorted(live)) if live and action < 0.45 else f"doc{step}"
            rows = rng.sample(range(len(corpus)), rng.randint(0 if action > 0.97 else 1, 4))
            live[source] = (f"sha{step}", rows)
        steps.append({s: (sha, list(rows)) for s, (sha, rows) in live.items()})
    return steps


def _chunks(source: str, sha: str, rows: list[int], tokens) -> list[tuple[str, list[str]]]:
    return [(f"{source}/{sha}/{j}", tokens[r]) for j, r in enumerate(rows)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_segments_changed_step_by_step_score_as_one_built_at_once(seed, monkeypatch):
    """Adds, replacements and removals applied as new segments, dead documents and merges (with every merge
    rule exercised) give every chunk the score a single segment of the live documents gives it."""
    monkeypatch.setattr("vectorstore.lexical.MERGE_RATIO", 2)
    corpus = _corpus()
    tokens = tokenize(corpus, english_stemmer())
    stemmer = english_stemmer()
    queries = [tokenize([q], stemmer, query_stopwords())[0] for q in QUERIES + _questions()[:15]]
    parts: list = []
    indexed: dict[str, str] = {}
    most_segments = 0
    for live in _random_history(seed, corpus):
        gone = [s for s in indexed if s not in live or live[s][0] != indexed[s]]
        new = {s: v for s, v in live.items() if indexed.get(s) != v[0]}
        dead = [set(d) for _, d in parts]
        for source in gone:
            p = next(p for p, (seg, d) in enumerate(parts) for i, doc in enumerate(seg.docs)
                     if doc == (source, indexed[source]) and i not in d)
            dead[p].add(next(i for i, doc in enumerate(parts[p][0].docs) if doc == (source, indexed[source])))
        parts = [(seg, frozenset(d)) for (seg, _), d in zip(parts, dead)]
        if new:
            docs = [(s, sha) for s, (sha, _) in new.items()]
            rows = [(cid, d, t) for d, (s, (sha, r)) in enumerate(new.items()) for cid, t in _chunks(s, sha, r, tokens)]
            parts.append((Segment.build(docs, rows), frozenset()))
        parts = _merged(parts)
        most_segments = max(most_segments, len(parts))
        indexed = {s: sha for s, (sha, _) in live.items()}
        grown = _State("g", parts)
        assert grown.docs == indexed
        docs = sorted(live.items())
        rows = [(cid, d, t) for d, (s, (sha, r)) in enumerate(docs) for cid, t in _chunks(s, sha, r, tokens)]
        whole = _State("g", [(Segment.build([(s, sha) for s, (sha, _) in docs], rows), frozenset())])
        assert sorted(np.array(grown.ids)[grown.live]) == sorted(whole.ids)
        assert (grown.num_docs, grown.avg_len) == (whole.num_docs, whole.avg_len)
        for query in queries:
            a = dict(zip(grown.ids, grown.scores(query)))
            b = dict(zip(whole.ids, whole.scores(query)))
            assert {c: a[c] for c in b} == b and not any(a[c] for c in a.keys() - b.keys())
    assert 1 < most_segments <= 8


def test_merging_drops_dead_rows_and_unused_terms():
    tokens = [["alpha", "beta"], ["beta", "gamma"], ["delta"], ["beta", "beta", "epsilon"]]
    first = Segment.build([("a", "1"), ("b", "1")], [("a0", 0, tokens[0]), ("b0", 1, tokens[1]), ("b1", 1, tokens[2])])
    second = Segment.build([("c", "1")], [("c0", 0, tokens[3])])
    merged = Segment.merge([(first, frozenset({1})), (second, frozenset())])
    assert merged.docs == [("a", "1"), ("c", "1")] and list(merged.ids) == ["a0", "c0"]
    assert sorted(merged.vocab) == ["alpha", "beta", "epsilon"]  # gamma and delta were only in b
    assert list(merged.doc_of_row) == [0, 1] and list(merged.lengths) == [2, 3]
    column = merged.terms["beta"]
    a, b = merged.indptr[column], merged.indptr[column + 1]
    assert list(merged.rows[a:b]) == [0, 1] and list(merged.counts[a:b]) == [1.0, 2.0]


# ---------------------------------------------------------------- on a real store, with the real model

def _same_as_rebuilt(assistant, tmp_path, label: str) -> None:
    """The index the assistant refreshed step by step, and the saved copy of it, rank as one built from scratch."""
    rebuilt = LexicalIndex(assistant.store, tmp_path / f"rebuilt-{label}")
    reloaded = LexicalIndex(assistant.store, assistant.kb.lexical_dir)
    reloaded._build = lambda *a: pytest.fail("the saved index must be loaded, not rebuilt")
    sources = [r.source for r in assistant.sources()][:2]
    for query in QUERIES:
        for k, only in ((3, None), (50, None), (10, sources)):
            want = rebuilt.rank(query, k, only)
            assert assistant.lexical.rank(query, k, only) == want, (label, query, k)
            assert reloaded.rank(query, k, only) == want, (label, query, k)
    words = [w for q in QUERIES for w in tokenize([q], english_stemmer())[0]]
    assert assistant.lexical.unknown(words) == rebuilt.unknown(words) == reloaded.unknown(words)


def test_refresh_reads_only_changed_documents_and_ranks_as_a_rebuild(sample_home, make_assistant, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    assistant = make_assistant(home=home)
    shutil.rmtree(assistant.kb.lexical_dir, ignore_errors=True)  # whatever an earlier test saved in the sample home
    (assistant.kb.lexical_dir / "bm25").mkdir(parents=True)  # an index in the format before
    (assistant.kb.lexical_dir / "ids.json").write_text("{}")
    assert assistant.ask("Who denied involvement?").hits  # the first question builds the whole index
    assert not (assistant.kb.lexical_dir / "ids.json").exists(), "the older format's files are removed"
    assert (assistant.kb.lexical_dir / MANIFEST).is_file()
    read = []
    real_iter = assistant.store.iter_chunks

    def recording(versions=None):
        read.append(None if versions is None else dict(versions))
        return real_iter(versions)

    assistant.store.iter_chunks = recording
    assistant.lexical._build = lambda *a: pytest.fail("a small change must not rebuild the whole index")
    _same_as_rebuilt(assistant, tmp_path, "start")
    read.clear()

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "zanzibar.txt").write_text("Zanzibar cloves are harvested twice a year, in the dry months.\n")
    (notes / "ferry.txt").write_text("The ferry leaves at nine every morning and returns at six.\n")
    assistant.ingest([notes])
    assert assistant.ask("When are Zanzibar cloves harvested?").hits[0].chunk.source.endswith("zanzibar.txt")
    assert [sorted(v) for v in read] == [sorted(r.source for r in assistant.sources() if "/notes/" in r.source)]
    _same_as_rebuilt(assistant, tmp_path, "added")

    for label, act in (("updated", lambda: (notes / "ferry.txt").write_text("The ferry now leaves at ten.\n")),
                       ("removed", lambda: (notes / "zanzibar.txt").unlink())):
        read.clear()
        act()
        assistant.ingest([notes], prune=True)
        assistant.lexical.unknown([])
        assert read == ([{(notes / "ferry.txt").resolve().as_posix(): assistant.store.committed()[
            (notes / "ferry.txt").resolve().as_posix()]}] if label == "updated" else []), (label, read)
        _same_as_rebuilt(assistant, tmp_path, label)

    # a removal through the API, and a sample document replaced by another text under its source
    read.clear()
    victim = next(r.source for r in assistant.sources() if "/notes/" not in r.source)
    assistant.remove(victim)
    assistant.ingest_texts([(victim, "Peskov said the hackers were not Russian and the debate was absurd.")])
    assistant.lexical.unknown([])
    assert read == [{victim: assistant.store.committed()[victim]}]
    _same_as_rebuilt(assistant, tmp_path, "replaced")
    assert assistant.lexical.segments >= 2
