"""Tables and more formats (issue 19): .csv and .xlsx in the row form, tables in DOCX and HTML, every file made
by the real library, and the bad inputs of each format."""
from __future__ import annotations

import io
import os
import random
import zipfile

import pytest

from bench.read_tables import padded
from ingest.chunking import Chunker
from ingest.clean import clean_text
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile
from ingest.limits import Limits
from ingest.loading import load_file
from ingest.readers import read_file

REGIONS = ["West", "East", "North", "South", "Harbour", "Valley", "Upland", "Coast", "Delta", "Ridge", "Plains",
           "Forest", "Lakes", "Metro", "Island", "Desert", "Tundra", "Border", "Midlands", "Highlands"]
QUARTERS = ["Q1", "Q2", "Q3", "Q4"]


def revenue(region: str, quarter: str) -> float:
    return round(1 + REGIONS.index(region) * 0.7 + QUARTERS.index(quarter) * 0.3, 1)


def workbook(*sheets: tuple[str, list[list]], title: str | None = None) -> bytes:
    """An .xlsx written by openpyxl: one worksheet per (name, rows)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if title:
        book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SALES = [["Region", "Quarter", "Revenue"]] + [[r, q, revenue(r, q)] for r in REGIONS for q in QUARTERS]


def fill(table, rows: list[list[str]]):
    """A python-docx or python-pptx table with rows written into its cells."""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return table


def pages_of(text: str, starts: tuple[int, ...]) -> list[str]:
    return [text[a:b].strip() for a, b in zip(starts, starts[1:] + (len(text),))]


# ---- the row form ------------------------------------------------------------------------
def test_an_xlsx_is_a_sheet_per_page_in_the_row_form():
    data = workbook(("Q3 sales", [[None], ["Region", "Quarter", "Revenue"], ["West", "Q3", 4.2], [],
                                  ["East", None, 3.0]]),
                    ("Empty", []), ("Notes", [["remember the harbour"]]), title="Sales 2026")
    raw = read_file("sales.xlsx", data)
    assert (raw.title, raw.page_kind, len(raw.pages)) == ("Sales 2026", "sheet", 3)
    assert pages_of(raw.text, raw.pages) == [
        "Sheet: Q3 sales\n\nRegion: West | Quarter: Q3 | Revenue: 4.2\nRegion: East | Revenue: 3",
        "",  # an empty sheet starts where the next one does: sheet 3 is still sheet 3
        "Sheet: Notes\n\nremember the harbour"]


def test_a_csv_is_one_table_whatever_its_delimiter():
    text = "\n\nregion;quarter;note\nwest;Q3;rose by 2%\nCoast;;\nlakes;Q1;a; with a semicolon\n"
    raw = read_file("notes.csv", text.encode("utf-8"))
    assert raw.text == ("region: west | quarter: Q3 | note: rose by 2%\nregion: Coast\n"
                        "region: lakes | quarter: Q1 | note: a | Column 4: with a semicolon")
    # Cleaning keeps every row on its own line, even rows that start in lower case.
    assert clean_text(raw.text).text == raw.text


def test_docx_and_html_tables_are_in_the_row_form():
    import docx

    document = docx.Document()
    document.add_paragraph("Revenue by region.")
    table = fill(document.add_table(rows=3, cols=3), [["Region", "", ""], ["West", "Q3", "4.2"], ["East", "", ""]])
    table.cell(0, 1).merge(table.cell(0, 2)).text = "Sales"  # a header over two columns
    table.cell(2, 1).merge(table.cell(2, 2)).text = "n/a"  # a merged cell: its text once
    out = io.BytesIO()
    document.save(out)
    assert read_file("r.docx", out.getvalue()).text == (
        "Revenue by region.\n\nRegion: West | Sales: Q3 | Sales: 4.2\nRegion: East | Sales: n/a")
    html = (b"<html><body><p>Revenue by region.</p><table><thead><tr><th>Region</th><th>Revenue</th></tr></thead>"
            b"<tbody><tr><td>West</td><td>4.2</td></tr><tr><td>East</td><td>3</td></tr></tbody></table>"
            b"<table><tr><td>Layout <table><tr><th>Name</th></tr><tr><td>Ada</td></tr></table></td></tr></table>"
            b"</body></html>")
    assert read_file("r.html", html).text == (
        "Revenue by region.\n\nRegion: West | Revenue: 4.2\nRegion: East | Revenue: 3\n\nLayout\n\nName: Ada")


def test_a_table_split_into_chunks_keeps_its_header_in_every_row(tmp_path, embedder):
    path = tmp_path / "sales.xlsx"
    path.write_bytes(workbook(("Sales", SALES)))
    doc = load_file(path)
    chunks = Chunker(60, 10, embedder.count_tokens).chunk(doc)
    assert len(chunks) > 5
    for chunk in chunks:
        rows = [line for line in doc.text[chunk.start:chunk.end].split("\n") if line and "Sheet:" not in line]
        assert rows and all(line.startswith("Region: ") and " | Revenue: " in line for line in rows), chunk


def test_a_question_about_one_row_is_answered_and_cited_from_it(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sales.xlsx").write_bytes(workbook(("Notes", [["Figures in millions of euros."]]), ("Sales", SALES)))
    assistant = make_assistant()
    report = assistant.ingest([docs])
    assert report.sources("added") and not report.failed
    answer = assistant.ask("What was the West's revenue in Q3?")
    row = f"Region: West | Quarter: Q3 | Revenue: {revenue('West', 'Q3')}"
    assert not answer.abstained and row in answer.citations[0].text
    assert (answer.citations[0].page, answer.citations[0].page_kind) == (2, "sheet")
    assert answer.citations[0].location == "sheet 2"
    # The short answer is the asked cell of the asked row, whichever row of the table (assistant/answerers/
    # extractive/rows.py): the reader alone mixed up rows and took the region or quarter for the answer.
    for region, quarter in (("West", "Q3"), ("Harbour", "Q1"), ("Tundra", "Q4"), ("Midlands", "Q2")):
        answer = assistant.ask(f"What was the {region} region's revenue in {quarter}?")
        assert answer.short == str(revenue(region, quarter)), (region, quarter, answer.short, answer.text)
        assert f"Region: {region} | Quarter: {quarter} | Revenue:" in answer.citations[0].sentence


def deck(*slides: tuple[str | None, str, str], rows: list[list[str]] | None = None) -> bytes:
    """A .pptx written by python-pptx: one slide per (title, body, notes); a blank slide with a table after them."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for title, body, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        if title:
            slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    if rows:
        slide = presentation.slides.add_slide(presentation.slide_layouts[6])
        fill(slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(1), Inches(6), Inches(3)).table, rows)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


DECK = deck(("Harbour project", "Budget approved\nWork starts in May", "Mention the delay."),
            (None, "", ""),  # a slide without text: the next is still slide 3
            ("Lighthouse", "The keeper was Margaret Oduya.", ""), rows=[["Region", "Revenue"], ["West", "4.2"]])


def test_a_pptx_is_a_slide_per_page_with_its_notes_and_tables():
    raw = read_file("deck.pptx", DECK)
    assert (raw.title, raw.page_kind) == ("Harbour project", "slide")
    assert pages_of(raw.text, raw.pages) == [
        "Harbour project\n\nBudget approved\nWork starts in May\n\nNotes: Mention the delay.", "",
        "Lighthouse\n\nThe keeper was Margaret Oduya.", "Region: West | Revenue: 4.2"]


def test_a_slide_is_the_citation_location(tmp_path, make_assistant):
    (tmp_path / "deck.pptx").write_bytes(DECK)
    assistant = make_assistant()
    assert not assistant.ingest([tmp_path / "deck.pptx"]).failed
    answer = assistant.ask("Who was the keeper of the lighthouse?")
    assert "Margaret Oduya" in answer.citations[0].text and answer.citations[0].location == "slide 3"


def mail(html_only: bool = False, parts: int = 0, encrypted: bool = False) -> bytes:
    """An .eml written by the standard library's email package."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ada <ada@example.org>", "bob@example.org", "Harbour budget"
    message["Date"] = "Sun, 06 Dec 2026 10:00:00 +0000"
    html = "<p>Hi Bob,</p><table><tr><th>Item</th><th>Cost</th></tr><tr><td>Pier</td><td>4.2</td></tr></table>"
    if html_only:
        message.set_content(html, subtype="html")
    else:
        message.set_content("Hi Bob,\n\nThe harbour budget was approved at 4.2 million.\n\nAda")
        message.add_alternative(html, subtype="html")
        message.add_attachment(b"Region,Revenue\nWest,4.2\n", maintype="text", subtype="csv", filename="sales.csv")
    for i in range(parts):
        message.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{i}.bin")
    data = message.as_bytes()
    if encrypted:
        data = data.replace(b"multipart/mixed", b"multipart/encrypted", 1)
    return data


def test_an_eml_is_its_headers_then_its_body():
    raw = read_file("m.eml", mail())
    assert raw.title == "Harbour budget"
    assert raw.text == ("From: Ada <ada@example.org>\nTo: bob@example.org\nDate: Sun, 06 Dec 2026 10:00:00 +0000\n"
                        "Subject: Harbour budget\n\nHi Bob,\n\nThe harbour budget was approved at 4.2 million.\n\nAda"
                        "\n\nAttachments: sales.csv")
    assert read_file("h.eml", mail(html_only=True)).text.endswith("Subject: Harbour budget\n\nHi Bob,\n\nItem: Pier | "
                                                                   "Cost: 4.2")


def epub(chapters: dict[str, str], spine: list[str], encrypted: tuple[str, ...] = ()) -> bytes:
    """An EPUB assembled with zipfile: a container, a package (OPF) whose spine gives the order, XHTML chapters."""
    items = "".join(f'<item id="{c}" href="{c}.xhtml" media-type="application/xhtml+xml"/>' for c in chapters)
    refs = "".join(f'<itemref idref="{c}"/>' for c in spine)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:'
                      'names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                      'media-type="application/oebps-package+xml"/></rootfiles></container>')
        book.writestr("OEBPS/content.opf", '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
                      'version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Harbour'
                      f'</dc:title></metadata><manifest>{items}</manifest><spine>{refs}</spine></package>')
        for chapter, body in chapters.items():
            book.writestr(f"OEBPS/{chapter}.xhtml", f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/'
                          f'xhtml"><head><title>{chapter}</title></head><body>{body}</body></html>')
        if encrypted:
            refs = "".join(f'<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"><CipherData><CipherReference '
                           f'URI="OEBPS/{c}.xhtml"/></CipherData></EncryptedData>' for c in encrypted)
            book.writestr("META-INF/encryption.xml", f'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                          f'container">{refs}</encryption>')
    return out.getvalue()


BOOK = {"one": "<h1>Arrival</h1><p>The keeper was Margaret Oduya.</p>",
        "two": "<h1>Prologue</h1><p>A storm.</p><table><tr><th>Year</th><th>Ships</th></tr><tr><td>1901</td>"
               "<td>12</td></tr></table>"}


def test_an_epub_is_its_documents_in_spine_order():
    raw = read_file("b.epub", epub(BOOK, ["two", "one"]))
    assert raw.title == "The Harbour"
    assert raw.text == "Prologue\n\nA storm.\n\nYear: 1901 | Ships: 12\n\nArrival\n\nThe keeper was Margaret Oduya."


# ---- bad inputs ---------------------------------------------------------------------------
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # what Office writes for a password-protected file


def _noise() -> bytes:
    return random.Random(19).randbytes(4096)


@pytest.mark.parametrize("name, data, error, message", [
    ("c.xlsx", _noise(), UnreadableFile, "c.xlsx: not a valid XLSX file"),
    ("c.xlsx", b"PK\x03\x04" + _noise(), UnreadableFile, "c.xlsx: not a valid XLSX file"),
    ("e.xlsx", OLE, UnreadableFile, "e.xlsx: file is encrypted (password-protected) or in the old binary format; "
                                    "save it unprotected as Office Open XML to read it"),
    ("e.docx", OLE, UnreadableFile, "e.docx: file is encrypted (password-protected) or in the old binary format; "
                                    "save it unprotected as Office Open XML to read it"),
    ("c.pptx", _noise(), UnreadableFile, "c.pptx: not a valid PPTX file"),
    ("c.pptx", b"PK\x03\x04" + _noise(), UnreadableFile, "c.pptx: not a valid PPTX file"),
    ("e.pptx", OLE, UnreadableFile, "e.pptx: file is encrypted (password-protected) or in the old binary format; "
                                    "save it unprotected as Office Open XML to read it"),
    ("empty.pptx", b"", EmptyDocument, "empty.pptx: file is empty"),
    ("blank.pptx", deck(), EmptyDocument, "blank.pptx: presentation has no text"),
    ("c.eml", _noise(), None, "c.eml: looks like a binary file, not text"),
    ("c.eml", b"just some text\nwithout headers\n", UnreadableFile,
     "c.eml: not an e-mail message (none of the headers From, To, Cc, Date, Subject)"),
    ("e.eml", mail(encrypted=True), UnreadableFile, "e.eml: e-mail is encrypted (S/MIME or PGP)"),
    ("b.eml", mail(parts=1000), FileTooLarge, "b.eml: more than 1,000 MIME parts"),
    ("empty.eml", b"", EmptyDocument, "empty.eml: file is empty"),
    ("c.epub", _noise(), UnreadableFile, "c.epub: not a valid EPUB file"),
    ("c.epub", epub(BOOK, ["one"])[:-300], UnreadableFile, "c.epub: not a valid EPUB file"),
    ("e.epub", epub(BOOK, ["one", "two"], encrypted=("two",)), UnreadableFile, "e.epub: EPUB is encrypted (DRM)"),
    ("empty.epub", b"", EmptyDocument, "empty.epub: file is empty"),
    ("blank.epub", epub({"one": "<p> </p>"}, ["one"]), EmptyDocument, "blank.epub: EPUB has no text"),
    ("empty.xlsx", b"", EmptyDocument, "empty.xlsx: file is empty"),
    ("empty.csv", b"", EmptyDocument, "empty.csv: file is empty"),
    ("blank.csv", b",,\n\n , ,\n", EmptyDocument, "blank.csv: file has no text (only whitespace)"),
    ("c.csv", _noise(), None, "c.csv: looks like a binary file, not text"),
])
def test_bad_files_fail_with_one_line(name, data, error, message):
    from ingest.errors import UnsupportedFile

    with pytest.raises(error or UnsupportedFile) as info:
        read_file(name, data)
    assert str(info.value) == message


def test_an_empty_workbook_is_empty():
    with pytest.raises(EmptyDocument, match=r"^e\.xlsx: workbook has no cell values$"):
        read_file("e.xlsx", workbook(("One", []), ("Two", [[None, None]])))


@pytest.mark.parametrize("name, data", [("x.xlsx", workbook(("Sales", SALES))), ("x.pptx", DECK), ("x.eml", mail()),
                                        ("x.csv", b"a,b\n" * 1000), ("x.epub", epub(BOOK, ["one", "two"]))])
def test_a_file_of_too_many_xml_nodes_or_bytes_is_refused_before_it_is_parsed(tmp_path, name, data):
    if name.endswith(("xlsx", "pptx", "epub")):
        with pytest.raises(FileTooLarge, match=rf"^{name}: more than 20 XML elements and attributes; raise "
                                               r"\[ingest\] max_xml_nodes to read it$"):
            read_file(name, data, limits=Limits(max_xml_nodes=20))
    (tmp_path / name).write_bytes(data)
    with pytest.raises(FileTooLarge, match=rf"^{name}: 0\.\d MB is over the 0\.0 MB limit"):
        read_file(tmp_path / name, limits=Limits(max_file_bytes=100))


def test_headers_on_every_row_are_capped_while_written():
    # The text of a table can be far longer than its file: it is capped while it is written.
    header = ",".join(f"{'long header name ' * 3}{i}" for i in range(200))
    csv_data = (header + "\n" + ("1," * 200 + "\n") * 2000).encode()
    assert len(csv_data) < 1024 * 1024
    with pytest.raises(FileTooLarge, match=r"^x\.csv: 1\.0 MB of text \(in characters\), over the 1\.0 MB limit; "
                                           r"raise \[ingest\] max_text_mb to read it$"):
        read_file("x.csv", csv_data, limits=Limits(max_text_chars=1024 * 1024))


def test_a_workbook_padded_to_column_xfd_is_refused_while_read():
    # 300 rows of one cell each, in the last column: openpyxl gives each row 16,384 cells (4.9M in all).
    data = padded(300)
    assert len(data) < 20_000
    with pytest.raises(FileTooLarge, match=r"^p\.xlsx: more than 4,000,000 table cells \(empty ones too\); raise "
                                           r"\[ingest\] max_xml_nodes to read it$"):
        read_file("p.xlsx", data)


def test_a_zip_bomb_workbook_is_refused():
    # A sheet whose XML unpacks to far more than the cap, a few KB on disk.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(("Sales", SALES)))) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            bomb.writestr(item, source.read(item))
        bomb.writestr("xl/padding.xml", b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(FileTooLarge, match=r"^b\.xlsx: unpacks to 20\.\d MB, over the 10\.0 MB limit; raise "
                                           r"\[ingest\] max_unpacked_mb to read it$"):
        read_file("b.xlsx", out.getvalue(), limits=Limits(max_unpacked_bytes=10 * 1024 * 1024))


def test_a_bad_table_file_fails_alone_and_loses_nothing(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sales.csv").write_text("Region,Quarter,Revenue\nWest,Q3,4.2\n")
    (docs / "locked.xlsx").write_bytes(OLE)
    (docs / "broken.xlsx").write_bytes(_noise())
    report = make_assistant().ingest([docs])
    assert [os.path.basename(s) for s in report.sources("added")] == ["sales.csv"]
    assert sorted(r.error for r in report.failed) == [
        "broken.xlsx: not a valid XLSX file",
        "locked.xlsx: file is encrypted (password-protected) or in the old binary format; save it unprotected as "
        "Office Open XML to read it"]
