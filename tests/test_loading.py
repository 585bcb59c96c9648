"""Loading and cleaning: scan, decode, readers, clean_text, load_file."""
from __future__ import annotations

import hashlib
import io
import os
import pwd
import random
import re
import shutil
import tempfile
import textwrap
import time
import unicodedata
from pathlib import Path

import pytest

from ingest import clean as clean_module
from ingest.clean import FURNITURE, clean_text, guess_title
from ingest.decode import decode_text
from ingest.errors import (EmptyDocument, FileTooLarge, NothingToIngest, NotARegularFile, PathNotFound,
                           UnreadableFile, UnsupportedFile)
from ingest.files import SUPPORTED_SUFFIXES, scan, source_for
from ingest.loading import document_from_text, load_file
from ingest.readers import RawText, read_file

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SUPPORTED = (".csv, .docx, .eml, .epub, .htm, .html, .jpeg, .jpg, .markdown, .md, .pdf, .png, .pptx, .tif, .tiff, "
             ".txt, .xlsx, and plain text without an extension")


# ---------------------------------------------------------------- helpers

def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def pdf_with_text(*lines: str) -> bytes:
    """A minimal valid one-page PDF showing `lines` in Helvetica, xref offsets computed."""
    escaped = [line.replace("(", "\\(").replace(")", "\\)") for line in lines]
    shown = " ".join(f"({line}) Tj T*" for line in escaped)
    content = f"BT /F1 12 Tf 72 720 Td 14 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def encrypted(pdf: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    # RC4 needs no optional dependency (AES would need `cryptography`).
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(title_style: int, heading: str, *paragraphs: str, table=None) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_heading(heading, title_style)  # 0 -> "Title" style, n -> "Heading n"
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def error_of(call, *args) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        call(*args)
    return type(info.value), str(info.value)


def squash(text: str) -> str:
    """Text without whitespace or invisible chars, NFC: what cleaning must never change."""
    text = re.sub(r"[\s\x00-\x08\x0e-\x1f\x7f\xad\u200b\u2060\ufeff]", "", text)
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- scan

def test_scan_nonexistent_path(tmp_path):
    missing = tmp_path / "nope"
    assert error_of(scan, [missing]) == (PathNotFound, f"No such file or folder: {missing}")
    assert error_of(scan, ["no/such/file.txt"]) == (PathNotFound, "No such file or folder: no/such/file.txt")


def test_scan_empty_folder(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    write(tmp_path / "empty" / ".DS_Store", b"\x00\x01")  # hidden files do not count
    folder = tmp_path / "empty"
    assert error_of(scan, [folder]) == (NothingToIngest, f"Folder is empty: {folder}")


def test_scan_folder_without_supported_files(tmp_path):
    write(tmp_path / "data.json", "{}\n")
    write(tmp_path / "sub" / "pic.gif", b"GIF89a")
    assert error_of(scan, [tmp_path]) == (
        NothingToIngest, f"No supported files in {tmp_path} (supported: {SUPPORTED})")


def test_scan_walks_folders_sorted_resolved_deduplicated(tmp_path, monkeypatch):
    a = write(tmp_path / "docs" / "b.md", "# B")
    b = write(tmp_path / "docs" / "deep" / "er" / "a.TXT", "a")
    write(tmp_path / "docs" / "notes.json", "skip me")
    write(tmp_path / "docs" / "page.htm", "<p>x</p>")
    monkeypatch.chdir(tmp_path)
    found = list(scan(["docs", tmp_path / "docs" / "b.md", "./docs/../docs/b.md"]).files)
    assert found == sorted([a, b, tmp_path / "docs" / "page.htm"])
    assert all(p.is_absolute() for p in found)


def test_scan_skips_hidden_files_and_folders(tmp_path):
    write(tmp_path / ".hidden.txt", "secret")
    write(tmp_path / ".git" / "notes.txt", "internal")
    write(tmp_path / "sub" / ".cache" / "x.md", "cached")
    visible = write(tmp_path / "sub" / "visible.txt", "hello")
    assert list(scan([tmp_path]).files) == [visible]
    # ... but a hidden file named explicitly is what the user asked for.
    assert list(scan([tmp_path / ".hidden.txt"]).files) == [tmp_path / ".hidden.txt"]


def test_scan_survives_symlink_loops(tmp_path):
    doc = write(tmp_path / "a" / "doc.txt", "text")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a" / "link.txt").symlink_to(doc)  # a second name for the same file
    assert list(scan([tmp_path]).files) == [doc]


def test_scan_skips_fifos_inside_folders(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    doc = write(tmp_path / "doc.txt", "text")
    assert list(scan([tmp_path]).files) == [doc]


def test_scan_skips_devices_and_sockets_inside_folders(tmp_path):
    import socket

    doc = write(tmp_path / "doc.txt", "text")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")  # endless: reading it would never finish
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.txt"))
        assert list(scan([tmp_path]).files) == [doc]


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p / "pipe.txt") or p / "pipe.txt",
     "pipe.txt: not a regular file (a named pipe); only regular files are ingested"),
    (lambda p: Path("/dev/zero"), "zero: not a regular file (a character device); only regular files are ingested"),
    (lambda p: (p / "zero.txt").symlink_to("/dev/zero") or p / "zero.txt",
     "zero.txt: not a regular file (a character device); only regular files are ingested"),
])
def test_a_fifo_or_device_named_directly_is_refused(tmp_path, make, message):
    assert error_of(scan, [make(tmp_path)]) == (NotARegularFile, message)


def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path):
    name = "漢" * 300 + ".txt"  # 903 bytes: more than any file system allows in one name
    kind, message = error_of(scan, [tmp_path / name])
    assert kind is UnreadableFile and message == f"{name}: cannot read (name too long)"


def test_reads_are_capped(tmp_path):
    from ingest.limits import Limits
    from ingest.readers import read_bytes

    big = write(tmp_path / "big.txt", b"harbour ledger " * 100_000)  # 1.4 MB
    small = Limits(max_file_bytes=1024 * 1024)
    expected = "big.txt: 1.4 MB is over the 1.0 MB limit; raise [ingest] max_file_mb to read it"
    assert error_of(load_file, big, small) == (FileTooLarge, expected)
    assert error_of(read_bytes, big, small.max_file_bytes) == (FileTooLarge, expected)
    assert load_file(big).text.startswith("harbour ledger")  # under the default limit


def test_a_file_swapped_for_a_fifo_is_refused_not_waited_on(tmp_path):
    # Listed as a regular file, then replaced by a FIFO before it is hashed and read: the checks are on
    # the opened descriptor, so nothing blocks. A child process with a timeout: a regression must not hang us.
    import subprocess
    import sys

    os.mkfifo(tmp_path / "pipe.txt")
    code = ("import sys; from pathlib import Path; from ingest.sync import capped_sha256; from ingest.readers "
            "import read_bytes\nfor call in (capped_sha256, read_bytes):\n    try: call(Path(sys.argv[1]))\n"
            "    except Exception as exc: print(type(exc).__name__, exc)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pipe.txt")], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(SAMPLE.parents[1])})
    message = "pipe.txt: not a regular file (a named pipe); only regular files are ingested"
    assert result.stdout.splitlines() == [f"NotARegularFile {message}"] * 2, result.stderr


def test_explicit_unsupported_file_is_returned_and_then_fails(tmp_path):
    sheet = write(tmp_path / "table.json", "a,b\n")
    assert list(scan([sheet]).files) == [sheet]
    assert error_of(load_file, sheet) == (
        UnsupportedFile, f"table.json: unsupported file type '.json' (supported: {SUPPORTED})")
    # Without an extension a file is text, or a one-line refusal: never a crash, never skipped in silence.
    assert read_file(write(tmp_path / "LICENSE", "Permission is hereby granted.\n")).text.startswith("Permission")
    assert error_of(load_file, write(tmp_path / "noext", b"\x00\x01binary")) == (
        UnsupportedFile, "noext: looks like a binary file, not text")


def test_a_folder_reports_what_it_skipped_and_reads_text_without_an_extension(tmp_path):
    notice = write(tmp_path / "COPYING", "Permission is hereby granted, free of charge.\n")
    readme = write(tmp_path / "sub" / "README", "Install with make.\n")
    kept = write(tmp_path / "a.txt", "a")
    skipped = [write(tmp_path / "blob", b"\x7fELF\x02\x01\x00"), write(tmp_path / "empty", b""),
               write(tmp_path / "script.py", "x = 1\n"), write(tmp_path / "sub" / "pic.gif", b"GIF89a")]
    found = scan([tmp_path])
    assert found.files == tuple(sorted([notice, readme, kept]))
    assert found.skipped == tuple(sorted(skipped))
    assert load_file(notice).title == "Permission is hereby granted, free of charge."
    assert scan([tmp_path / "blob"]).skipped == ()  # named explicitly: kept, to fail with its reason


def test_same_name_in_two_folders_gives_two_sources(tmp_path):
    one = write(tmp_path / "x" / "notes.txt", "first")
    two = write(tmp_path / "y" / "notes.txt", "second")
    docs = [load_file(p) for p in list(scan([tmp_path]).files)]
    assert [d.source for d in docs] == [one.as_posix(), two.as_posix()]
    assert [d.text for d in docs] == ["first", "second"]


def test_source_is_absolute_whatever_the_relative_path(tmp_path, monkeypatch):
    doc = write(tmp_path / "d" / "n.txt", "x")
    monkeypatch.chdir(tmp_path / "d")
    assert source_for("n.txt") == source_for("../d/./n.txt") == source_for(doc) == doc.as_posix()
    assert load_file(Path("n.txt")).source == doc.as_posix()


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx",
                                  ".csv", ".xlsx", ".pptx", ".eml", ".epub", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


# ---------------------------------------------------------------- files that cannot be loaded

def test_empty_file(tmp_path):
    for name in ("empty.txt", "empty.pdf", "empty.docx", "empty.html"):
        assert error_of(load_file, write(tmp_path / name, b"")) == (EmptyDocument, f"{name}: file is empty")


def test_whitespace_only_file(tmp_path):
    path = write(tmp_path / "blank.txt", " \n\t\r\n\u00a0 \n")
    assert error_of(load_file, path) == (EmptyDocument, "blank.txt: file has no text (only whitespace)")
    page = write(tmp_path / "blank.html", "<html><body><script>x()</script> <p> </p></body></html>")
    assert error_of(load_file, page) == (EmptyDocument, "blank.html: file has no text (only whitespace)")
    chrome = write(tmp_path / "chrome.txt", "Advertisement\n\nShare\n")  # nothing left after cleaning
    assert error_of(load_file, chrome) == (EmptyDocument, "chrome.txt: file has no text (only whitespace)")


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 8,  # NULs and control bytes
    b"\x89PNG\r\n\x1a\n" + b"IHDR" * 100,
    b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    b"PK\x03\x04" + b"zipped" * 50,
    b"%PDF-1.4\n" + b"hello " * 50,
    b"text at first" + b"\x00" * 40 + b"then binary",
])
def test_binary_file_renamed_txt(tmp_path, data):
    path = write(tmp_path / "photo.txt", data)
    assert error_of(load_file, path) == (UnsupportedFile, "photo.txt: looks like a binary file, not text")


def test_corrupt_pdf(tmp_path):
    path = write(tmp_path / "broken.pdf", b"%PDF-1.4\ngarbage")
    assert error_of(load_file, path) == (
        UnreadableFile, "broken.pdf: not a valid PDF (Stream has ended unexpectedly)")
    path = write(tmp_path / "fake.pdf", b"this is plain text, not a PDF at all")
    kind, message = error_of(load_file, path)
    assert kind is UnreadableFile and message.startswith("fake.pdf: not a valid PDF (")


def test_pdf_without_text_layer(tmp_path):
    path = write(tmp_path / "scan.pdf", blank_pdf())
    assert error_of(load_file, path) == (
        EmptyDocument, "scan.pdf: PDF has no extractable text, and OCR found none in its pages")


def test_password_protected_pdf(tmp_path):
    path = write(tmp_path / "locked.pdf", encrypted(pdf_with_text("Top secret"), user_password="hunter2"))
    assert error_of(load_file, path) == (UnreadableFile, "locked.pdf: PDF is password-protected")


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    # Encrypted with an empty user password: every viewer opens it without asking.
    path = write(tmp_path / "restricted.pdf", encrypted(pdf_with_text("Open to all readers."), ""))
    assert load_file(path).text == "Open to all readers."


def test_corrupt_docx(tmp_path):
    for data in (b"not a zip file at all", b"PK\x03\x04" + b"\x00" * 64, pdf_with_text("x")):
        path = write(tmp_path / "report.docx", data)
        assert error_of(load_file, path) == (UnreadableFile, "report.docx: not a valid DOCX file")


def test_unreadable_file_permission_denied(tmp_path):
    # Root reads any file whatever its mode, so as root the read happens in a forked child
    # that has become `nobody`: a real permission failure, nothing patched.
    folder = Path(tempfile.mkdtemp(prefix="unreadable-"))
    try:
        folder.chmod(0o755)
        path = write(folder / "secret.txt", "you cannot see me")
        path.chmod(0)
        if os.geteuid() != 0:
            assert error_of(load_file, path) == (UnreadableFile, "secret.txt: cannot read file (permission denied)")
        else:
            assert as_nobody(lambda: repr(error_of(load_file, path))) == repr(
                (UnreadableFile, "secret.txt: cannot read file (permission denied)"))
    finally:
        path.chmod(0o600)
        path.unlink()
        folder.rmdir()


def as_nobody(task) -> str:
    """Run task() in a forked child with nobody's uid and gid; return the str it returns."""
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read_end)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            result = task()
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            result = f"child failed: {exc!r}"
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    result = b"".join(chunks).decode()
    if result.startswith("child failed: PermissionError"):
        pytest.skip("cannot switch to the nobody user here")
    return result


def test_scan_reports_unreadable_subfolders():
    # Real permissions, as in test_unreadable_file_permission_denied: as root, the walk runs as `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="unreadable-dir-")).resolve()
    try:
        folder.chmod(0o755)
        top = write(folder / "docs" / "top.txt", "visible")
        write(folder / "docs" / "private" / "a.txt", "hidden by permissions")
        write(folder / "only" / "locked" / "b.txt", "hidden by permissions")
        for locked in (folder / "docs" / "private", folder / "only" / "locked"):
            locked.chmod(0)

        def walk() -> str:
            found = scan([folder / "docs"])
            # A folder whose only content cannot be read is not "empty": it is reported, not fatal.
            only = scan([folder / "only"])
            return repr((found.files, found.unreadable, only.files, only.unreadable))

        expected = repr(((top,), {folder / "docs" / "private": "private: cannot read folder (permission denied)"},
                         (), {folder / "only" / "locked": "locked: cannot read folder (permission denied)"}))
        assert (walk() if os.geteuid() != 0 else as_nobody(walk)) == expected
    finally:
        for locked in (folder / "docs" / "private", folder / "only" / "locked"):
            locked.chmod(0o755)
        shutil.rmtree(folder)


def test_unreadable_folder_named_like_a_file_and_fifo(tmp_path):
    (tmp_path / "notes.txt").mkdir()
    assert error_of(load_file, tmp_path / "notes.txt") == (UnreadableFile, "notes.txt: cannot read file (is a folder)")
    os.mkfifo(tmp_path / "pipe.txt")
    assert error_of(load_file, tmp_path / "pipe.txt") == (
        NotARegularFile, "pipe.txt: not a regular file (a named pipe); only regular files are ingested")
    assert error_of(load_file, tmp_path / "gone.txt") == (UnreadableFile, "gone.txt: cannot read file (no such file)")


# ---------------------------------------------------------------- encodings

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_encodings(tmp_path, encoding):
    text = "Café “naïve” — 東京 ✓"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # with a BOM, as editors write them
        data = ("\ufeff" + text).encode(encoding)
    assert load_file(write(tmp_path / "t.txt", data)).text == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path, encoding):
    text = "Plain report text, written by an old Windows tool.\r\nSecond line here."
    doc = load_file(write(tmp_path / "t.txt", text.encode(encoding)))
    assert doc.text == "Plain report text, written by an old Windows tool.\nSecond line here."


def test_windows_1252_curly_quotes_and_accents(tmp_path):
    data = "He said “naïve café” – it’s déjà vu, €5.".encode("cp1252")
    assert load_file(write(tmp_path / "w.txt", data)).text == "He said “naïve café” – it’s déjà vu, €5."
    short = "“Hello” café".encode("cp1252")  # too short for charset detection to be sure
    assert decode_text(short, "s.txt") == "“Hello” café"
    assert decode_text("plain é".encode("latin-1"), "l.txt") == "plain é"


def test_other_legacy_encodings_are_detected():
    text = "Привет, как дела? Это длинный тест кодировки для проверки."
    assert decode_text(text.encode("cp1251"), "ru.txt") == text


def test_utf8_bom_is_stripped(tmp_path):
    doc = load_file(write(tmp_path / "bom.md", b"\xef\xbb\xbf# Title\n\nBody."))
    assert doc.text == "# Title\n\nBody." and doc.title == "Title"


# ---------------------------------------------------------------- readers

def test_pdf_with_text(tmp_path):
    path = write(tmp_path / "paper.pdf", pdf_with_text("Russia has denied interfering.", "Second line (here)."))
    raw = read_file(path)
    assert "Russia has denied interfering." in raw.text and "Second line (here)." in raw.text
    doc = load_file(path)
    assert "Russia has denied interfering." in doc.text
    assert doc.title == "Russia has denied interfering."  # no /Title: the first line


def test_html_title_and_dropped_chrome(tmp_path):
    page = """<!doctype html><html><head><title> My  Page </title>
    <style>p { color: red }</style><script>var secret = "do not index";</script></head>
    <body><nav>Home | About</nav><header>Site banner</header>
    <h1>Main heading</h1>
    <p>First paragraph
       wrapped in the source.</p><!-- a comment -->
    <div>Second <b>bold</b> block<br>With a break</div>
    <ul><li>one</li><li>two</li></ul>
    <aside>Related links</aside><footer>Copyright</footer></body></html>"""
    doc = load_file(write(tmp_path / "page.html", page))
    assert doc.title == "My Page"
    assert doc.text == ("Main heading\n\nFirst paragraph wrapped in the source.\n\n"
                        "Second bold block\nWith a break\n\none\n\ntwo")


def test_html_title_falls_back_to_h1_and_meta_charset(tmp_path):
    page = ('<html><head><meta charset="windows-1252"></head><body><h1>Caf\xe9 news</h1>'
            '<p>\x93Quoted\x94 text.</p></body></html>').encode("latin-1")
    doc = load_file(write(tmp_path / "old.htm", page))
    assert doc.title == "Café news"
    assert doc.text == "Café news\n\n“Quoted” text."


def test_docx_with_heading_title_and_table(tmp_path):
    data = docx_bytes(1, "Quarterly report", "Revenue grew.", "Costs fell.", table=[["a", "b"], ["c", "d"]])
    doc = load_file(write(tmp_path / "q.docx", data))
    assert doc.title == "Quarterly report"
    assert doc.text == "Quarterly report\n\nRevenue grew.\n\nCosts fell.\n\na: c | b: d"
    assert load_file(write(tmp_path / "t.docx", docx_bytes(0, "The Title", "Body."))).title == "The Title"


def test_markdown_title_is_first_h1(tmp_path):
    text = "Intro line\n\n## Not this\n\n# The Real Title #\n\nBody text\nwrapped here.\n"
    doc = load_file(write(tmp_path / "n.markdown", text))
    assert doc.title == "The Real Title"
    assert load_file(write(tmp_path / "plain.md", "No heading at all.\n")).title == "No heading at all."


@pytest.mark.parametrize("heading, title", [
    ("# Title ##", "Title"), ("# Title # #", "Title #"), ("# C#", "C#"), ("# ###", "###"), ("# a ##x ##", "a ##x"),
    ("#\tTabbed\t#\t", "Tabbed"), ("# Spaced   ", "Spaced")])
def test_markdown_title_drops_closing_hashes_only(heading, title):
    assert read_file("n.md", f"{heading}\n\nBody.\n".encode()).title == title


def test_long_runs_of_spaces_read_in_linear_time(tmp_path):
    # Both once took minutes or hours (quadratic patterns): now each reads well within the time limit.
    md = load_file(write(tmp_path / "wide.md", "# Wide" + " " * 500_000 + "heading\n\nBody.\n"))
    assert md.text == "# Wide heading\n\nBody." and md.title.startswith("Wide")
    html = load_file(write(tmp_path / "wide.html", "<pre>" + " " * 500_000 + "x\n" + " " * 500_000 + "y</pre>"))
    assert html.text == "x y"  # one line each in the <pre>, re-joined as a wrapped paragraph


def test_read_file_returns_raw_text(tmp_path):
    assert read_file(write(tmp_path / "r.txt", "a  b\r\n")) == RawText("a  b\r\n", None)


# ---------------------------------------------------------------- cleaning

def test_whitespace_normalisation():
    raw = "  Title\t\there  \r\n\r\n\r\n\r\nBody\u00a0text\u200b with\u2003odd   spaces.  \rEnd\n\n\n"
    assert clean_text(raw).text == "Title here\n\nBody text with odd spaces.\nEnd"


def test_nfc_with_exact_offsets():
    raw = "Cafe\u0301 and  nai\u0308ve"
    cleaned = clean_text(raw)
    assert cleaned.text == "Café and naïve"
    m = cleaned.offset_map
    assert raw[m[3]:m[4]] == "e\u0301"  # the composed é points at its two raw chars
    assert raw[m[5]:m[8]] == "and"
    assert raw[m[9]:m[14]] == "nai\u0308ve"


def test_furniture_dropped_only_as_whole_standalone_lines():
    raw = ("Skip to main content\n\nReal title\n\nADVERTISEMENT\n\nShare this story with friends.\n\n"
           "Popular Video\nBreaking News\nThe body.\nComments\nPost a Comment\n")
    assert clean_text(raw).text == "Real title\n\nShare this story with friends.\n\nThe body."
    wrapped = "Both sides will\nshare\nthe cost of the new bridge over the river."
    assert clean_text(wrapped).text == "Both sides will share the cost of the new bridge over the river."
    assert FURNITURE >= {"advertisement", "share", "comments", "skip to main content"}


def test_hard_wrapped_sample_is_rejoined():
    raw = (SAMPLE / "000_8bc013782648c3d5.txt").read_text(encoding="utf-8")
    text = clean_text(raw).text
    lines = text.split("\n")
    assert lines[0] == ("Russian govt denies interfering with the U.S election after Hillary Clinton's "
                        "emails are hacked revealing damaging information")
    assert lines[1].startswith("Russia has denied interfering with the U.S presidential elections after "
                               "Hillary Clinton campaign /Democratic party emails were hacked.")
    assert "In an interview with CNN's Christiane Amanpour in Moscow, Lavrov said it was" in text
    assert "Comments" not in text and "Post a Comment" not in text
    assert text.endswith("state and local election officials have in place.\"")


def test_paragraphs_separated_by_blank_lines_stay_paragraphs():
    for path in sorted(SAMPLE.glob("00[1-4]_*.txt")):
        raw = path.read_text(encoding="utf-8")
        paragraphs = [p.strip() for p in raw.split("\n\n") if p.strip() and p.strip().lower() not in FURNITURE]
        cleaned = clean_text(raw).text.split("\n\n")
        assert len(cleaned) == len(paragraphs), path.name


def test_structure_is_not_joined():
    raw = ("# Heading\nSome intro text\n- item one\n- item two\n1. first\n> quoted\n| a | b |\n| c | d |\n"
           "```\ncode line\nmore code\n```\n")
    assert clean_text(raw).text == raw.rstrip("\n")


def test_headings_inside_wrapped_text_stay_lines():
    # As pypdf extracts pages: wrapped lines, headings on their own lines, no blank lines.
    raw = ("Annual Report 2023\nIntroduction\n"
           "The company had a strong year with revenue growing by twenty percent compared to the\n"
           "previous year. Costs were kept under control and the margin improved significantly in all\n"
           "regions. The board is pleased with the results.\nOutlook\n"
           "We expect continued growth in the coming year, driven by new products and expansion into\n"
           "new markets. Risks remain, including currency fluctuations and supply chain disruption.\n")
    assert clean_text(raw).text == (
        "Annual Report 2023\nIntroduction\n"
        "The company had a strong year with revenue growing by twenty percent compared to the previous "
        "year. Costs were kept under control and the margin improved significantly in all regions. "
        "The board is pleased with the results.\nOutlook\n"
        "We expect continued growth in the coming year, driven by new products and expansion into new "
        "markets. Risks remain, including currency fluctuations and supply chain disruption.")


def test_short_standalone_lines_stay_lines():
    raw = "By Richard Chiu\n2016 Election Protests\nDemonstrators march along the Strip."
    assert clean_text(raw).text == raw


def test_lowercase_continuation_and_hyphenation_are_joined():
    assert clean_text("A sentence that\ncarries on.").text == "A sentence that carries on."
    assert clean_text("a well-\nknown fact").text == "a well-known fact"


def test_guess_title():
    assert guess_title("\n\n  First   line here  \nsecond") == "First line here"
    assert guess_title("# Markdown heading\nbody") == "Markdown heading"
    long = guess_title("word " * 100)
    assert len(long) <= 200 and long.endswith("…") and long.startswith("word word")
    assert guess_title("   \n") == ""


@pytest.mark.parametrize("text, title", [
    ("[![Build Status](https://ci.example/b.svg)](https://ci.example) [![PyPI](https://p.example/v.svg)]"
     "(https://p.example)\n\nRequests: HTTP for Humans\n\nMore.", "Requests: HTTP for Humans"),
    ("![logo](logo.png)\n\n# The Tool\n", "The Tool"),
    ("SSH(1)          BSD General Commands Manual          SSH(1)\n\nNAME\n     ssh — OpenSSH remote login "
     "client\n\nSYNOPSIS\n     ssh [-46]", "ssh — OpenSSH remote login client"),
    ("GZIP(1)     General Commands Manual     GZIP(1)\n\nSYNOPSIS\n  gzip [ -acd ]", "GZIP(1)"),
    ("A report (2) on things (2)\nbody", "A report (2) on things (2)"),
])
def test_a_title_skips_badges_and_running_headers(text, title):
    assert guess_title(text) == title


def test_offset_map_shape_and_monotonic():
    raw = "\ufeffA\r\nB\t\tC\n\n\n\nD  \u00a0E\u0301\n"
    cleaned = clean_text(raw)
    m = cleaned.offset_map
    assert len(m) == len(cleaned.text) + 1 and m[-1] == len(raw)
    assert all(a <= b for a, b in zip(m, m[1:]))
    assert list(clean_text("").offset_map) == [0] and clean_text("").text == ""


def dropped_furniture(raw: str) -> set[int]:
    """Raw offsets inside whole furniture lines (all of which the samples drop)."""
    dropped = set()
    for line in re.finditer(r"[^\n]*", raw):
        if line.group().strip().lower() in FURNITURE:
            dropped.update(range(line.start(), line.end()))
    return dropped


@pytest.mark.parametrize("path", sorted(SAMPLE.glob("*.txt")), ids=lambda p: p.name[:3])
def test_offset_map_round_trip_on_samples(path):
    raw = path.read_text(encoding="utf-8")
    cleaned = clean_text(raw)
    text, m = cleaned.text, cleaned.offset_map
    dropped = dropped_furniture(raw)
    assert not any(text_line.strip().lower() in FURNITURE for text_line in text.split("\n"))
    rng = random.Random(path.name)
    spans = [(0, len(text))] + [sorted(rng.sample(range(len(text) + 1), 2)) for _ in range(300)]
    for s, e in spans:
        original = "".join(ch for i, ch in enumerate(raw[m[s]:m[e]], m[s]) if i not in dropped)
        assert squash(original) == squash(text[s:e]), (s, e)


def test_offset_map_round_trip_on_messy_text():
    rng = random.Random(7)
    pieces = ["word", "Cafe\u0301", "nai\u0308ve", " ", "  ", "\t", "\u00a0", "\n", "\r\n", "\r", "\n\n\n",
              "\u200b", "\x07", "- ", "# ", "well-", "X.", "\ufb01", "\u1100\u1161\u11a8", "e\u0301\u0323"]
    for _ in range(300):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        cleaned = clean_text(raw)
        text, m = cleaned.text, cleaned.offset_map
        assert len(m) == len(text) + 1 and m[-1] == len(raw)
        assert all(a <= b for a, b in zip(m, m[1:]))
        assert text == text.strip() and "  " not in text and "\n\n\n" not in text
        assert unicodedata.is_normalized("NFC", text)
        # Spans that start and end at word boundaries, as chunks do (a span cutting
        # through a composed character has no exact original).
        cuts = [0, len(text)] + [i for i in range(1, len(text)) if text[i - 1].isspace() or text[i].isspace()]
        for _ in range(20):
            s, e = sorted(rng.choice(cuts) for _ in range(2))
            assert squash(raw[m[s]:m[e]]) == squash(text[s:e]), (raw, s, e)


# ---------------------------------------------------------------- cleaning block by block

def assert_same_in_blocks(monkeypatch, raw: str, sizes=(1, 7, 50, 200)) -> None:
    """Cleaning raw in blocks of `sizes` chars gives exactly what one block (the whole text) gives."""
    monkeypatch.setattr(clean_module, "BLOCK_CHARS", 10**9)
    whole = clean_text(raw)
    assert len(whole.offset_map) == len(whole.text) + 1
    for size in sizes:
        monkeypatch.setattr(clean_module, "BLOCK_CHARS", size)
        got = clean_text(raw)
        assert (got.text, got.offset_map) == (whole.text, whole.offset_map), (size, raw[:300])
        bare = clean_text(raw, offsets=False)
        assert (bare.text, bare.offset_map) == (whole.text, None), (size, raw[:300])


def hard_wrapped(rng: random.Random, width: int) -> str:
    """Paragraphs wrapped at `width`, with stray short lines, headings, list items and furniture between."""
    words = ["harbour", "Ledger", "ships", "the", "cargo.", "arrived;", "well-", "known", "In", "an", "share",
             "clerks", "Evening", "\u2019tis", "caf\u00e9", "Cafe\u0301", "fact:", "(notes)", "\u201cquoted.\u201d"]
    parts = []
    for _ in range(rng.randint(2, 12)):
        paragraph = textwrap.fill(" ".join(rng.choice(words) for _ in range(rng.randint(1, 120))), width)
        if rng.random() < 0.3:
            paragraph = rng.choice(words) + "\n" + paragraph  # "In\nan interview ..." or a heading
        parts.append(paragraph)
        parts.append(rng.choice(["\n\n", "\n", "\n\n\n", "\n \n", "\r\n\r\n", "\nShare\n", "\n\nAdvertisement\n\n",
                                 "\n# Heading\n", "\n- item one\n- item two\n", "\nComments\n\n"]))
    return "".join(parts)


BLOCK_CASES = {
    "empty": "",
    "only breaks": "\n\r\n\n",
    "leading blank lines": "\n\n\n  \nThe first line.\nThe second line\ncarries on.\n",
    "whitespace-only lines": "A title\n   \n\t\u00a0\u200b\n \nBody text that\n \ncontinues.\n\u3000\n",
    "crlf": "Title here\r\n\r\n\r\nA sentence that\r\ncarries on.\r\n\r\nEnd\r\n\r\n",
    "cr only and mixed": "One\rtwo\r\rThree\r\n\nFour\n\r\rfive\r",
    "fences with blank lines inside": ("Intro text\n```\ncode one\n\n\n  indented   code\n\nmore code\n```\n"
                                       "after the fence\n\n~~~\n\nShare\n\n~~~\nComments\n"),
    "furniture next to blank lines": ("Skip to main content\n\nReal title\n\nADVERTISEMENT\n\nShare this story.\n"
                                      "Share\nthe cost\n\nComments\n\nPost a Comment\nThe body ends.\nShare\n\n"
                                      "Popular Video\nBreaking News\nWe\nshare\n\nshare\n\nShare\nthe end.\nShare"),
    "nfc": ("Cafe\u0301\n\nnai\u0308ve  e\u0301\u0323\n\u1100\u1161\u11a8 \ufb01\n"
            "A\u200b\u0301 and \u00c5\u030a\n\n\u0301x"),
    "no blank lines": ("Annual Report 2023\nIntroduction\n"
                       "The company had a strong year with revenue growing by twenty percent compared to the\n"
                       "previous year. Costs were kept under control and the margin improved significantly in all\n"
                       "regions. The board is pleased with the results.\nOutlook\nShare\n"
                       "We expect continued growth in the coming year, driven by new products and expansion into\n"
                       "new markets. Risks remain, including currency fluctuations and supply chain disruption.\n"),
    "one long line": "word  \u00a0" * 300,
    "structure": ("# Heading\nSome intro text\n- item one\n- item two\n1. first\n> quoted\n"
                  "| a | b |\n\n| c | d |\n---\n"),
}


@pytest.mark.parametrize("name", BLOCK_CASES)
def test_cleaning_in_blocks_changes_nothing(monkeypatch, name):
    assert_same_in_blocks(monkeypatch, BLOCK_CASES[name])


@pytest.mark.parametrize("path", sorted(SAMPLE.glob("*.txt")), ids=lambda p: p.name[:3])
def test_samples_clean_the_same_in_blocks(monkeypatch, path):
    raw = path.read_bytes().decode("utf-8")
    assert_same_in_blocks(monkeypatch, raw)
    assert_same_in_blocks(monkeypatch, raw.replace("\n", "\r\n"))
    assert_same_in_blocks(monkeypatch, "\n\n".join([raw] * 3), sizes=(500, 3000))


def test_hard_wrapped_text_cleans_the_same_in_blocks(monkeypatch):
    rng = random.Random(11)
    for width in (40, 50, 60, 72, 72, 79, 100, 150):
        raw = hard_wrapped(rng, width)
        assert_same_in_blocks(monkeypatch, raw)
    # The sample that is hard-wrapped, in blocks too small for one paragraph: its pairs of lines
    # cross block boundaries and are still counted once each.
    raw = (SAMPLE / "000_8bc013782648c3d5.txt").read_text(encoding="utf-8")
    monkeypatch.setattr(clean_module, "BLOCK_CHARS", 10**9)
    assert clean_module._hard_wrap(stats_of(raw)) is not None


def stats_of(raw: str):
    stats = clean_module._WrapStats()
    for items, last in clean_module._block_items(raw, pieces=False):
        stats.add(items, last)
    return stats


def test_wrap_statistics_do_not_depend_on_blocks(monkeypatch):
    raw = hard_wrapped(random.Random(3), 72) + (SAMPLE / "000_8bc013782648c3d5.txt").read_text(encoding="utf-8")
    monkeypatch.setattr(clean_module, "BLOCK_CHARS", 10**9)
    whole = stats_of(raw)
    assert sum(whole.counts) > 20 and sum(whole.short) > 0
    for size in (1, 30, 400):
        monkeypatch.setattr(clean_module, "BLOCK_CHARS", size)
        got = stats_of(raw)
        assert (got.counts, got.short, got.running_on) == (whole.counts, whole.short, whole.running_on), size


def test_messy_text_cleans_the_same_in_blocks(monkeypatch):
    rng = random.Random(5)
    pieces = ["word", "Word", "Cafe\u0301", "nai\u0308ve", " ", "  ", "\t", "\u00a0", "\n", "\r\n", "\r", "\n\n\n",
              "\n \n", "\r\n\r\n", "\u200b", "\x07", "- ", "# ", "well-", "X.", "end.", "\ufb01", "\u1100\u1161\u11a8",
              "e\u0301\u0323", "\nShare\n", "share", "\nComments\n", "\n\nAdvertisement\n", "```", "\n```\n", "~~~",
              "| a |", "1. ", "> ", "\x0c", "\u2028", " lower case words run on", " Capital Words Stand"]
    for _ in range(250):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 80)))
        assert_same_in_blocks(monkeypatch, raw, sizes=(1, 3, 7, 50))


def test_blocks_end_after_a_blank_line_or_else_a_line_break(monkeypatch):
    raw = "para one\nline two\n\npara two\r\n\r\npara three is long\r\nand has lines\rand more\n  \nend" * 3
    for size in (1, 5, 12, 40):
        monkeypatch.setattr(clean_module, "BLOCK_CHARS", size)
        spans = list(clean_module._blocks(raw))
        assert spans[0][0] == 0 and spans[-1][1] == len(raw) and len(spans) > 1
        assert all(end == start for (_, end), (start, _) in zip(spans, spans[1:]))  # contiguous
        for _, end in spans[:-1]:
            assert raw[end - 1] in "\r\n" and raw[end - 1:end + 1] != "\r\n"  # never inside a CRLF
    def blocks(text: str) -> list[str]:
        return [text[start:end] for start, end in clean_module._blocks(text)]

    monkeypatch.setattr(clean_module, "BLOCK_CHARS", 10)
    assert blocks("a line\nanother\n\nnext paragraph\n\nlast") == [
        "a line\nanother\n\n", "next paragraph\n\n", "last"]  # past 10 chars, after the next blank line
    assert blocks("a line\nanother line\nyet another line\n\nlast") == [
        "a line\nanother line\n", "yet another line\n\n", "last"]  # no blank line in chars 10-20: any break
    monkeypatch.setattr(clean_module, "BLOCK_CHARS", 3)
    assert blocks("x" * 10 + "\nab\nc") == ["x" * 10 + "\n", "ab\nc"]  # one long line is one block
    assert blocks("x" * 10) == ["x" * 10] and blocks("") == [""]
    assert blocks("abcd\n\r\nefgh") == ["abcd\n\r\n", "efgh"]  # the blank line's CRLF ends past the search window


def test_offsets_false_builds_no_map():
    raw = (SAMPLE / "003_e2e9fd2b9c1e80fc.txt").read_text(encoding="utf-8")
    assert clean_text(raw, offsets=False) == type(clean_text(raw))(clean_text(raw).text, None)


# ---------------------------------------------------------------- load_file / document_from_text

def test_sample_corpus_loads():
    paths = list(scan([SAMPLE]).files)
    assert len(paths) == 5
    docs = [load_file(p) for p in paths]
    assert [d.source for d in docs] == [p.resolve().as_posix() for p in sorted(SAMPLE.glob("*.txt"))]
    assert docs[1].title == "Kremlin Sees No Proof of US Election Interference"  # "Accessibility links" dropped
    first = docs[0]
    assert "Russia has denied interfering" in first.text
    assert "In an interview with CNN's Christiane Amanpour" in first.text
    assert first.title.startswith("Russian govt denies interfering with the U.S election")
    for path, doc in zip(paths, docs):
        assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert doc.mtime == path.stat().st_mtime
        cleaned = clean_text(read_file(path).text)  # the offset map is the cleaner's; a Document has none
        assert cleaned.text == doc.text and len(cleaned.offset_map) == len(doc.text) + 1
        assert not hasattr(doc, "offset_map")


def test_document_from_text():
    doc = document_from_text("notes://1", "  My note\ttitle\n\nSome body\ntext.  ")
    assert (doc.source, doc.title, doc.text) == ("notes://1", "My note title", "My note title\n\nSome body text.")
    assert doc.sha256 == hashlib.sha256("  My note\ttitle\n\nSome body\ntext.  ".encode()).hexdigest()
    assert document_from_text("s", "Body.", title="Given").title == "Given"
    assert error_of(document_from_text, "s", " \n ") == (EmptyDocument, "s: text is empty (only whitespace)")


def test_fifty_megabyte_text_loads_in_bounded_time(tmp_path):
    parts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))]
    block = "\n\n".join(parts) + "\n\n"
    path = tmp_path / "big.txt"
    path.write_text(block * (50_000_000 // len(block.encode()) + 1), encoding="utf-8")
    started = time.perf_counter()
    doc = load_file(path)
    seconds = time.perf_counter() - started
    assert len(doc.text) > 45_000_000
    assert "In an interview with CNN's Christiane Amanpour" in doc.text[-2_000_000:]
    # Not a benchmark (about 5 s on 2 cores): a guard against anything quadratic, which
    # would take hours on 50 MB.
    assert seconds < 60, seconds
    # The offset map, which load_file does not build, in bounded time too (and the same text, in ~50 blocks).
    raw = read_file(path).text
    del doc
    started = time.perf_counter()
    cleaned = clean_text(raw)
    seconds = time.perf_counter() - started
    assert len(cleaned.text) > 45_000_000 and len(cleaned.offset_map) == len(cleaned.text) + 1
    assert cleaned.offset_map[-1] == len(raw) and seconds < 60, seconds


# ---------------------------------------------------------------- format bombs: capped before parsing

def docx_with_body(body: bytes) -> bytes:
    """A real .docx (python-docx's template) whose <w:body> holds `body` alone."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(docx_bytes(1, "Seed")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.split(b"<w:body>", 1)[0] + b"<w:body>" + body + b"</w:body></w:document>"
            archive.writestr(info.filename, data)
    return out.getvalue()


def docx_with_paragraphs(count: int, padding: int = 0) -> bytes:
    """A real .docx whose body holds only `count` one-word paragraphs (and `padding` bytes of XML whitespace)."""
    return docx_with_body(b'<w:p w:rsidR="00A1"><w:r><w:t>word</w:t></w:r></w:p>' * count + b" " * padding
                          + b"<w:sectPr/>")


def test_docx_that_unpacks_too_far_is_refused_before_parsing(tmp_path):
    import zipfile

    from ingest.limits import MB, Limits

    bomb = write(tmp_path / "bomb.docx", docx_with_paragraphs(10, padding=3 * MB))
    assert bomb.stat().st_size < 100_000  # small on disk, 3 MB of XML inside
    unpacked = sum(m.file_size for m in zipfile.ZipFile(bomb).infolist()) / MB
    assert error_of(load_file, bomb, Limits(max_unpacked_bytes=2 * MB)) == (
        FileTooLarge, f"bomb.docx: unpacks to {unpacked:.1f} MB, over the 2.0 MB limit; raise [ingest] max_unpacked_mb "
                      "to read it")
    assert load_file(bomb).text == "\n\n".join(["word"] * 10)  # the default limit lets it through


def test_docx_is_read_without_a_style_lookup_per_paragraph(tmp_path, monkeypatch):
    from docx.text.paragraph import Paragraph

    path = write(tmp_path / "many.docx", docx_bytes(1, "The Heading", *[f"Line {i}." for i in range(50)]))
    # python-docx's paragraph.style searches the styles part on every call: 97 s for 100k paragraphs.
    monkeypatch.setattr(Paragraph, "style", property(lambda self: pytest.fail("per-paragraph style lookup")))
    doc = load_file(path)
    assert doc.title == "The Heading" and doc.text.endswith("Line 49.")


def test_html_with_too_many_elements_is_refused(tmp_path):
    from ingest.limits import Limits

    page = write(tmp_path / "page.html", "<html><body>" + "<p>x</p>" * 1_000 + "</body></html>")
    assert error_of(load_file, page, Limits(max_html_elements=1_000)) == (
        FileTooLarge, "page.html: more than 1,000 HTML elements; raise [ingest] max_html_elements to read it")
    assert load_file(page, Limits(max_html_elements=1_002)).text.startswith("x")


def test_pdf_with_too_many_pages_is_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    from ingest.limits import Limits

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text("The first page speaks of harbours."))))
    for _ in range(2):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    pdf = write(tmp_path / "long.pdf", out.getvalue())
    assert error_of(load_file, pdf, Limits(max_pages=2)) == (
        FileTooLarge, "long.pdf: 3 pages, over the 2 limit; raise [ingest] max_pages to read it")
    assert load_file(pdf, Limits(max_pages=3)).text == "The first page speaks of harbours."
