"""A home keeps the embedding precision it was indexed with: a new home takes the setting (int8 by default),
fp32 homes stay fp32 when the setting says int8, int8 homes stay int8 when it says fp32, and a store made
before precision was recorded is fp32. Answerers embed sentences in fp32 whatever the index's precision."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from vectorstore.store import EMBEDDING_KEY, Store, open_client, peek_embedding

QUESTION = "What did Peskov call the allegations?"
EXTRA = "Appended later: the Kremlin spokesman said the report was written in a hurry by people who know little."


def stored_vectors(assistant, source: str) -> tuple[list[str], np.ndarray]:
    """(texts, vectors) of a document's chunks as the store holds them."""
    got = assistant.store._connection.chunks.get(where={"source": source}, include=["documents", "embeddings"])
    return got["documents"], np.asarray(got["embeddings"], dtype=np.float32)


def same_hits(a, b) -> bool:
    return [(h.chunk.id, round(h.score, 6)) for h in a.hits] == [(h.chunk.id, round(h.score, 6)) for h in b.hits]


def made_with(assistant, embedder, source: str) -> str:
    """Which variant made a document's stored vectors: the one they match to float precision."""
    texts, vectors = stored_vectors(assistant, source)
    cosines = {name: float((vectors * embedder.with_precision(name).embed(texts)).sum(axis=1).min())
               for name in ("fp32", "int8")}
    matching = [name for name, cosine in cosines.items() if cosine >= 0.99999]
    assert len(matching) == 1, cosines
    return matching[0]


@pytest.fixture(scope="module")
def fp32_home(tmp_path_factory, embedder, sample_docs):
    """The sample corpus in a home made with [model] precision = "fp32" (the default before issue 19)."""
    from assistant import Assistant

    home = tmp_path_factory.mktemp("fp32-home")
    Assistant.open(home=home, embedder=embedder, model={"precision": "fp32"}).ingest([sample_docs])
    return home


def test_a_new_home_is_int8_by_default(sample_home, sample_assistant, embedder):
    assert peek_embedding(sample_home / "chroma") == "int8"
    assert sample_assistant.store.precision == "int8" and sample_assistant.embedder is embedder.with_precision("int8")
    assert sample_assistant.answer_embedder is embedder  # the answerer's sentences stay fp32


def test_an_fp32_home_stays_fp32_when_the_setting_says_int8(fp32_home, make_assistant, embedder, tmp_path, caplog):
    home = tmp_path / "home"
    shutil.copytree(fp32_home, home)
    assert peek_embedding(home / "chroma") == "fp32"
    with caplog.at_level("WARNING"):
        quiet = make_assistant(home)  # the default setting: an older home is no news
    assert quiet.store.precision == "fp32" and not [r for r in caplog.records if "precision" in r.getMessage()]
    with caplog.at_level("WARNING"):
        assistant = make_assistant(home, model={"precision": "int8"})
        make_assistant(home, model={"precision": "int8"})  # a second open in this process: said once
    assert assistant.store.precision == "fp32" and assistant.embedder is embedder
    notes = [r.getMessage() for r in caplog.records if "precision" in r.getMessage()]
    assert len(notes) == 1 and "built with fp32 embeddings" in notes[0] and "fresh home" in notes[0], notes
    assert same_hits(assistant.ask(QUESTION), quiet.ask(QUESTION))

    extra = tmp_path / "docs" / "extra.txt"
    extra.parent.mkdir()
    extra.write_text(EXTRA)
    assistant.ingest([extra])  # appending to it embeds with fp32 too
    assert made_with(assistant, embedder, _source(assistant, "extra.txt")) == "fp32"


def test_an_int8_home_stays_int8_when_the_setting_says_fp32(sample_docs, make_assistant, embedder, tmp_path, caplog):
    home = tmp_path / "home"
    bot8 = make_assistant(home, model={"precision": "int8"})  # a new home takes the setting
    assert bot8.store.precision == "int8" and bot8.embedder.precision == "int8"
    bot8.ingest([sample_docs])
    assert peek_embedding(home / "chroma") == "int8"
    source = bot8.sources()[0].source
    assert made_with(bot8, embedder, source) == "int8"

    # The index's vectors are int8; the answerer's sentences are fp32 (the answerability model's own).
    assert bot8.answerer.embedder is embedder and bot8.answer_embedder is embedder
    with caplog.at_level("WARNING"):
        assistant = make_assistant(home, model={"precision": "fp32"})
    assert assistant.store.precision == "int8" and assistant.embedder is embedder.with_precision("int8")
    assert assistant.answerer.embedder is embedder and assistant.with_answerer("extractive").answerer.embedder is embedder
    assert "built with int8 embeddings" in caplog.text
    assert same_hits(assistant.ask(QUESTION), bot8.ask(QUESTION))
    extra = tmp_path / "docs" / "extra.txt"
    extra.parent.mkdir()
    extra.write_text(EXTRA)
    assistant.ingest([extra])
    assert made_with(assistant, embedder, _source(assistant, "extra.txt")) == "int8"


def test_each_knowledge_base_keeps_its_own_precision(make_assistant, embedder, tmp_path, caplog):
    from assistant import kb

    home = tmp_path / "home"
    assistant = make_assistant(home, model={"precision": "fp32"})
    kb.create(assistant.with_answerer("extractive").settings.model_copy(
        update={"model": assistant.settings.model.model_copy(update={"precision": "int8"})}), "fast")
    assert peek_embedding(home / "chroma", "assistant_kb_fast") == "int8"
    with caplog.at_level("WARNING"):
        fast = assistant.with_kb("fast")
    assert fast.store.precision == "int8" and fast.embedder is embedder.with_precision("int8")
    assert fast.answerer is assistant.answerer  # shared by every base, in fp32
    assert "knowledge base fast) was built with int8" in caplog.text and "assistant kb create" in caplog.text
    fast.ingest_texts([("zorblat.txt", "The zorblat festival is held every March in Quentinville.", "Zorblat")])
    assert made_with(fast, embedder, "zorblat.txt") == "int8"
    assert "March" in fast.ask("When is the zorblat festival held?").text
    assert assistant.store.precision == "fp32" and assistant.with_kb("default").embedder is embedder


def test_a_store_made_before_precision_was_recorded_is_fp32(tmp_path):
    path = tmp_path / "chroma"
    # What a store of an earlier version holds: the chunk collection without the record.
    open_client(path=path).get_or_create_collection("assistant_chunks", embedding_function=None,
                                                    metadata={"hnsw:space": "cosine"})
    assert peek_embedding(path) == "fp32"
    store = Store.open(path=path, precision="int8")
    assert store.precision == "fp32"
    assert EMBEDDING_KEY not in (store._connection.chunks.metadata or {})  # opening it changes nothing
    assert peek_embedding(tmp_path / "none") is None


def test_an_int8_eval_gets_its_own_cached_store(tmp_path, embedder, monkeypatch):
    from evals.command import evaluate
    from test_evals import beir_dir

    root = beir_dir(tmp_path / "tiny-beir")
    monkeypatch.setenv("ASSISTANT_MODEL__PRECISION", "fp32")
    fp32 = evaluate(root, cache_dir=tmp_path / "cache", embedder=embedder)
    monkeypatch.setenv("ASSISTANT_MODEL__PRECISION", "int8")
    int8 = evaluate(root, cache_dir=tmp_path / "cache", embedder=embedder)
    assert fp32["store"]["index"] != int8["store"]["index"]
    homes = {h.name: peek_embedding(h / "chroma") for h in (tmp_path / "cache").iterdir()}
    assert homes == {fp32["store"]["index"]: "fp32", int8["store"]["index"]: "int8"}
    assert fp32["systems"]["assistant"]["settings"]["model"] == {"precision": "fp32"}
    assert int8["systems"]["assistant"]["settings"]["model"] == {"precision": "int8"}
    assert "int8 index embeddings" in int8["systems"]["assistant"]["description"]
    assert json.loads((tmp_path / "cache" / int8["store"]["index"] / "eval-ready.json").read_text())["documents"] == 3


def _source(assistant, name: str) -> str:
    return next(r.source for r in assistant.sources() if r.source.endswith(name))
