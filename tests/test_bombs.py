"""Issue 22: a .docx is capped by what its parse builds (XML nodes), the reader worker by its memory, a file by
its text; a text without whitespace is chunked in bounded chunks. Real files, the real worker process, the
real CLI and API server."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from test_http import serving
from test_loading import docx_bytes, docx_with_body, docx_with_paragraphs, error_of, write

BIN = Path(sys.executable).parent / "assistant"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
# The issue's two bombs, full size: 99 MB of one tag inside one paragraph (26M <a/>, 16.6M <w:r/>).
TAGS = {"a": b"<a/>", "w:r": b"<w:r/>"}
NODE_CAP = "more than 4,000,000 XML elements and attributes; raise [ingest] max_xml_nodes to read it"


def docx_bomb(tag: bytes, count: int | None = None) -> bytes:
    """As the issue builds it: a document.xml of one <w:p> holding `hello` and `count` times `tag` (default:
    99 MB of it)."""
    return docx_with_body(b"<w:p><w:r><w:t>hello</w:t></w:r>" + tag * (count or 99 * 2**20 // len(tag)) + b"</w:p>")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {name: write(folder / f"bomb-{name.replace(':', '')}.docx", docx_bomb(tag)) for name, tag in TAGS.items()}


def nodes_lxml_builds(data: bytes) -> int:
    """Elements, attributes and namespace declarations of every XML part, as lxml parses them."""
    from lxml import etree

    total = 0
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            for element in etree.fromstring(archive.read(name)).iter():
                parent = element.getparent()
                declared = len(element.nsmap) - (len(parent.nsmap) if parent is not None else 0)
                total += 1 + len(element.attrib) + declared
    return total


# ---- caps on what a .docx builds -------------------------------------------------------------------------

@pytest.mark.parametrize("tag", TAGS)
def test_the_issues_docx_bombs_are_refused_before_parsing(bombs, tag):
    from ingest.loading import load_file
    from ingest.errors import FileTooLarge

    bomb = bombs[tag]
    assert bomb.stat().st_size < 200_000  # 134 KB and 183 KB on disk, 99 MB of XML inside
    assert error_of(load_file, bomb) == (FileTooLarge, f"{bomb.name}: {NODE_CAP}")


def test_the_node_count_bounds_what_lxml_builds_across_read_blocks(monkeypatch):
    from ingest import bombs
    from ingest.errors import FileTooLarge
    from ingest.limits import Limits

    data = docx_with_paragraphs(200_000)  # ~10 MB of XML: many 1 MB read blocks
    archive = zipfile.ZipFile(io.BytesIO(data))
    counted = sum(bombs._xml_nodes(archive.open(name), 10**12) for name in archive.namelist())
    built = nodes_lxml_builds(data)
    # Never fewer than lxml builds; a few more: each part's <?xml version=.. encoding=.. standalone=..?> counts 4.
    assert built <= counted <= built + 5 * len(archive.namelist()), (built, counted)
    small = zipfile.ZipFile(io.BytesIO(docx_with_paragraphs(2_000)))
    whole = [bombs._xml_nodes(small.open(name), 10**12) for name in small.namelist()]
    monkeypatch.setattr(bombs, "_BLOCK", 7)  # "</" split across blocks over and over: the same count
    assert [bombs._xml_nodes(small.open(name), 10**12) for name in small.namelist()] == whole
    monkeypatch.undo()
    bombs.check_office(data, "ok.docx", Limits(max_xml_nodes=counted))  # exactly at the cap
    assert error_of(bombs.check_office, data, "big.docx", Limits(max_xml_nodes=counted - 1)) == (
        FileTooLarge, f"big.docx: more than {counted - 1:,} XML elements and attributes; raise [ingest] "
                      "max_xml_nodes to read it")


def test_attributes_count_as_nodes_and_parts_are_found_by_content_not_name(tmp_path):
    """One element with 1M attributes (no element cap would see it), and the XML hidden in a part not named .xml."""
    from ingest.errors import FileTooLarge
    from ingest.loading import load_file
    from ingest.limits import Limits

    attributes = b"".join(b' a%d=""' % i for i in range(1_000_000))
    bomb = write(tmp_path / "attrs.docx", docx_bomb(b"<w:r" + attributes + b"/>", count=1))
    assert error_of(load_file, bomb, Limits(max_xml_nodes=900_000)) == (
        FileTooLarge, "attrs.docx: more than 900,000 XML elements and attributes; raise [ingest] max_xml_nodes to "
                      "read it")
    hidden = io.BytesIO()
    with zipfile.ZipFile(hidden, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<?xml version='1.0'?><document/>")
        archive.writestr("customXml/item1.bin", b"\xef\xbb\xbf\n<r>" + b"<a/>" * 2_000 + b"</r>")
        archive.writestr("media/image1.png", b"\x89PNG" + b"<=" * 50_000)  # binary: never parsed, not counted
    from ingest.bombs import check_office

    assert error_of(check_office, hidden.getvalue(), "hidden.docx", Limits(max_xml_nodes=1_500)) == (
        FileTooLarge, "hidden.docx: more than 1,500 XML elements and attributes; raise [ingest] max_xml_nodes to "
                      "read it")
    check_office(hidden.getvalue(), "hidden.docx", Limits(max_xml_nodes=2_500))


@pytest.mark.slow
def test_a_large_real_docx_still_ingests(tmp_path):
    """200,000 paragraphs with runs, bold and plain, as python-docx writes them: under the default caps."""
    from copy import deepcopy

    import docx

    from ingest.loading import load_file

    document = docx.Document()
    first = document.add_paragraph("Paragraph 0 of the ledger ")
    first.add_run("in bold.").bold = True
    section = document.element.body[-1]  # the section properties close the body
    for i in range(1, 200_000):  # copies: 200,000 add_paragraph calls took over 3 minutes
        paragraph = deepcopy(first._p)
        paragraph[0][-1].text = f"Paragraph {i} of the ledger "
        section.addprevious(paragraph)
    out = io.BytesIO()
    document.save(out)
    path = write(tmp_path / "ledger.docx", out.getvalue())
    assert nodes_lxml_builds(out.getvalue()) > 1_600_000
    doc = load_file(path)  # the default limits, in the worker
    assert doc.text.count("in bold.") == 200_000 and doc.text.endswith("Paragraph 199999 of the ledger in bold.")


# ---- the worker's own memory -----------------------------------------------------------------------------

def test_a_bomb_past_every_cap_stops_at_the_workers_memory_limit(bombs):
    """The full 26M-element bomb with the node cap out of the way: the worker's address space stops the
    parse (without the limit it takes 3.2 GB), in one line, and the next file gets a working worker."""
    from ingest.errors import ReaderOutOfMemory
    from ingest.limits import Limits
    from ingest.loading import load_file

    limits = Limits(max_xml_nodes=10**9)
    assert error_of(load_file, bombs["a"], limits) == (
        ReaderOutOfMemory, "bomb-a.docx: needs more than 1024.0 MB to read; raise [ingest] reader_memory_mb to "
                           "read it")
    small = write(bombs["a"].parent / "small.docx", docx_bytes(1, "Harbour", "The ferry leaves at nine."))
    assert load_file(small, limits).text.endswith("The ferry leaves at nine.")


def test_a_file_over_the_workers_memory_fails_alone(make_assistant, tmp_path):
    """A legitimate .docx that no pre-check refuses but that needs more than reader_memory_mb."""
    folder = tmp_path / "docs"
    write(folder / "a-large.docx", docx_with_paragraphs(100_000))
    write(folder / "b-small.docx", docx_bytes(1, "Harbour", "The ferry leaves at nine."))
    write(folder / "c-page.html", "<html><body><p>The harbour opens at dawn.</p></body></html>")
    write(folder / "d-notes.txt", "The ledger is signed each evening.\n")
    assistant = make_assistant(ingest={"reader_memory_mb": 40})
    report = assistant.ingest([folder])
    assert [r.error for r in report.failed] == [
        "a-large.docx: needs more than 40.0 MB to read; raise [ingest] reader_memory_mb to read it"]
    assert sorted(Path(s).name for s in report.sources("added")) == ["b-small.docx", "c-page.html", "d-notes.txt"]
    assert len(assistant.ingest([folder / "a-large.docx"]).failed) == 1  # still refused, still one line
    raised = make_assistant(ingest={"reader_memory_mb": 1024})
    assert [Path(s).name for s in raised.ingest([folder / "a-large.docx"]).sources("added")] == ["a-large.docx"]


# ---- the bombs through the CLI and the API -----------------------------------------------------------------

@pytest.mark.parametrize("env, reason", [
    ({}, NODE_CAP),
    # The node cap out of the way: the worker's memory limit stops the same bombs.
    pytest.param({"ASSISTANT_INGEST__MAX_XML_NODES": "1000000000"},
                 "needs more than 1024.0 MB to read; raise [ingest] reader_memory_mb to read it", marks=pytest.mark.slow),
])
def test_the_cli_reports_each_bomb_in_one_line_and_adds_the_rest(bombs, tmp_path, env, reason):
    good = write(tmp_path / "good.txt", "The harbour bridge opened in 1932.\n")
    result = subprocess.run([str(BIN), "--home", str(tmp_path / "home"), "ingest", "--json", str(bombs["a"]),
                             str(bombs["w:r"]), str(good)], capture_output=True, text=True, env={**ENV, **env},
                            timeout=600)
    report = json.loads(result.stdout)
    assert report["added"] == [good.resolve().as_posix()], result.stderr[-2000:]
    assert {f["source"].rsplit("/", 1)[-1]: f["error"] for f in report["failed"]} == {
        path.name: f"{path.name}: {reason}" for path in bombs.values()}


def test_post_documents_reports_each_bomb_in_one_line(make_assistant, bombs):
    assistant = make_assistant(ingest={"max_upload_mb": 1})
    with serving(assistant) as api:
        files = [("files", (path.name, path.read_bytes())) for path in bombs.values()]
        files.append(("files", ("good.txt", b"The harbour bridge opened in 1932.")))
        reply = httpx.post(f"{api}/documents", files=files, timeout=300)
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert [Path(s).name for s in report["added"]] == ["good.txt"]
    assert {f["source"]: f["error"] for f in report["failed"]} == {
        path.name: f"{path.name}: {NODE_CAP}" for path in bombs.values()}


# ---- a file's text, and text without whitespace ----------------------------------------------------------

def test_a_text_longer_than_max_text_mb_is_refused_in_one_line(tmp_path):
    from ingest.errors import FileTooLarge
    from ingest.limits import MB, Limits
    from ingest.loading import load_file

    page = write(tmp_path / "long.html", "<html><body><p>" + "x" * (2 * MB) + "</p></body></html>")
    blob = write(tmp_path / "blob.txt", "x" * (2 * MB + 1))
    for path in (page, blob):
        assert error_of(load_file, path, Limits(max_text_chars=2 * MB - 1))[1].startswith(
            f"{path.name}: 2.0 MB of text (in characters), over the 2.0 MB limit; raise [ingest] max_text_mb")
    assert load_file(page, Limits(max_text_chars=2 * MB)).text == "x" * (2 * MB)


def test_text_without_whitespace_makes_chunks_of_bounded_length(embedder):
    from ingest.chunking import CHARS_PER_TOKEN, Chunker
    from ingest.documents import Document

    chunker = Chunker(200, 40, embedder.count_tokens)
    longest = 200 * CHARS_PER_TOKEN
    text = "Title line\n\n" + "x" * 1_000_000 + " tail " + " ".join(["y" * 1_500] * 300) + " end."
    doc = Document("blob.txt", "blob", text, "sha")
    chunks = chunker.chunk(doc)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert max(len(c.text) for c in chunks) <= longest + 200  # a chunk's worth, and the separators it keeps
    assert len(chunks) >= len(text) // (longest + 200)
    assert "".join(c.text for c in chunks).count("x") == 1_000_000  # no character lost
    english = "The harbour master signed the ledger each evening. " * 400
    assert [c.text for c in chunker.chunk(Document("e", "e", english, "s"))] == \
        Chunker(200, 40, embedder.count_tokens)._splitter.split_text(english)


def test_an_old_config_with_max_paragraphs_says_what_replaced_it(tmp_path):
    from assistant.errors import ConfigError
    from assistant.settings import Settings

    config = write(tmp_path / "old.toml", "[ingest]\nmax_paragraphs = 1000\n")
    with pytest.raises(ConfigError) as err:
        Settings.load(config, home=tmp_path)
    assert str(err.value) == ("Invalid settings: ingest: Value error, max_paragraphs is gone: max_xml_nodes caps a "
                              ".docx (its XML elements and attributes), max_html_elements an .html file; set those "
                              "instead (docs/configuration.md)")
