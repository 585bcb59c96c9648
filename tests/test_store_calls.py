"""Chroma round trips per question, counted; the shortcuts that save them change no result."""
from __future__ import annotations

import collections
import shutil

import pytest

from conftest import ROOT

MAX_CALLS_PER_QUESTION = 3
SIMPLE = "What did Peskov call the allegations?"  # one retrieval, no second look


class Counting:
    """A Chroma collection that counts every call made through it."""

    def __init__(self, inner, name: str, calls: collections.Counter):
        self._inner, self._name, self._calls = inner, name, calls

    def __getattr__(self, attr):
        value = getattr(self._inner, attr)
        if not callable(value):
            return value

        def counted(*args, **kwargs):
            self._calls[f"{self._name}.{attr}"] += 1
            return value(*args, **kwargs)

        return counted


def counted(assistant) -> collections.Counter:
    calls: collections.Counter = collections.Counter()
    connection = assistant.store._connection
    connection.chunks = Counting(connection.chunks, "chunks", calls)
    connection.docs = Counting(connection.docs, "documents", calls)
    return calls


@pytest.fixture
def fresh_home(sample_home, sample_assistant, tmp_path):
    """A copy of the sample home (its BM25 index saved): a store path no Store of this process has read yet."""
    sample_assistant.lexical.unknown([])  # builds and saves the BM25 index, as the first question after ingest does
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    return home


@pytest.fixture
def slow_machine(monkeypatch):
    """However slow the question, the generation is not read again within it."""
    from vectorstore.store.generation import Generations

    monkeypatch.setattr(Generations, "ttl", 600.0)


def test_a_cold_question_makes_at_most_3_store_calls(fresh_home, make_assistant, slow_machine):
    assistant = make_assistant(home=fresh_home)
    calls = counted(assistant)
    answer = assistant.ask(SIMPLE)
    assert not answer.abstained
    # the committed map and generation (1 listing), the dense search, the cited documents' texts
    assert sum(calls.values()) <= MAX_CALLS_PER_QUESTION, dict(calls)
    calls.clear()
    assistant.ask(SIMPLE)
    assert sum(calls.values()) <= 1, dict(calls)  # warm: only the dense search


def test_generation_is_read_once_per_question_with_second_looks(fresh_home, make_assistant, slow_machine):
    assistant = make_assistant(home=fresh_home)
    calls = counted(assistant)
    for question in ("Who denied involvement?", "Who is Sergey Markov?", "When was the hack revealed?"):
        calls.clear()
        answer = assistant.ask(question)
        searches = calls["chunks.query"]  # 1 + the answerer's second looks
        # at most one listing, then per retrieval a dense search and one read of documents not seen yet
        # (never the ~10 generation reads of before): 3 for a question with no second look
        assert sum(calls.values()) <= 1 + 2 * searches, (question, dict(calls), answer.notes)


def test_a_commit_in_this_process_is_seen_at_once_by_another_store(fresh_home, make_assistant, slow_machine,
                                                                    tmp_path):
    reader, writer = make_assistant(home=fresh_home), make_assistant(home=fresh_home)
    before = len(reader.store.committed())
    doc = tmp_path / "new.txt"
    doc.write_text("The zebra committee met on Tuesday to discuss the striped budget.\n")
    writer.ingest([doc])
    assert len(reader.store.committed()) == before + 1  # no waiting for the generation to expire
    assert any("zebra" in h.chunk.text for h in reader.ask("What did the zebra committee discuss?").hits)
    writer.remove(str(doc))
    assert len(reader.store.committed()) == before


def test_another_process_commit_is_seen_after_the_ttl(fresh_home, make_assistant, monkeypatch):
    from vectorstore.store import generation as generation_module

    reader = make_assistant(home=fresh_home)
    generation = reader.store.generation()
    # As if another process had committed: the shared cache is what this process remembers.
    generations = reader.store._generations
    generation_module._GENERATIONS[generations._key] = ("stale", 0.0, generations._disk_mark())
    monkeypatch.setattr(generation_module.Generations, "ttl", 0.0)
    assert reader.store.generation() == generation  # expired: read from Chroma again


def test_another_process_commit_is_seen_at_once_on_a_local_store(sample_home, tmp_path, make_assistant, monkeypatch):
    """The cached generation is trusted only while the store's sqlite files are unchanged (a stat, no call)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from vectorstore.store.generation import Generations

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    monkeypatch.setattr(Generations, "ttl", 3600.0)  # the time-based cache alone would hide it
    reader = make_assistant(home=home)
    assert reader.ask("Who is Dmitry Peskov?").citations
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zorblat.txt").write_text("The zorblat festival is held every March in Quentinville.\n")
    done = subprocess.run([str(Path(sys.executable).parent / "assistant"), "--home", str(home), "ingest", str(docs)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    zorblat = (docs / "zorblat.txt").resolve().as_posix()
    ranks = [h.dense_rank for h in reader.ask("When is the zorblat festival held?").hits if h.chunk.source == zorblat]
    assert ranks and None not in ranks  # seen on the next question, by meaning too


def test_on_a_chroma_server_each_question_reads_the_generation_once(chroma_server, sample_docs, make_assistant,
                                                                     tmp_path, slow_machine):
    """A replica answers its next question from another's commit, for one call per question (no TTL wait)."""
    writer = make_assistant(home=tmp_path / "writer", chroma_url=chroma_server.url)
    writer.ingest([sample_docs])
    reader = make_assistant(home=tmp_path / "reader", chroma_url=chroma_server.url)
    reader.lexical.unknown([])  # the replica's BM25 index, built once at its first question, is not counted
    calls = counted(reader)
    assert not reader.ask(SIMPLE).abstained
    assert sum(calls.values()) <= MAX_CALLS_PER_QUESTION, dict(calls)  # cold: the listing holds the generation
    calls.clear()
    reader.ask(SIMPLE)
    assert dict(calls) == {"documents.get": 1, "chunks.query": 1}  # warm: the generation, the dense search
    doc = tmp_path / "new.txt"
    doc.write_text("The zebra committee met on Tuesday to discuss the striped budget.\n")
    writer.ingest([doc])
    hits = reader.ask("What did the zebra committee discuss?").hits
    assert any("zebra" in h.chunk.text and h.dense_rank for h in hits)  # the very next question


def test_retrieve_equals_fusing_the_full_lists(sample_assistant):
    """Fetching only the fused top k's chunks that dense did not return gives fuse() on the full lists, chunk for chunk."""
    from assistant.retrieval import fuse

    retriever, s = sample_assistant.retriever, sample_assistant.settings.retrieval
    for query in ("Who denied involvement?", "Peskov allegations absurd", "debate election hack",
                  "What did Markov say about WikiLeaks?", "zzzz unknownword"):
        emb = sample_assistant.embedder.embed([query])[0]
        for k in (1, 6, 20):
            dense = sample_assistant.store.dense_search(emb, max(s.dense_k, k))
            ranked = sample_assistant.lexical.rank(query, max(s.bm25_k, k))
            want = fuse(dense, ranked, sample_assistant.lexical.rare(query, s.rare_term_chunks), k, s)[:k]
            got = retriever.retrieve(query, emb, k)
            assert [(h.chunk.id, round(h.score, 9), h.dense_rank, h.bm25_rank, h.bm25_score) for h in got] == \
                   [(r.id, round(r.score, 9), r.dense_rank, r.bm25_rank, r.bm25_score) for r in want], (query, k)
            chunks = sample_assistant.store.chunks([r.id for r in want])
            assert [h.chunk for h in got] == [chunks[r.id] for r in want]


def test_after_its_own_ingest_or_remove_a_process_lists_no_documents(fresh_home, make_assistant, slow_machine, tmp_path):
    """This process's own commit is applied to its map of committed documents: the next question lists nothing
    (at 100k chunks the listing took seconds), and the map is what a listing gives."""
    assistant = make_assistant(home=fresh_home)
    assistant.ask(SIMPLE)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "zorblat.txt").write_text("The zorblat festival is held every March in Quentinville.\n")
    zorblat = (notes / "zorblat.txt").resolve().as_posix()
    listed = []
    real = assistant.store._documents.listing
    assistant.store._documents.listing = lambda: listed.append(1) or real()

    def listing() -> tuple[dict, int]:
        records = real()[0]
        return {r.source: r.sha256 for r in records}, sum(r.chunks for r in records)

    assistant.ingest([notes])
    hits = assistant.ask("When is the zorblat festival held?").hits
    assert hits[0].chunk.source == zorblat and hits[0].dense_rank and hits[0].bm25_rank
    assistant.remove(zorblat)
    assert not any(h.chunk.source == zorblat for h in assistant.ask("When is the zorblat festival held?").hits)
    assert not listed
    assert (assistant.store.committed(), assistant.store._generations.visible) == listing()
