"""The ingest pipeline: files read once, loading/chunking ahead of embedding in a thread, bounded slices."""
from __future__ import annotations

import shutil
import threading
import time

import pytest

from conftest import SAMPLE


def test_prefetch_keeps_order_and_reports_each_failure():
    from ingest.sync import _prefetch

    def work(n):
        if n % 3 == 0:
            raise ValueError(f"bad {n}")
        return n * 10

    got = list(_prefetch(range(10), work, depth=2))
    assert [item for item, _, _ in got] == list(range(10))
    assert [out for n, out, _ in got if n % 3] == [n * 10 for n in range(10) if n % 3]
    assert all(str(err) == f"bad {n}" for n, _, err in got if n % 3 == 0)


def test_prefetch_stops_its_thread_when_the_consumer_stops():
    from ingest.sync import _prefetch

    produced = []

    def work(n):
        produced.append(n)
        return n

    before = threading.active_count()
    for item, _, _ in _prefetch(range(10_000), work, depth=4):
        if item == 5:
            break
    time.sleep(0.3)
    assert threading.active_count() == before
    assert len(produced) < 100  # it ran a few items ahead, not through the whole input


def test_loading_and_chunking_overlap_embedding(make_assistant, tmp_path):
    """While the model embeds one batch, the next documents are being chunked in another thread."""
    from ingest import sync

    assistant = make_assistant()
    threads = set()
    chunk = assistant.ingestor.chunker.chunk

    def spy(doc):
        threads.add(threading.current_thread().name)
        return chunk(doc)

    assistant.ingestor.chunker.chunk = spy
    report = assistant.ingest_texts([(f"doc-{i}", f"Document {i} talks about topic {i}. " * 20) for i in range(40)])
    assert len(report.sources("added")) == 40
    assert threads == {"ingest-prepare"}
    assert sync.PREFETCH >= 2


def test_each_file_is_read_once(make_assistant, tmp_path, monkeypatch):
    from ingest import readers, sync

    docs = tmp_path / "docs"
    shutil.copytree(SAMPLE, docs)
    reads = []
    real = readers.read_bytes

    def counting(path, *limit):  # main's read_bytes also takes the [ingest] size limit
        reads.append(path.name)
        return real(path, *limit)

    monkeypatch.setattr(sync, "read_bytes", counting)
    monkeypatch.setattr(readers, "read_bytes", counting)
    opened = []
    real_sha = sync.capped_sha256
    monkeypatch.setattr(sync, "capped_sha256", lambda path, *limit: opened.append(path) or real_sha(path, *limit))
    assistant = make_assistant()
    report = assistant.ingest([docs])
    assert len(report.sources("added")) == 5
    assert sorted(reads) == sorted(p.name for p in docs.iterdir()) and not opened  # once each, hashed from it
    reads.clear()
    again = assistant.ingest([docs])
    assert len(again.sources("unchanged")) == 5
    assert len(reads) == 5  # unchanged: read (to hash) once, not loaded


def test_a_big_document_is_embedded_in_slices(make_assistant, monkeypatch):
    from ingest import sync

    monkeypatch.setattr(sync, "WRITE_SLICE", 8)
    assistant = make_assistant(chunk={"size": 32, "overlap": 0})
    sizes = []
    embed = assistant.embedder.embed

    def spy(texts, on_batch=None):
        sizes.append(len(texts))
        return embed(texts, on_batch)

    monkeypatch.setattr(assistant.embedder, "embed", spy)
    text = " ".join(f"Sentence number {i} is about the harbour ledger." for i in range(120))
    report = assistant.ingest_texts([("big", text)])
    assert report.chunks > 16 and max(sizes) <= 8
    assert assistant.store.count() == report.chunks
    hits = assistant.retriever.retrieve("harbour ledger", assistant.embedder.embed(["harbour ledger"])[0], 5)
    assert hits and all(h.chunk.source == "big" for h in hits)


@pytest.mark.parametrize("count", [1, 3])
def test_failures_while_preparing_are_reported_per_document(make_assistant, count):
    assistant = make_assistant()
    items = [("empty", "   ")] * count + [("ok", "A real sentence about the bay.")]
    report = assistant.ingest_texts(items)
    assert report.sources("added") == ("ok",) or list(report.sources("added")) == ["ok"]
    assert [r.source for r in report.failed] == ["empty"] * count


TRICKY = ("Dr. Smith met Mr. Jones at 3 p.m. on Jan. 5. They spoke of the U.S. economy, e.g. jobs. "
          "\"Is it over?\" he asked. \"No!\" she said.\nA new line starts here... and goes on. "
          "Numbers like 3.14 and v2.0 stay put. (Parenthetical sentence.) Last one ends without a stop")


def test_chunks_are_cut_exactly_as_llama_indexs_default_sentence_splitter(embedder):
    """The chunker's sentence cuts are the ones SentenceSplitter makes by default (which imports all of
    nltk for them): the same chunks, with a light import."""
    from llama_index.core.node_parser import SentenceSplitter

    from ingest.chunking import Chunker

    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))] + [TRICKY * 40]
    ours = Chunker(60, 12, embedder.count_tokens)._splitter
    default = SentenceSplitter(chunk_size=60, chunk_overlap=12, tokenizer=embedder.count_tokens,
                               include_metadata=False)
    for text in texts:
        assert ours.split_text(text) == default.split_text(text)
    assert len(ours.split_text(texts[-1])) > 40


def test_chunking_does_not_import_all_of_nltk():
    import subprocess
    import sys

    code = ("import sys; from ingest.chunking import Chunker; from ingest.documents import Document; "
            "c = Chunker(60, 12, str.split).chunk(Document('s', 't', 'Dr. Smith left. He came back. ' * 50, 'x')); "
            "print(len(c), sorted(m for m in sys.modules if m == 'nltk' or m.startswith('nltk.corpus')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 1 and out[1] == "[]"
