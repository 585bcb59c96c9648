"""Fusion of the dense and BM25 rankings: the exact holder of a rare query term comes first, meaning still orders."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from assistant.retrieval import fuse
from assistant.settings import RetrievalSettings
from bench.soak import write_doc
from vectorstore.records import Chunk, Hit

TOPICS = ("The nightly backup of the billing database failed after the disk filled up and the job was restarted.",
          "A user reported an error when uploading a large invoice; the web server returned a timeout.",
          "The parser rejects configuration files whose keys are not quoted and logs a warning.",
          "After the upgrade the login page showed an error until the session cache was cleared.",
          "The printer on the second floor keeps jamming when it prints double-sided reports.",
          "Memory use of the search service grew slowly until the process was killed overnight.",
          "The mobile app crashes on start when the device language is set to Turkish.",
          "An expired certificate made the payment gateway refuse every connection for an hour.")
CODE = "QX7137"  # the error code of doc137 alone


def _chunk(cid: str) -> Chunk:
    return Chunk(id=cid, doc_id=cid, source=f"/{cid}.txt", title=cid, chunk_index=0, start=0, end=1, text="x")


def test_a_chunk_missing_from_a_ranking_counts_as_past_the_depth_asked_of_it():
    """BM25 matches one chunk, 29th by meaning: it beats the dense-only hits, which are not all nearly as good."""
    s = RetrievalSettings(rare_term_chunks=0)
    dense = [Hit(_chunk(f"c{i}"), 0.0, dense_rank=i) for i in range(1, 51)]
    fused = fuse(dense, [("c29", 7.5)], set(), 50, s)
    assert [row.id for row in fused[:2]] == ["c29", "c1"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 89)
    assert fused[1].score == pytest.approx(1 / 61 + 1 / (60 + s.bm25_k + 1))  # past bm25_k, not past the list of 1
    assert (fused[0].dense_rank, fused[0].bm25_rank, fused[0].bm25_score) == (29, 1, 7.5)


def _corpus(folder: Path, n: int = 200) -> Path:
    """n short incident notes from a few topics, each with its own error code (only doc137 holds CODE), and two
    near-duplicates sharing the identifier 'route 2B'."""
    rng = random.Random(5)
    folder.mkdir()
    for i in range(n):
        (folder / f"doc{i:03d}.txt").write_text(f"Incident {i}, error QX{7000 + i}. " + " ".join(rng.sample(TOPICS, 3)))
    for name, cause in (("storm", "a violent storm"), ("strike", "a crew strike")):  # equal BM25 lengths
        (folder / f"{name}.txt").write_text(f"The Orvane ferry on route 2B was cancelled on Friday because of {cause}.\n")
    return folder


@pytest.fixture(scope="module")
def incidents(tmp_path_factory, embedder):
    from assistant import Assistant

    docs = _corpus(tmp_path_factory.mktemp("incidents") / "notes")
    assistant = Assistant.open(home=tmp_path_factory.mktemp("home"), embedder=embedder)
    assert len(assistant.ingest([docs]).sources("added")) == 202
    return assistant, docs


@pytest.mark.parametrize("question", [CODE, f"What does error {CODE} mean?", f"the nightly backup failed with {CODE}",
                                      f"login page error {CODE} after the upgrade", f"the app crashes on start, {CODE}"])
def test_a_unique_token_in_1_of_200_documents_ranks_that_document_first(incidents, question):
    """Even when the rest of the question is about other notes (the fusion before issue 22 put it 14th to 25th)."""
    assistant, docs = incidents
    hits = assistant.ask(question).hits
    assert hits[0].chunk.source == (docs / "doc137.txt").resolve().as_posix(), [h.chunk.source for h in hits]
    assert hits[0].score > hits[1].score


def test_a_near_duplicate_pair_sharing_an_identifier_is_still_ordered_by_meaning(incidents):
    """Both hold 'route 2B' (a rare identifier: both come first) and BM25 cannot tell them apart: meaning orders them."""
    assistant, _ = incidents
    for question, first in (("Was the ferry on route 2B stopped by bad weather?", "storm.txt"),
                            ("Why did the ferry on route 2B stop, did the workers walk out?", "strike.txt")):
        assert len({score for _, score in assistant.lexical.rank(question, 2)}) == 1  # equal BM25 scores
        hits = assistant.ask(question, top_k=2).hits
        assert [Path(h.chunk.source).name for h in hits] == [first, ({"storm.txt", "strike.txt"} - {first}).pop()]


@pytest.mark.parametrize("rare_term_chunks", [0, 5])
def test_the_soaks_code_words_find_their_documents(tmp_path, make_assistant, rare_term_chunks):
    """bench/soak.py's dense check at --files 40: `soakword{n}x` brings document n first, with a dense rank;
    missing = past the depth does it alone (rare_term_chunks 0)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(40):
        write_doc(docs / f"doc{n:03d}.txt", n, 0)
    assistant = make_assistant(retrieval={"rare_term_chunks": rare_term_chunks})
    assistant.ingest([docs])
    for n in range(40):
        hits = assistant.ask(f"soakword{n}x").hits
        assert hits[0].chunk.source == (docs / f"doc{n:03d}.txt").resolve().as_posix() and hits[0].dense_rank, n


def test_rare_terms_are_counted_in_the_whole_index_and_their_chunks_kept_to_the_sources_asked(incidents):
    assistant, docs = incidents

    def names(ids: set[str]) -> list[str]:
        return sorted(Path(c.source).name for c in assistant.store.chunks(list(ids)).values()) if ids else []

    assert names(assistant.lexical.rare(f"{CODE} error route 2B", 5)) == ["doc137.txt", "storm.txt", "strike.txt"]
    assert names(assistant.lexical.rare("violent storm", 5)) == ["storm.txt"]  # any word found in one chunk
    assert names(assistant.lexical.rare("Orvane ferry Friday", 5)) == []  # words (no digit, no underscore) in two chunks
    assert names(assistant.lexical.rare(f"{CODE} route 2B", 1)) == ["doc137.txt"]  # '2b' is in two chunks
    assert names(assistant.lexical.rare(f"{CODE} route 2B", 5, [(docs / "strike.txt").resolve().as_posix()])) == \
           ["strike.txt"]
    assert assistant.lexical.rare(f"{CODE} route 2B", 0) == set()
