"""Pages in citations: a PDF's page numbers from the reader, through cleaning, chunks and the store, to the CLI,
the API, the OpenAI route and the UI. Every PDF here is written by pypdf from real pages."""
from __future__ import annotations

import io
import json
from bisect import bisect_left
from pathlib import Path

import httpx
import pytest

from assistant.answer import Citation
from ingest import clean
from ingest.chunking import Chunker
from ingest.loading import load_file
from ingest.readers import read_pdf
from test_cli import cli, plain
from test_http import serving
from test_loading import pdf_with_text
from vectorstore.records import DocumentRecord

ANSWER_PAGE = ["The lighthouse keeper was named Margaret Oduya.", "She kept the light for thirty years."]
# Page 2 has no text: page 3 must still be called page 3.
REPORT = [["The annual report covers the harbour project."], None, ANSWER_PAGE, ["Budget figures follow."]]
QUESTION = "Who was the lighthouse keeper?"


def pdf_pages(pages: list[list[str] | None]) -> bytes:
    """A PDF with one page per item: its lines of text, or None for a page without any."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for lines in pages:
        if lines is None:
            writer.add_blank_page(612, 792)
        else:
            writer.add_page(PdfReader(io.BytesIO(pdf_with_text(*lines))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_texts(text: str, starts: tuple[int, ...]) -> list[str]:
    return [text[a:b].strip() for a, b in zip(starts, starts[1:] + (len(text),))]


# ---- reading and cleaning ------------------------------------------------------------------
@pytest.mark.parametrize("pages", [
    REPORT,
    [None, None, ["Only page three has text."]],  # empty pages first
    [["First."], None, None, ["Fourth."], None],  # several empty ones between, one at the end
])
def test_empty_pages_keep_the_true_page_numbers(tmp_path, pages):
    raw = read_pdf(pdf_pages(pages), "r.pdf")
    expected = [" ".join(lines) if lines else "" for lines in pages]
    assert len(raw.pages) == len(pages) and raw.pages[0] == 0
    assert [" ".join(t.split()) for t in page_texts(raw.text, raw.pages)] == expected
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf_pages(pages))
    doc = load_file(path)  # cleaned: the page starts are carried into the cleaned text
    assert [" ".join(t.split()) for t in page_texts(doc.text, doc.pages)] == expected
    assert doc.page_kind == "page" and doc.ocr_pages == ()


def test_page_marks_land_where_the_offset_map_says_across_blocks(monkeypatch):
    # Cleaned a few lines at a time, the marks must be where the full offset map puts them.
    monkeypatch.setattr(clean, "BLOCK_CHARS", 60)
    lines = [f"Line {i}\u00a0 of   a hard-wrapped paragraph that carries on" + ("." if i % 4 == 3 else "")
             for i in range(40)]
    raw = "\n".join(lines).replace("Line 10", "\n\nadvertisement\n\nLine 10")
    marks = sorted({raw.index(f"Line {i}") for i in (0, 3, 10, 11, 25, 39)} | {len(raw), raw.index("advertisement")})
    full = clean.clean_text(raw, offsets=True, marks=marks)
    lean = clean.clean_text(raw, offsets=False, marks=marks)
    assert lean.text == full.text and lean.offset_map is None
    assert lean.marks == full.marks == tuple(bisect_left(full.offset_map, m) for m in marks)
    assert full.text[full.marks[1]:].startswith("Line 3")
    assert full.marks[-1] == len(full.text)


def test_a_word_hyphenated_across_lines_keeps_the_page_marks():
    # A PDF's "decompres-" / "sion" is joined with no separator; the marks after it must still land.
    raw = ("This really performs a trial decompres-\nsion and throws away the result.\n"
           "The second page starts here and carries on.")
    marks = (0, raw.index("The second"))
    full = clean.clean_text(raw, offsets=True, marks=marks)
    lean = clean.clean_text(raw, offsets=False, marks=marks)
    assert "decompres-sion and" in full.text and lean.text == full.text
    assert lean.marks == full.marks and full.text[full.marks[1]:].startswith("The second page")


def test_chunks_know_their_page_and_the_pages_inside_them(tmp_path, embedder):
    pages = [[f"Page {n} sentence {i} about item {n * 10 + i}." for i in range(6)] if n != 3 else None
             for n in range(1, 7)]
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_pages(pages))
    doc = load_file(path)
    record = DocumentRecord("d", doc.source, doc.title, doc.sha256, 0, 0, 0, doc.text, doc.pages)
    chunks = Chunker(40, 10, embedder.count_tokens).chunk(doc)
    assert len(chunks) > 3 and any(c.page_breaks for c in chunks)
    for chunk in chunks:
        assert chunk.page == record.page_at(chunk.start)
        for offset in range(chunk.start, chunk.end):
            assert chunk.page_at(offset) == record.page_at(offset), (chunk, offset)
    assert 3 not in {c.page_at(o) for c in chunks for o in range(c.start, c.end)}  # it has no text
    assert {c.page for c in chunks} >= {1, 2, 4, 5, 6}


def test_a_citation_is_on_the_page_its_sentence_starts_on(tmp_path):
    # A sentence that runs from the foot of page 2 onto page 3 is cited as page 2.
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf_pages([["Intro text."], ["Notes.", "The harbour lighthouse was rebuilt by"],
                                ["the engineer Tomas Reyes in 1887.", "It still stands."]]))
    doc = load_file(path)
    record = DocumentRecord("d", doc.source, doc.title, doc.sha256, 1, 0, 0, doc.text, doc.pages)
    third = doc.pages[2]

    def cite(sentence: str) -> Citation:
        start = doc.text.index(sentence)
        return Citation(1, doc.source, doc.title, doc.text[start:], sentence, start, len(doc.text), 1.0).placed(record)

    across = cite(doc.text[doc.text.index("The harbour"):doc.text.index("1887.") + 5])
    assert doc.text.index("The harbour") < third < doc.text.index("1887.")
    assert (across.page, across.page_kind, across.location) == (2, "page", "p. 2")
    assert cite("the engineer Tomas Reyes in 1887.").page == 3  # starts right at the page break
    assert cite("It still stands.").location == "p. 3"
    no_pages = DocumentRecord("d", "a.txt", "A", "", 1, 0, 0, doc.text)
    plain_citation = Citation(1, "a.txt", "A", doc.text, "Intro text.", 0, len(doc.text), 1.0).placed(no_pages)
    assert (plain_citation.page, plain_citation.page_kind, plain_citation.location) == (None, None, "")


# ---- through the assistant ---------------------------------------------------------------
@pytest.fixture(scope="module")
def paged(tmp_path_factory, embedder):
    """(home, assistant, pdf path) with a four-page report whose answer is on page 3 (page 2 is empty)."""
    from assistant import Assistant

    docs = tmp_path_factory.mktemp("paged-docs")
    (docs / "report.pdf").write_bytes(pdf_pages(REPORT))
    (docs / "notes.txt").write_text("The canteen opens at nine. Lunch is served at noon.\n")
    home = tmp_path_factory.mktemp("paged-home")
    assistant = Assistant.open(home=home, embedder=embedder)
    assert len(assistant.ingest([docs]).sources("added")) == 2
    return home, assistant, docs / "report.pdf"


def test_the_cli_cites_page_3(paged):
    home, _, pdf = paged
    data = json.loads(cli("ask", QUESTION, "--json", home=home).stdout)
    first = data["citations"][0]
    assert first["source"] == pdf.as_posix() and "Margaret Oduya" in first["sentence"]
    assert (first["page"], first["page_kind"], first["ocr"]) == (3, "page", False)
    hit = next(h for h in data["hits"] if h["source"] == pdf.as_posix())
    assert hit["page"] == 1 and hit["page_kind"] == "page"  # one small chunk: it starts on page 1
    assert "report.pdf, p. 3" in plain(cli("ask", QUESTION, home=home).stdout)
    text_answer = json.loads(cli("ask", "When is lunch served?", "--json", home=home).stdout)
    assert text_answer["citations"][0]["page"] is None and text_answer["citations"][0]["page_kind"] is None
    sources = {s["source"]: s for s in json.loads(cli("sources", "--json", home=home).stdout)}
    assert sources[pdf.as_posix()]["page_count"] == 4 and "page_starts" not in sources[pdf.as_posix()]


def test_the_native_api_and_the_openai_route_cite_page_3(paged):
    _, assistant, pdf = paged
    with serving(assistant) as url:
        answer = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=120).json()
        chat = httpx.post(f"{url}/v1/chat/completions", timeout=120,
                          json={"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}).json()
        document = httpx.get(f"{url}/documents/{pdf.name}", timeout=60).json()
    assert (answer["citations"][0]["page"], answer["citations"][0]["page_kind"]) == (3, "page")
    cited = chat["choices"][0]["message"]["citations"][0]
    assert (cited["source"], cited["page"], cited["page_kind"], cited["ocr"]) == (pdf.as_posix(), 3, "page", False)
    assert document["page_count"] == 4 and len(document["page_starts"]) == 4
    assert "Margaret Oduya" in document["text"][document["page_starts"][2]:document["page_starts"][3]]


def test_the_ui_shows_the_page_in_the_citation_and_the_viewer(paged):
    from ui import citations, panels

    _, assistant, pdf = paged
    answer = assistant.ask(QUESTION)
    html = citations.answer_html(answer, turn=1)
    assert '<span class="page">p. 3</span>' in html and 'class="ocr"' not in html
    first = answer.citations[0]
    viewer = panels.document_html(assistant.document(str(pdf)), (first.start, first.end), first.sentence_span())
    assert '<div class="meta" title="' in viewer and " · p. 3</div>" in viewer
    assert '<span class="page-mark" id="doc-page-2">p. 2 (no text)</span>' in viewer
    assert viewer.index('id="doc-page-3"') < viewer.index("Margaret Oduya") < viewer.index('id="doc-page-4"')


def test_ocr_read_chunks_are_marked(tmp_path, make_assistant, monkeypatch):
    # The OCR reader (another change) fills RawText.ocr_pages; here a real PDF's page 2 is said to be OCR'd.
    from dataclasses import replace

    from ingest import readers

    monkeypatch.setitem(readers._READERS, ".pdf", lambda data, name, limits: replace(
        read_pdf(data, name, limits), ocr_pages=(2,)))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "scan.pdf").write_bytes(pdf_pages([["A typed cover page."], ["The scanned page names Ada Brook."]]))
    assistant = make_assistant(ingest={"read_timeout": 0})  # read in this process, where the patch is
    assistant.ingest([docs])
    answer = assistant.ask("Who does the scanned page name?")
    assert answer.citations[0].ocr and answer.citations[0].page == 2
    assert answer.hits[0].chunk.ocr
    from ui import citations

    assert 'class="ocr"' in citations.answer_html(answer, turn=1)


def test_a_store_made_before_pages_answers_with_page_none(tmp_path, make_assistant, monkeypatch):
    from assistant import Assistant
    from vectorstore.store import chunks, documents

    # Written as the code before this change wrote it: no page keys on chunks or commit records.
    record_meta, chunk_meta = documents._record_meta, chunks._chunk_meta
    monkeypatch.setattr(chunks, "_chunk_meta", lambda chunk, sha256: {
        k: v for k, v in chunk_meta(chunk, sha256).items() if k not in ("page", "page_breaks", "page_kind", "ocr")})
    monkeypatch.setattr(documents, "_record_meta", lambda record, pages: {
        k: v for k, v in record_meta(record, pages).items() if k not in ("page_starts", "page_kind", "ocr_pages")})
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.pdf").write_bytes(pdf_pages(REPORT))
    home = tmp_path / "home"
    old = make_assistant(home=home)
    old.ingest([docs])
    monkeypatch.undo()
    assistant = Assistant.open(home=home, embedder=old.embedder)
    answer = assistant.ask(QUESTION)
    assert "Margaret Oduya" in answer.citations[0].sentence
    assert (answer.citations[0].page, answer.citations[0].page_kind, answer.citations[0].location) == (None, None, "")
    assert all(h.chunk.page is None and h.chunk.page_breaks == () for h in answer.hits)
    assert assistant.sources()[0].page_count == 0
