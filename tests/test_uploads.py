"""The upload service the chat UI and POST /documents share: names, limits, the report, crash recovery."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.uploads import check_uploads, destination, ingest_uploads, safe_name, uploads_dir
from ingest.errors import EmptyDocument, FileTooLarge, UnsupportedFile

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."
MB = 1024 * 1024


# ---- names and limits ---------------------------------------------------------------------
@pytest.mark.parametrize("given, expected", [
    ("../../etc/passwd", "passwd"),
    ("/etc/shadow.txt", "shadow.txt"),
    ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    (".bashrc.md", "bashrc.md"),
    ("..", "upload"),
    ("", "upload"),
    ("a\x00b\nc.txt", "abc.txt"),
    ("bad<>:|?*\"name.txt", "bad_name.txt"),
    ("résumé 2024 (final).docx", "résumé 2024 (final).docx"),
])
def test_safe_name(given, expected):
    assert safe_name(given) == expected


def test_upload_names_never_escape_the_uploads_folder(tmp_path):
    folder = uploads_dir(tmp_path).resolve()
    nasty = ["../x.txt", "../../../../tmp/evil.txt", "/abs/olute.txt", "a/../../b.txt", "....//....//c.txt",
             "\\..\\d.txt", "%2e%2e%2fe.txt", "~/.ssh/id_rsa", "con:.txt", "x" * 500 + ".txt", "\u202ertl.txt", " . "]
    for name in nasty:
        path = destination(tmp_path, name)
        assert path.parent.resolve() == folder, name
        assert len(path.name) <= 120 and not path.name.startswith(".")


def test_ingest_uploads_reports_each_file_and_loses_nothing(make_assistant, tmp_path):
    assistant = make_assistant()
    keep = tmp_path / "keep.txt"
    keep.write_text("The lighthouse keeper of Varnholm collects blue glass bottles.")
    assistant.ingest([keep])
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "zorblat.txt"
    good.write_text(ZORB)
    exe = incoming / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    pdf = incoming / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.4\nnot really a pdf")
    big = incoming / "huge.txt"
    with open(big, "wb") as f:  # sparse: costs no disk
        f.truncate(25 * MB + 1)

    empty = incoming / "empty.md"
    empty.touch()
    report = ingest_uploads(assistant, [(good, "../../zorblat.txt"), (exe, "tool.exe"), (pdf, "broken.pdf"),
                                  (big, "huge.txt"), (empty, "empty.md")])
    results = report.files

    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["zorblat.txt", "tool.exe", "broken.pdf", "huge.txt", "empty.md"]
    assert by_name["zorblat.txt"].status == "added"
    assert by_name["zorblat.txt"].source == (uploads_dir(assistant.settings.home).resolve() / "zorblat.txt").as_posix()
    assert by_name["tool.exe"].status == "failed" and "unsupported file type '.exe'" in by_name["tool.exe"].error
    assert by_name["broken.pdf"].status == "failed" and "not a valid PDF" in by_name["broken.pdf"].error
    assert by_name["huge.txt"].status == "failed"
    assert by_name["huge.txt"].error == ("huge.txt: 25.0 MB is over the 25 MB upload limit ([ingest] max_upload_mb); "
                                         "ingest big files with `assistant ingest PATH`")
    assert by_name["empty.md"].error == "empty.md: file is empty"
    data = report.to_dict()
    assert data["added"] == [by_name["zorblat.txt"].source] and data["chunks"] == by_name["zorblat.txt"].chunks
    assert [f["source"] for f in data["failed"]] == ["tool.exe", "broken.pdf", "huge.txt", "empty.md"]
    assert [f["name"] for f in data["files"]] == [r.name for r in results] and data["removed"] == []
    indexed = {r.source for r in assistant.sources()}
    assert indexed == {keep.resolve().as_posix(), by_name["zorblat.txt"].source}
    # refused and failed files leave nothing behind in the uploads folder
    assert sorted(p.name for p in uploads_dir(assistant.settings.home).iterdir() if not p.name.startswith(".")) == \
        ["zorblat.txt"]
    assert "March" in assistant.ask("When is the zorblat festival held?").text


def test_a_failed_reupload_keeps_the_earlier_version(make_assistant, tmp_path):
    assistant = make_assistant()
    first = tmp_path / "notes.txt"
    first.write_text(ZORB)
    [added] = ingest_uploads(assistant, [(first, "notes.txt")]).files
    again = tmp_path / "again" / "notes.txt"
    again.parent.mkdir()
    again.write_bytes(b"")  # empty: fails to ingest

    [result] = ingest_uploads(assistant, [(again, "notes.txt")]).files

    assert result.status == "failed" and "empty" in result.error
    assert Path(added.source).read_text() == ZORB  # the copy on disk is the earlier one again
    assert [r.source for r in assistant.sources()] == [added.source]


# ---- uploads: duplicate and long names, runs that died ------------------------------------
def test_two_uploads_with_one_name_are_not_silently_merged(make_assistant, tmp_path):
    assistant = make_assistant()
    first, second, third = (tmp_path / str(n) for n in range(3))
    for folder in (first, second, third):
        folder.mkdir()
    (first / "x.txt").write_text(ZORB)
    (second / "x.txt").write_text("The Quentinville ferry leaves at nine.")
    (third / "x.txt").write_text("A third note about the harbour.")
    results = ingest_uploads(assistant, [(first / "x.txt", "x.txt"), (second / "x.txt", "x.txt"),
                                   (third / "x.txt", "notes/x.txt")]).files
    assert [(r.name, r.status) for r in results] == [("x.txt", "added"), ("x.txt", "failed"), ("x.txt", "failed")]
    assert results[1].error == ("x.txt: another file in this drop (x.txt) is also stored as x.txt; upload this one "
                                "on its own or rename it, so neither overwrites the other")
    assert Path(results[0].source).read_text() == ZORB
    assert [r.source for r in assistant.sources()] == [results[0].source]


def test_a_name_too_long_for_the_file_system_is_shortened(make_assistant, tmp_path):
    assistant = make_assistant()
    src = tmp_path / "note.txt"
    src.write_text(ZORB)
    name = "漢" * 300 + ".txt"  # 903 bytes: the file system allows 255
    [result] = ingest_uploads(assistant, [(src, name)]).files
    assert result.status == "added", result.error
    stored = Path(result.source).name
    assert stored.endswith(".txt") and stored.startswith("漢") and len(stored.encode()) <= 200


def test_removing_an_upload_deletes_its_copy_from_every_front_end(make_assistant, tmp_path):
    import subprocess
    import sys

    import httpx

    from support import clean_env
    from test_http import serving

    assistant = make_assistant()
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name, text in (("zorblat.txt", ZORB), ("ferry.txt", "The ferry leaves the harbour at nine every morning.")):
        (incoming / name).write_text(text)
    report = ingest_uploads(assistant, [(incoming / "zorblat.txt", "zorblat.txt"), (incoming / "ferry.txt", "ferry.txt")])
    copies = [Path(r.source) for r in report.files]
    assert all(copy.is_file() for copy in copies)
    with serving(assistant) as api:  # the HTTP API
        removed = httpx.delete(f"{api}/documents/zorblat.txt", timeout=60)
        assert (removed.status_code, removed.json()) == (200, {"removed": copies[0].as_posix()})
    assert not copies[0].exists() and copies[1].is_file()
    cli = subprocess.run([str(Path(sys.executable).parent / "assistant"), "--home", str(assistant.settings.home), "remove",
                          "ferry.txt"], capture_output=True, text=True, env=clean_env(), timeout=300)
    assert (cli.returncode, cli.stdout) == (0, f"removed {copies[1].as_posix()}\n"), cli.stderr  # the CLI
    assert not copies[1].exists() and assistant.sources() == []
    assert (incoming / "zorblat.txt").is_file(), "a file that is not the uploads folder's own copy stays"


DIE_MID_UPLOAD = """
import os, signal, sys
from assistant import Assistant
from ingest.progress import IngestProgress
from assistant.uploads import ingest_uploads

class Die(IngestProgress):
    def file_started(self, source, chunks):  # copied and backed up, not yet committed
        os.kill(os.getpid(), signal.SIGKILL)

ingest_uploads(Assistant.open(home=sys.argv[1]), [(sys.argv[2], "notes.txt"), (sys.argv[3], "fresh.txt")],
               progress=Die())
"""


def test_uploads_of_a_run_that_died_are_cleaned_up(make_assistant, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    home = tmp_path / "home"
    assistant = make_assistant(home=home)
    v1, v2, fresh, other = (tmp_path / name for name in ("v1.txt", "v2.txt", "fresh.txt", "other.txt"))
    v1.write_text(ZORB)
    v2.write_text("A second version of the notes that never got indexed.")
    fresh.write_text("A new upload the dying run never indexed.")
    other.write_text("The lighthouse keeper of Varnholm collects blue glass bottles.")
    [notes] = ingest_uploads(assistant, [(v1, "notes.txt")]).files

    child = subprocess.run([sys.executable, "-c", DIE_MID_UPLOAD, str(home), str(v2), str(fresh)],
                           capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert child.returncode == -signal.SIGKILL, child.stderr
    folder = uploads_dir(home)
    assert (folder / "fresh.txt").exists() and (folder / "notes.txt").read_text() != ZORB  # what the crash left

    [added] = ingest_uploads(assistant, [(other, "other.txt")]).files
    assert added.status == "added"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["notes.txt", "other.txt"]
    assert Path(notes.source).read_text() == ZORB  # the indexed version is the one on disk again
    assert list((folder / ".incoming").iterdir()) == []
    assert sorted(r.source for r in assistant.sources()) == sorted([notes.source, added.source])


# ---- the strict check POST /documents makes before anything is copied ------------------------
def test_check_uploads_raises_the_first_refusal(make_assistant, tmp_path):
    settings = make_assistant(ingest={"max_upload_mb": 0.001}).settings  # 1,048 bytes
    good, exe, big, empty = (tmp_path / name for name in ("a.txt", "b.exe", "c.txt", "d.txt"))
    good.write_text(ZORB)
    exe.write_bytes(b"MZ")
    big.write_text("x" * 2000)
    empty.touch()
    check_uploads(settings, [(good, "a.txt")])
    with pytest.raises(UnsupportedFile, match=r"^b\.exe: unsupported file type '\.exe' \(supported: "):
        check_uploads(settings, [(good, "a.txt"), (exe, "b.exe")])
    with pytest.raises(FileTooLarge, match=r"^c\.txt: 0\.0 MB is over the 0\.001 MB upload limit"):
        check_uploads(settings, [(big, "../c.txt")])
    with pytest.raises(UnsupportedFile, match=r"^upload: unsupported file type 'none' "):
        check_uploads(settings, [(good, "")])
    with pytest.raises(EmptyDocument, match=r"^d\.txt: file is empty$"):
        check_uploads(settings, [(empty, "d.txt")])


def test_the_service_imports_neither_gradio_nor_fastapi():
    import os
    import subprocess
    import sys

    check = ("import sys, assistant.uploads; assert not {'gradio', 'fastapi'} & set(sys.modules); "
             "import assistant.api.app; assert 'gradio' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
