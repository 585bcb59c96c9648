"""Sync: the issue's done-when sequence, bad inputs, and interrupted runs, on a real Chroma + MiniLM."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ingest.errors import NothingToIngest, PathNotFound
from test_loading import blank_pdf, encrypted, pdf_with_text

NOBODY = 65534


def _counting(assistant):
    """Wrap the real embedder so a test can see whether any embedding work happened."""
    calls = []
    real = assistant.embedder.embed
    assistant.ingestor.embedder = type("Counting", (), {"embed": lambda self, texts, on_batch=None:
                                                  calls.append(len(texts)) or real(texts, on_batch)})()
    return calls


@pytest.fixture
def docs(tmp_path, sample_docs):
    target = tmp_path / "sample"
    shutil.copytree(sample_docs, target)
    return target


def test_sample_added_then_unchanged_updated_removed(make_assistant, docs):
    assistant = make_assistant()
    first = assistant.ingest([docs]).to_dict()
    assert len(first["added"]) == 5 and first["failed"] == [] and first["chunks"] > 0

    calls = _counting(assistant)
    again = assistant.ingest([docs]).to_dict()
    assert len(again["unchanged"]) == 5 and again["added"] == [] and again["chunks"] == 0
    assert calls == [], "re-ingesting unchanged files must embed nothing"

    edited = docs / "001_0c9caba1aff1c6c0.txt"
    edited.write_text(edited.read_text() + "\nA new closing line about the Kremlin.\n")
    update = assistant.ingest([docs]).to_dict()
    assert update["updated"] == [edited.resolve().as_posix()] and len(update["unchanged"]) == 4

    gone = docs / "004_7bdcd2d0aef0b556.txt"
    gone.unlink()
    kept = assistant.ingest([docs]).to_dict()
    assert kept["removed"] == [] and len(assistant.sources()) == 5, "without --prune nothing is removed"
    pruned = assistant.ingest([docs], prune=True).to_dict()
    assert pruned["removed"] == [gone.resolve().as_posix()]
    assert len(assistant.sources()) == 4
    # The store holds exactly the chunks its records claim: the update left no stale chunks.
    assert assistant.store._connection.chunks.count() == sum(r.chunks for r in assistant.sources())


def test_same_file_through_another_path_is_not_duplicated(make_assistant, docs, monkeypatch):
    assistant = make_assistant()
    assistant.ingest([docs])
    monkeypatch.chdir(docs.parent)
    report = assistant.ingest(["sample/../sample/000_8bc013782648c3d5.txt"]).to_dict()
    assert len(report["unchanged"]) == 1 and len(assistant.sources()) == 5


def test_same_name_in_two_folders_stays_two_sources(make_assistant, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / "docs" / folder).mkdir(parents=True)
        (tmp_path / "docs" / folder / "notes.txt").write_text(f"Notes from folder {folder} about the budget.\n")
    assistant = make_assistant()
    report = assistant.ingest([tmp_path / "docs"])
    assert len(report.sources("added")) == 2
    assert {r.source.rsplit("/", 2)[-2] for r in assistant.sources()} == {"a", "b"}


def _folder(path, files=()):
    path.mkdir()
    for name in files:
        (path / name).write_bytes(b"\x89PNG")
    return path


@pytest.mark.parametrize("make_path, message", [
    (lambda p: p / "missing", "No such file or folder: {path}"),
    (lambda p: _folder(p / "empty"), "Folder is empty: {path}"),
    (lambda p: _folder(p / "pics", ["a.gif"]),
     "No supported files in {path} (supported: .csv, .docx, .eml, .epub, .htm, .html, .jpeg, .jpg, .markdown, .md, "
     ".pdf, .png, .pptx, .tif, .tiff, .txt, .xlsx, and plain text without an extension)"),
])
def test_bad_paths_fail_whole_and_lose_nothing(make_assistant, docs, tmp_path, make_path, message):
    assistant = make_assistant()
    assistant.ingest([docs])
    before = [(r.source, r.sha256) for r in assistant.sources()]
    bad = make_path(tmp_path)
    with pytest.raises((PathNotFound, NothingToIngest)) as err:
        assistant.ingest([docs, bad], prune=True)
    assert str(err.value) == message.format(path=bad)
    assert [(r.source, r.sha256) for r in assistant.sources()] == before


def test_bad_files_fail_alone_with_reasons(make_assistant, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("The harbour bridge opened in 1932 after eight years of work.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\t\n")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    assistant = make_assistant()
    report = assistant.ingest([folder])
    assert report.sources("added") == [(folder / "good.txt").resolve().as_posix()]
    errors = {r.source.rsplit("/", 1)[-1]: r.error for r in report.failed}
    assert errors["empty.txt"] == "empty.txt: file is empty"
    assert errors["blank.md"] == "blank.md: file has no text (only whitespace)"
    assert errors["binary.txt"] == "binary.txt: looks like a binary file, not text"
    assert errors["broken.pdf"].startswith("broken.pdf: not a valid PDF (")
    assert len(assistant.sources()) == 1


def test_interrupted_ingest_leaves_no_half_document_and_next_run_finishes(make_assistant, docs, monkeypatch):
    monkeypatch.setattr("ingest.sync.BATCH_CHUNKS", 1)  # one document per batch, so some commit before the crash
    assistant = make_assistant()
    real_commit = assistant.store.commit_documents
    commits = []

    def crash_on_third(records):
        if len(commits) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the third document's chunks were written
        commits.extend(r.source for r in records)
        real_commit(records)

    assistant.store.commit_documents = crash_on_third
    with pytest.raises(KeyboardInterrupt):
        assistant.ingest([docs])
    assistant.store.commit_documents = real_commit

    assert [r.source for r in assistant.sources()] == commits
    visible = {c.source for c in assistant.store.iter_chunks()}
    assert visible == set(commits), "chunks of the interrupted document must not be visible"
    hits = assistant.ask("Who is Dmitry Peskov?", top_k=20).hits
    assert {h.chunk.source for h in hits} <= set(commits)

    report = assistant.ingest([docs])
    assert len(report.sources("added")) == 3 and len(report.sources("unchanged")) == 2
    assert assistant.store._connection.chunks.count() == sum(r.chunks for r in assistant.sources())


def test_ingest_texts_without_files(make_assistant):
    assistant = make_assistant()
    report = assistant.ingest_texts([("notes/a", "The ferry leaves at nine every morning.", "Ferry"),
                               ("notes/b", "   ")])
    assert report.sources("added") == ["notes/a"]
    assert report.failed[0].error == "notes/b: text is empty (only whitespace)"
    assert assistant.ingest_texts([("notes/a", "The ferry leaves at nine every morning.", "Ferry")]).sources("unchanged") == ["notes/a"]


def test_chunks_carry_exact_offsets(sample_assistant):
    for record in sample_assistant.sources():
        text = sample_assistant.document(record.source).text
        chunks = sorted((c for c in sample_assistant.store.iter_chunks() if c.source == record.source),
                        key=lambda c: c.chunk_index)
        assert len(chunks) == record.chunks
        for chunk in chunks:
            assert text[chunk.start:chunk.end] == chunk.text
            assert len(sample_assistant.embedder.count_tokens(chunk.text)) <= 254, "MiniLM would cut this chunk"


# ---------------------------------------------------------------- bad inputs lose nothing

def _indexed(assistant):
    """What the store holds: (source, sha256, chunks) of every document, and the chunk rows."""
    return [(r.source, r.sha256, r.chunks) for r in assistant.sources()], assistant.store._connection.chunks.count()


GOOD = {
    "scan.pdf": lambda: pdf_with_text("The lighthouse keeper logged every ship that passed the cape."),
    "locked.pdf": lambda: pdf_with_text("The council approved the new harbour budget in March."),
    "empty.txt": lambda: b"The ferry to the island leaves at nine every morning.\n",
    "photo.txt": lambda: b"The orchard produced a record apple harvest this autumn.\n",
}
BAD = {
    "scan.pdf": (blank_pdf, "scan.pdf: PDF has no extractable text, and OCR found none in its pages"),
    "locked.pdf": (lambda: encrypted(pdf_with_text("Top secret"), user_password="hunter2"),
                   "locked.pdf: PDF is password-protected"),
    "empty.txt": (lambda: b"", "empty.txt: file is empty"),
    "photo.txt": (lambda: bytes(range(256)) * 8, "photo.txt: looks like a binary file, not text"),
}


@pytest.mark.parametrize("replace", [False, True], ids=["new-file", "replaces-indexed"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_file_is_one_line_and_loses_nothing(make_assistant, tmp_path, name, replace):
    folder = tmp_path / "docs"
    folder.mkdir()
    for good, make in GOOD.items():
        (folder / good).write_bytes(make())
    assistant = make_assistant()
    assert len(assistant.ingest([folder]).sources("added")) == len(GOOD)
    before = _indexed(assistant)

    make_bad, message = BAD[name]
    # Either a new bad file beside the indexed ones, or an indexed file overwritten with bad bytes.
    bad = folder / name if replace else folder / "new" / name
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes(make_bad())
    report = assistant.ingest([folder], prune=True)
    assert [(r.source, r.error) for r in report.failed] == [(bad.resolve().as_posix(), message)]
    assert report.sources("removed") == [] and report.sources("updated") == [] and report.sources("added") == []
    assert _indexed(assistant) == before


# ---------------------------------------------------------------- unreadable files and folders (real permissions)

@pytest.fixture
def shared_tmp():
    """A temp folder `nobody` can reach (pytest's tmp_path is private to its owner)."""
    root = Path(tempfile.mkdtemp(prefix="sync-perm-", dir="/tmp"))
    root.chmod(0o755)
    yield root
    for path in [root, *root.rglob("*")]:  # give back the modes a test took away, so cleanup can list them
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(root, ignore_errors=True)


def _ingest_prune_cli(home: Path, folder: Path) -> dict:
    """`assistant ingest FOLDER --prune --json`; as `nobody` when we are root, who reads any file whatever its mode."""
    cmd = [str(Path(sys.executable).parent / "assistant"), "--home", str(home), "ingest", str(folder),
           "--prune", "--json"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root privileges")
        for path in [home, *home.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HOME": str(home.parent), "TMPDIR": str(home.parent)}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _write_docs(folder: Path, names: list[str]) -> dict[str, str]:
    """Small distinct text files; returns name -> source."""
    for i, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Document {i} says the bridge number {i} opened in {1900 + i}.\n")
    return {name: (folder / name).resolve().as_posix() for name in names}


def test_prune_keeps_a_file_that_became_unreadable(make_assistant, shared_tmp):
    docs = shared_tmp / "docs"
    sources = _write_docs(docs, ["kept.txt", "secret.txt", "gone.txt"])
    assistant = make_assistant(home=shared_tmp / "home")
    assert len(assistant.ingest([docs]).sources("added")) == 3
    records, _ = _indexed(assistant)
    (docs / "gone.txt").unlink()
    (docs / "secret.txt").chmod(0)
    report = _ingest_prune_cli(shared_tmp / "home", docs)
    assert report["failed"] == [{"source": sources["secret.txt"],
                                 "error": "secret.txt: cannot read file (permission denied)"}]
    assert report["removed"] == [sources["gone.txt"]], "a file that is really gone is still pruned"
    assert report["unchanged"] == [sources["kept.txt"]]
    assert _indexed(assistant)[0] == [r for r in records if r[0] != sources["gone.txt"]]
    assert assistant.store._connection.chunks.count() == sum(r.chunks for r in assistant.sources())


def test_prune_keeps_documents_under_an_unreadable_folder(make_assistant, shared_tmp):
    docs = shared_tmp / "docs"
    sources = _write_docs(docs, ["top.txt", "private/a.txt", "private/deep/b.md"])
    assistant = make_assistant(home=shared_tmp / "home")
    assert len(assistant.ingest([docs]).sources("added")) == 3
    before = _indexed(assistant)
    (docs / "private").chmod(0)
    report = _ingest_prune_cli(shared_tmp / "home", docs)
    assert report["failed"] == [{"source": (docs / "private").resolve().as_posix(),
                                 "error": "private: cannot read folder (permission denied)"}]
    assert report["removed"] == [] and report["unchanged"] == [sources["top.txt"]]
    assert _indexed(assistant) == before


# ---------------------------------------------------------------- hostile paths and a store that dies

def test_fifos_and_devices_fail_alone(make_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The harbour bridge opened in 1932 after eight years of work.\n")
    os.mkfifo(folder / "pipe.txt")  # skipped inside a folder: reading it would block forever
    (folder / "zero.txt").symlink_to("/dev/zero")  # skipped: endless
    assistant = make_assistant()
    report = assistant.ingest([folder]).to_dict()
    assert report["added"] == [(folder / "good.txt").resolve().as_posix()] and report["failed"] == []


def test_a_name_that_is_not_utf8_is_indexed_under_an_escaped_name(make_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    # Byte 0xff is never UTF-8; the backslash is doubled in such a name, so the escape is lossless.
    raw = os.fsencode(folder) + b"/ferry\\\xff notes.txt"
    with open(raw, "wb") as fh:
        fh.write(b"The zorblat ferry leaves Quentinville harbour at nine every morning.\n")
    source = f"{folder.resolve().as_posix()}/ferry\\\\\\xff notes.txt"  # ferry\\\xff notes.txt
    assistant = make_assistant()
    report = assistant.ingest([folder]).to_dict()
    assert (report["added"], report["failed"]) == ([source], [])
    json.dumps(report, ensure_ascii=False).encode("utf-8")  # printable as the CLI and HTTP API do
    assert assistant.ingest([folder]).to_dict()["unchanged"] == [source]  # the same name each time: no duplicate
    answer = assistant.ask("When does the zorblat ferry leave?")
    assert not answer.abstained and answer.citations[0].source == source
    assert assistant.document("ferry\\\\\\xff notes.txt").text.startswith("The zorblat ferry")  # found by its shown name
    assert assistant.remove(source) == source and assistant.sources() == []
    assert os.path.exists(raw), "removing it from the index leaves the file itself"


def _stop_after_first_commit(assistant, server):
    """Let the real store commit one batch, then stop the real Chroma server under the running ingest."""
    real = assistant.store.commit_documents
    committed = []

    def commit_then_stop(records):
        real(records)
        committed.extend(r.source for r in records)
        server.stop()

    assistant.store.commit_documents = commit_then_stop
    return committed


def test_a_store_that_dies_stops_the_ingest_and_keeps_what_was_committed(make_assistant, docs, chroma_server,
                                                                         monkeypatch, tmp_path):
    from ingest.errors import IngestInterrupted
    from support import ChromaServer

    monkeypatch.setattr("ingest.sync.BATCH_CHUNKS", 1)  # one document per batch
    assistant = make_assistant(chroma_url=chroma_server.url)
    committed = _stop_after_first_commit(assistant, chroma_server)
    embedded = []
    real_embed = assistant.ingestor.embedder.embed
    assistant.ingestor.embedder = type("Counting", (), {"embed": lambda self, texts, on_batch=None:
                                                  embedded.append(len(texts)) or real_embed(texts, on_batch)})()
    with pytest.raises(IngestInterrupted) as err:
        assistant.ingest([docs])
    assert str(err.value) == (f"The store failed during the ingest (Cannot reach the Chroma server at "
                              f"{chroma_server.url}: is `chroma run` running?). Documents committed before it: 1. Run "
                              "the same ingest again, once the store is back, to finish the rest.")
    assert len(committed) == 1 and len(embedded) == 2, "it stops at the first failure, not after every file"

    # The same data, served again: the committed document is there, and the same ingest finishes the job.
    again = ChromaServer(tmp_path / "chroma-server")
    try:
        assistant = make_assistant(chroma_url=again.url)
        assert [r.source for r in assistant.sources()] == committed
        report = assistant.ingest([docs])
        assert report.sources("unchanged") == committed and len(report.sources("added")) == 4
        assert assistant.store._connection.chunks.count() == sum(r.chunks for r in assistant.sources())
    finally:
        again.stop()


def test_ingest_settings_cap_each_file_alone(make_assistant, tmp_path):
    from test_loading import docx_with_paragraphs

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The harbour bridge opened in 1932 after eight years of work.\n")
    (folder / "many.docx").write_bytes(docx_with_paragraphs(10_000))  # 50,000 XML nodes in its body
    (folder / "big.txt").write_text("The ledger grows. " * 70_000)  # 1.2 MB
    (folder / "long.md").write_text("The ledger grows. " * 40_000)  # 0.7 MB
    assistant = make_assistant(ingest={"max_file_mb": 1, "max_xml_nodes": 50_000, "max_text_mb": 0.5})
    report = assistant.ingest([folder])
    assert report.sources("added") == [(folder / "good.txt").resolve().as_posix()]
    assert {r.source.rsplit("/", 1)[-1]: r.error for r in report.failed} == {
        "big.txt": "big.txt: 1.2 MB is over the 1.0 MB limit; raise [ingest] max_file_mb to read it",
        "long.md": "long.md: 0.7 MB of text (in characters), over the 0.5 MB limit; raise [ingest] max_text_mb to "
                   "read it",
        "many.docx": "many.docx: more than 50,000 XML elements and attributes; raise [ingest] max_xml_nodes to read it"}
