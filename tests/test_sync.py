"""Sync: the issue's done-when sequence, bad inputs, and interrupted runs, on a real Chroma + MiniLM."""
from __future__ import annotations

import shutil

import pytest

from ingest.errors import NothingToIngest, PathNotFound


def _counting(bot):
    """Wrap the real embedder so a test can see whether any embedding work happened."""
    calls = []
    real = bot.embedder.embed
    bot.ingestor.embedder = type("Counting", (), {"embed": lambda self, texts, on_batch=None:
                                                  calls.append(len(texts)) or real(texts, on_batch)})()
    return calls


@pytest.fixture
def docs(tmp_path, sample_docs):
    target = tmp_path / "sample"
    shutil.copytree(sample_docs, target)
    return target


def test_sample_added_then_unchanged_updated_removed(make_assistant, docs):
    bot = make_assistant()
    first = bot.ingest([docs]).to_dict()
    assert len(first["added"]) == 5 and first["failed"] == [] and first["chunks"] > 0

    calls = _counting(bot)
    again = bot.ingest([docs]).to_dict()
    assert len(again["unchanged"]) == 5 and again["added"] == [] and again["chunks"] == 0
    assert calls == [], "re-ingesting unchanged files must embed nothing"

    edited = docs / "001_0c9caba1aff1c6c0.txt"
    edited.write_text(edited.read_text() + "\nA new closing line about the Kremlin.\n")
    update = bot.ingest([docs]).to_dict()
    assert update["updated"] == [edited.resolve().as_posix()] and len(update["unchanged"]) == 4

    gone = docs / "004_7bdcd2d0aef0b556.txt"
    gone.unlink()
    kept = bot.ingest([docs]).to_dict()
    assert kept["removed"] == [] and len(bot.sources()) == 5, "without --prune nothing is removed"
    pruned = bot.ingest([docs], prune=True).to_dict()
    assert pruned["removed"] == [gone.resolve().as_posix()]
    assert len(bot.sources()) == 4
    # The store holds exactly the chunks its records claim: the update left no stale chunks.
    assert bot.store._chunks.count() == sum(r.chunks for r in bot.sources())


def test_same_file_through_another_path_is_not_duplicated(make_assistant, docs, monkeypatch):
    bot = make_assistant()
    bot.ingest([docs])
    monkeypatch.chdir(docs.parent)
    report = bot.ingest(["sample/../sample/000_8bc013782648c3d5.txt"]).to_dict()
    assert len(report["unchanged"]) == 1 and len(bot.sources()) == 5


def test_same_name_in_two_folders_stays_two_sources(make_assistant, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / "docs" / folder).mkdir(parents=True)
        (tmp_path / "docs" / folder / "notes.txt").write_text(f"Notes from folder {folder} about the budget.\n")
    bot = make_assistant()
    report = bot.ingest([tmp_path / "docs"])
    assert len(report.sources("added")) == 2
    assert {r.source.rsplit("/", 2)[-2] for r in bot.sources()} == {"a", "b"}


def _folder(path, files=()):
    path.mkdir()
    for name in files:
        (path / name).write_bytes(b"\x89PNG")
    return path


@pytest.mark.parametrize("make_path, message", [
    (lambda p: p / "missing", "No such file or folder: {path}"),
    (lambda p: _folder(p / "empty"), "Folder is empty: {path}"),
    (lambda p: _folder(p / "pics", ["a.png"]),
     "No supported files in {path} (supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt)"),
])
def test_bad_paths_fail_whole_and_lose_nothing(make_assistant, docs, tmp_path, make_path, message):
    bot = make_assistant()
    bot.ingest([docs])
    before = [(r.source, r.sha256) for r in bot.sources()]
    bad = make_path(tmp_path)
    with pytest.raises((PathNotFound, NothingToIngest)) as err:
        bot.ingest([docs, bad], prune=True)
    assert str(err.value) == message.format(path=bad)
    assert [(r.source, r.sha256) for r in bot.sources()] == before


def test_bad_files_fail_alone_with_reasons(make_assistant, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("The harbour bridge opened in 1932 after eight years of work.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\t\n")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    bot = make_assistant()
    report = bot.ingest([folder])
    assert report.sources("added") == [(folder / "good.txt").resolve().as_posix()]
    errors = {r.source.rsplit("/", 1)[-1]: r.error for r in report.failed}
    assert errors["empty.txt"] == "empty.txt: file is empty"
    assert errors["blank.md"] == "blank.md: file has no text (only whitespace)"
    assert errors["binary.txt"] == "binary.txt: looks like a binary file, not text"
    assert errors["broken.pdf"].startswith("broken.pdf: not a valid PDF (")
    assert len(bot.sources()) == 1


def test_interrupted_ingest_leaves_no_half_document_and_next_run_finishes(make_assistant, docs, monkeypatch):
    monkeypatch.setattr("ingest.sync.BATCH_CHUNKS", 1)  # one document per batch, so some commit before the crash
    bot = make_assistant()
    real_commit = bot.store.commit_documents
    commits = []

    def crash_on_third(records):
        if len(commits) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the third document's chunks were written
        commits.extend(r.source for r in records)
        real_commit(records)

    bot.store.commit_documents = crash_on_third
    with pytest.raises(KeyboardInterrupt):
        bot.ingest([docs])
    bot.store.commit_documents = real_commit

    assert [r.source for r in bot.sources()] == commits
    visible = {c.source for c in bot.store.iter_chunks()}
    assert visible == set(commits), "chunks of the interrupted document must not be visible"
    hits = bot.ask("Who is Dmitry Peskov?", top_k=20).hits
    assert {h.chunk.source for h in hits} <= set(commits)

    report = bot.ingest([docs])
    assert len(report.sources("added")) == 3 and len(report.sources("unchanged")) == 2
    assert bot.store._chunks.count() == sum(r.chunks for r in bot.sources())


def test_ingest_texts_without_files(make_assistant):
    bot = make_assistant()
    report = bot.ingest_texts([("notes/a", "The ferry leaves at nine every morning.", "Ferry"),
                               ("notes/b", "   ")])
    assert report.sources("added") == ["notes/a"]
    assert report.failed[0].error == "notes/b: text is empty (only whitespace)"
    assert bot.ingest_texts([("notes/a", "The ferry leaves at nine every morning.", "Ferry")]).sources("unchanged") == ["notes/a"]


def test_chunks_carry_exact_offsets(sample_bot):
    for record in sample_bot.sources():
        text = sample_bot.document(record.source).text
        chunks = sorted((c for c in sample_bot.store.iter_chunks() if c.source == record.source),
                        key=lambda c: c.chunk_index)
        assert len(chunks) == record.chunks
        for chunk in chunks:
            assert text[chunk.start:chunk.end] == chunk.text
            assert len(sample_bot.embedder.count_tokens(chunk.text)) <= 254, "MiniLM would cut this chunk"
