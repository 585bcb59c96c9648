"""The HTTP API on a real uvicorn server on 127.0.0.1."""
from __future__ import annotations

import json
import shutil
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from support import ANSWER_KEYS, CITATION_KEYS, ApiServer, free_port

EMPTY_INDEX = {"error": "Nothing is indexed yet: run `assistant ingest PATH`"}


@contextmanager
def serving(assistant):
    """The API over this assistant on a real uvicorn server; yields its base URL."""
    import uvicorn

    from assistant.api import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(sample_assistant):
    with serving(sample_assistant) as url:
        yield url


@pytest.fixture
def empty_api(make_assistant, tmp_path):
    """The API over a fresh, empty home; POST /ingest may read inside tmp_path."""
    with serving(make_assistant(server={"ingest_roots": [str(tmp_path)]})) as url:
        yield url


READY = {"status": "ok", "store": "ok", "model": "ok"}


def test_health(api):
    reply = httpx.get(f"{api}/health")
    assert (reply.status_code, reply.json()) == (200, READY)


def test_health_says_loading_until_the_model_is_loaded(sample_home):
    from assistant import Assistant

    assistant = Assistant.open(home=sample_home)  # its own embedder: the model loads when the server starts
    with serving(assistant) as api:
        first = httpx.get(f"{api}/health", timeout=60)
        deadline = time.time() + 300
        while first.status_code == 503 and time.time() < deadline:
            assert first.json() == {"status": "unavailable", "store": "ok", "model": "loading"}
            time.sleep(0.2)
            first = httpx.get(f"{api}/health", timeout=60)
        assert (first.status_code, first.json()) == (200, READY)


def test_ask_returns_the_answer_contract(api):
    reply = httpx.post(f"{api}/ask", json={"question": "What did Peskov call the allegations?"}, timeout=60)
    assert reply.status_code == 200
    data = reply.json()
    assert "absolute nonsense" in data["answer"] and data["citations"][0]["n"] == 1
    # The same object as `assistant ask --json` (docs/design.md, "The JSON answer").
    assert set(data) == ANSWER_KEYS
    assert set(data["citations"][0]) == CITATION_KEYS


def test_follow_up_over_http(api):
    reply = httpx.post(f"{api}/ask", json={"question": "What did he say about WikiLeaks?",
                                           "history": [["Who is Sergey Markov?", "Sergey Markov is an adviser."]]},
                       timeout=60)
    assert "Markov" in reply.json()["query"]


@pytest.mark.parametrize("body, status, error", [
    ({"question": "  "}, 422, "The question is empty: type a question about your documents."),
    ({"question": "Who?", "sources": ["nope.txt"]}, 404,
     "No indexed source matches 'nope.txt'. Run `assistant sources` to list them."),
])
def test_errors_are_json(api, body, status, error):
    reply = httpx.post(f"{api}/ask", json=body, timeout=60)
    assert (reply.status_code, reply.json()) == (status, {"error": error})


def test_sources_and_openapi(api):
    assert len(httpx.get(f"{api}/sources").json()) == 5
    assert "/ask" in httpx.get(f"{api}/openapi.json").json()["paths"]


def test_ask_on_an_empty_index_is_409(empty_api):
    reply = httpx.post(f"{empty_api}/ask", json={"question": "Who denied involvement?"}, timeout=60)
    assert (reply.status_code, reply.json()) == (409, EMPTY_INDEX)
    assert httpx.get(f"{empty_api}/sources").json() == []


def test_ingest_over_http(empty_api, sample_docs, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(sample_docs / "004_7bdcd2d0aef0b556.txt", docs)
    reply = httpx.post(f"{empty_api}/ingest", json={"paths": [str(docs)]}, timeout=300)
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "skipped", "chunks", "seconds"}
    source = str((docs / "004_7bdcd2d0aef0b556.txt").resolve())
    assert report["added"] == [source] and report["failed"] == [] and report["chunks"] > 0
    answer = httpx.post(f"{empty_api}/ask", json={"question": "Who is Sergey Markov?"}, timeout=60).json()
    assert answer["abstained"] is False and {c["source"] for c in answer["citations"]} == {source}

    missing = tmp_path / "no" / "such" / "folder"
    bad = httpx.post(f"{empty_api}/ingest", json={"paths": [str(missing)]}, timeout=60)
    assert (bad.status_code, bad.json()) == (404, {"error": f"No such file or folder: {missing}"})
    assert [r["source"] for r in httpx.get(f"{empty_api}/sources").json()] == [source]  # nothing lost


def test_a_chroma_server_that_stops_is_503(make_assistant, chroma_server, sample_docs):
    assistant = make_assistant(chroma_url=chroma_server.url, server={"ingest_roots": [str(sample_docs)]})
    chroma_server.stop()
    url = chroma_server.url
    unreachable = {"error": f"Cannot reach the Chroma server at {url}: is `chroma run` running?"}
    with serving(assistant) as api:
        for reply in (httpx.post(f"{api}/ask", json={"question": "Who denied involvement?"}, timeout=60),
                      httpx.get(f"{api}/sources", timeout=60),
                      httpx.post(f"{api}/ingest", json={"paths": [str(sample_docs / "001_0c9caba1aff1c6c0.txt")]},
                                 timeout=60)):
            assert (reply.status_code, reply.json()) == (503, unreachable)
        health = httpx.get(f"{api}/health", timeout=60)  # the API is alive, and says it is not ready
        assert (health.status_code, health.json()) == (503, {"status": "unavailable", "store": unreachable["error"],
                                                             "model": "ok"})


def test_tampered_model_is_503(sample_home, tampered_model):
    from assistant import Assistant

    model_dir, weights, _ = tampered_model
    with serving(Assistant.open(home=sample_home, model_dir=model_dir)) as api:
        reply = httpx.post(f"{api}/ask", json={"question": "Who denied involvement?"}, timeout=60)
        health = httpx.get(f"{api}/health", timeout=60)
    assert reply.status_code == 503
    assert reply.json()["error"].startswith(f"{weights} is not the official all-MiniLM-L6-v2 (sha256 ")
    assert (health.status_code, health.json()) == (503, {"status": "unavailable", "store": "ok",
                                                         "model": reply.json()["error"]})


@pytest.mark.parametrize("body, error", [
    (b'{"question": "Who denied involvement?", "top_k": NaN}',
     "Invalid request: top_k: Input should be a finite number"),
    (b'{"question": "Who denied involvement?", "top_k": Infinity}',
     "Invalid request: top_k: Input should be a finite number"),
    (b'{"question": "Who denied involvement?", "top_k": -Infinity}',
     "Invalid request: top_k: Input should be a finite number"),
    (b'{"question": "Who denied involvement?", "top_k": 1e999}',
     "Invalid request: top_k: Input should be a finite number"),
    (b'{"question": "Who denied involvement?", "top_k": 2.5}',
     "Invalid request: top_k: Input should be a valid integer, got a number with a fractional part"),
    (b'{"question": "Who denied \\ud800 involvement?"}',
     "The question is not valid UTF-8 text (U+D800 at character 12): send or type it as UTF-8"),
    (b'{"question": "Who?", "history": [["Who is \\udcff?", "Markov."]]}',
     "The history is not valid UTF-8 text (U+DCFF at character 8): send or type it as UTF-8"),
    (b'{"question": ', "Invalid request: the body is not valid JSON (at position 13)"),
    (b'{"top_k": 3}', "Invalid request: question: Field required"),
    (b'{"question": "Who denied involvement?", "top_k": 0}',
     "Invalid request: top_k: Input should be greater than or equal to 1"),
    (b'{"question": "Who denied involvement?", "top_k": 51}',  # [retrieval] top_k's bound, TOP_K_MAX
     "Invalid request: top_k: Input should be less than or equal to 50"),
])
def test_bad_ask_bodies_are_one_line_422(api, body, error):
    reply = httpx.post(f"{api}/ask", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert (reply.status_code, reply.json()) == (422, {"error": error})


def test_a_body_that_is_not_utf8_or_nested_too_deeply_is_one_line(api):
    reply = httpx.post(f"{api}/ask", content=b'{"question": "Who denied \xff involvement?"}',
                       headers={"content-type": "application/json"}, timeout=60)
    assert (reply.status_code, reply.json()) == (400, {"error": "Invalid request: the body is not valid UTF-8 JSON"})
    deep = httpx.post(f"{api}/ask", content=b"[" * 50_000 + b"]" * 50_000, headers={"content-type": "application/json"},
                      timeout=60)
    assert (deep.status_code, deep.json()) == (400, {"error": "Invalid request: the body's JSON is nested too deeply"})
    missing = httpx.get(f"{api}/nope", timeout=60)
    assert (missing.status_code, missing.json()) == (404, {"error": "Not Found"})


def test_a_fifo_or_device_is_refused_and_the_server_stays_responsive(make_assistant, tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    with serving(make_assistant(server={"ingest_roots": [str(tmp_path), "/dev"]})) as empty_api:
        _refuse_fifos(empty_api, tmp_path)


def _refuse_fifos(empty_api, tmp_path):
    # More requests than the server has worker threads: before the fix each one hung a thread for ever.
    for path, kind in [(tmp_path / "pipe.txt", "pipe.txt: not a regular file (a named pipe)"),
                       ("/dev/zero", "zero: not a regular file (a character device)")] * 25:
        reply = httpx.post(f"{empty_api}/ingest", json={"paths": [str(path)]}, timeout=60)
        assert (reply.status_code, reply.json()) == (400, {"error": f"{kind}; only regular files are ingested"})
    assert httpx.get(f"{empty_api}/health", timeout=60).status_code == 200


def test_a_store_that_dies_mid_ingest_is_503(make_assistant, chroma_server, sample_docs, monkeypatch):
    from test_sync import _stop_after_first_commit

    monkeypatch.setattr("ingest.sync.BATCH_CHUNKS", 1)
    assistant = make_assistant(chroma_url=chroma_server.url, server={"ingest_roots": [str(sample_docs)]})
    _stop_after_first_commit(assistant, chroma_server)
    with serving(assistant) as api:
        reply = httpx.post(f"{api}/ingest", json={"paths": [str(sample_docs)]}, timeout=300)
        assert (reply.status_code, reply.json()) == (503, {"error": (
            f"The store failed during the ingest (Cannot reach the Chroma server at {chroma_server.url}: is `chroma "
            "run` running?). Documents committed before it: 1. Run the same ingest again, once the store is back, to "
            "finish the rest.")})
        assert httpx.get(f"{api}/health", timeout=60).status_code == 503


# ---------------------------------------------------------------- a running server and another process's ingest

def _cli(*args, home):
    import os
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([str(Path(sys.executable).parent / "assistant"), "--home", str(home), *args],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _dense_ranks(answer: dict, source: str) -> list:
    return [h["dense_rank"] for h in answer["hits"] if h["source"] == source]


def test_a_running_server_sees_what_another_process_ingested(sample_home, tmp_path):
    import os

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    server = ApiServer(home, env={**os.environ, "HF_HUB_OFFLINE": "1",
                                  "ASSISTANT_SERVER__INGEST_ROOTS": json.dumps([str(tmp_path / "docs")])})
    api = server.url
    try:
        assert httpx.post(f"{api}/ask", json={"question": "Who is Dmitry Peskov?"}, timeout=120).status_code == 200

        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "zorblat.txt").write_text("The zorblat festival is held every March in Quentinville. "
                                          "Its mascot is a purple llama.\n")
        assert _cli("ingest", str(docs), home=home).returncode == 0  # another process writes
        zorblat = (docs / "zorblat.txt").resolve().as_posix()

        answer = httpx.post(f"{api}/ask", json={"question": "When is the zorblat festival held?"}, timeout=120).json()
        ranks = _dense_ranks(answer, zorblat)
        assert ranks and None not in ranks, answer["hits"]  # found by meaning too, not by keyword alone

        # The server's own write lands on top of the other process's, not over it.
        (docs / "ferry.txt").write_text("The Quentinville ferry leaves the harbour at nine every morning.\n")
        assert httpx.post(f"{api}/ingest", json={"paths": [str(docs)]}, timeout=300).status_code == 200
        fresh = json.loads(_cli("ask", "When is the zorblat festival held?", "--json", home=home).stdout)
        assert None not in _dense_ranks(fresh, zorblat) and _dense_ranks(fresh, zorblat)
    finally:
        server.stop()
