"""A local store that breaks under a running ingest or server: one StoreUnavailable at the store boundary, the
ingest stopped with one line (CLI exit 1, HTTP 503), /health saying so, and no stuck state once it is back.

Real processes and a real store: the home's chroma/ folder is deleted once the first documents are committed
(deleting works as root too, where a read-only chmod does not)."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from support import ApiServer, clean_env
from vectorstore.errors import StoreUnavailable

BIN = Path(sys.executable).parent / "assistant"
PARAGRAPH = "The harbour ferry leaves the north pier at noon and returns before the evening market closes. "


def _many_files(folder: Path, count: int = 120) -> Path:
    """`count` files of ~45 chunks each: several batches to commit, most chunks the same text (embedded once)."""
    folder.mkdir()
    for i in range(count):
        (folder / f"doc{i:03d}.txt").write_text(f"Notice {i} about the ferry timetable.\n\n" + PARAGRAPH * 400)
    return folder


def _commits(store: Path) -> int:
    """Commit records in a local store's sqlite file, read as another process would (0 while there is none)."""
    db = store / "chroma.sqlite3"
    if not db.is_file():
        return 0
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1)) as conn:
            return conn.execute("SELECT count(*) FROM embedding_metadata WHERE key = 'indexed_at'").fetchone()[0]
    except sqlite3.Error:  # being created
        return 0


def _delete_after_first_commit(store: Path, running) -> None:
    """Delete the store folder once the ingest has committed its first documents (`running()` while it runs)."""
    deadline = time.time() + 900  # a limit for a stuck test, not a speed assertion
    while running() and time.time() < deadline:
        if _commits(store):
            shutil.rmtree(store)
            return
        time.sleep(0.05)
    pytest.fail("the ingest ended before it committed anything")


def _stopped(store: Path) -> str:
    return (rf"The store failed during the ingest \(The store at {re.escape(str(store))} was deleted or replaced while "
            r"in use; restore it, or ingest again to make a new one\)\. Documents committed before it: \d+\. Run the "
            r"same ingest again, once the store is back, to finish the rest\.")


def test_the_cli_stops_at_the_first_store_failure_with_one_line(tmp_path):
    docs, home = _many_files(tmp_path / "docs"), tmp_path / "home"
    proc = subprocess.Popen([str(BIN), "--home", str(home), "ingest", str(docs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        _delete_after_first_commit(home / "chroma", lambda: proc.poll() is None)
        out, err = proc.communicate(timeout=900)
    finally:
        proc.kill()
    assert (proc.returncode, out) == (1, ""), err
    assert re.fullmatch(f"Error: {_stopped(home / 'chroma')}\n", err), err


def test_the_api_answers_503_and_health_says_the_store_is_down_until_it_is_back(tmp_path):
    docs, home = _many_files(tmp_path / "docs"), tmp_path / "home"
    store = home / "chroma"
    server = ApiServer(home, env=clean_env(ASSISTANT_SERVER__INGEST_ROOTS=json.dumps([str(tmp_path)])))
    try:
        replies = []
        ingest = threading.Thread(target=lambda: replies.append(
            httpx.post(f"{server.url}/ingest", json={"paths": [str(docs)]}, timeout=900)))
        ingest.start()
        _delete_after_first_commit(store, ingest.is_alive)
        ingest.join()
        assert replies[0].status_code == 503 and re.fullmatch(_stopped(store), replies[0].json()["error"])

        gone = (f"The store at {store} was deleted or replaced while in use; restore it, or ingest again to make a "
                "new one")
        health = httpx.get(f"{server.url}/health", timeout=60)
        assert (health.status_code, health.json()) == (503, {"status": "unavailable", "store": gone, "model": "ok"})
        ask = httpx.post(f"{server.url}/ask", json={"question": "When does the ferry leave?"}, timeout=60)
        assert (ask.status_code, ask.json()) == (503, {"error": gone})

        # Another process makes a new store in the home: the server follows it, nothing stays stuck.
        small = tmp_path / "small"
        small.mkdir()
        (small / "zorblat.txt").write_text("The zorblat festival is held every March in Quentinville.\n")
        made = subprocess.run([str(BIN), "--home", str(home), "ingest", str(small)], capture_output=True, text=True,
                              env=clean_env(), timeout=600)
        assert made.returncode == 0, made.stderr
        assert httpx.get(f"{server.url}/health", timeout=60).json() == {"status": "ok", "store": "ok", "model": "ok"}
        sources = httpx.get(f"{server.url}/sources", timeout=60).json()
        assert [s["source"] for s in sources] == [(small / "zorblat.txt").as_posix()]
        again = httpx.post(f"{server.url}/ingest", json={"paths": [str(small)]}, timeout=600)
        assert again.status_code == 200 and again.json()["unchanged"] == [(small / "zorblat.txt").as_posix()]
    finally:
        server.stop()


def test_an_ingest_into_a_deleted_store_makes_a_new_one(make_assistant, tmp_path):
    assistant = make_assistant(home=tmp_path / "home")
    assistant.ingest_texts([("notes/ferry", "The ferry leaves the harbour at nine every morning.")])
    shutil.rmtree(tmp_path / "home" / "chroma")
    gone = f"The store at {tmp_path / 'home' / 'chroma'} was deleted or replaced while in use"
    with pytest.raises(StoreUnavailable, match=f"^{re.escape(gone)}"):
        assistant.store.check()
    with pytest.raises(StoreUnavailable, match=f"^{re.escape(gone)}"):
        assistant.ask("When does the ferry leave?")
    report = assistant.ingest_texts([("notes/zorblat", "The zorblat festival is held every March.")])
    assert report.sources("added") == ["notes/zorblat"] and [r.source for r in assistant.sources()] == ["notes/zorblat"]
    assistant.store.check()
    assert assistant.ask("When is the zorblat festival held?").citations[0].source == "notes/zorblat"


def test_a_corrupt_store_is_one_line_and_a_bug_stays_a_bug(make_assistant, tmp_path):
    from chromadb.errors import InvalidArgumentError

    assistant = make_assistant(home=tmp_path / "home")
    assistant.ingest_texts([("notes/ferry", "The ferry leaves the harbour at nine every morning.")])
    with pytest.raises(InvalidArgumentError):  # a wrong call is not the store failing: never StoreUnavailable
        assistant.store._connection.chunks.get(where={"$bogus": 1})
    db = tmp_path / "home" / "chroma" / "chroma.sqlite3"
    with open(db, "r+b") as fh:  # the header overwritten: what a bad disk or a stray write leaves
        fh.write(b"\0" * 4096)
    failed = f"The store at {db.parent} failed: file is not a database"
    for call in (assistant.store.check, assistant.sources, lambda: assistant.ingest_texts([("notes/more", "The ferry is late.")])):
        with pytest.raises(StoreUnavailable) as err:
            call()
        assert failed in str(err.value)
