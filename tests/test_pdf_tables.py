"""Tables in PDFs (issue 19): ruled tables found by pdfplumber come out in the row form of ingest/tables.py, in
reading order with the page's other text, page numbers kept. Every PDF here is written by fpdf2."""
from __future__ import annotations

import pytest

from ingest.chunking import Chunker
from ingest.errors import FileTooLarge, UnreadableFile
from ingest.loading import load_file
from ingest.readers import read_file
from test_formats import SALES, pages_of, revenue
from test_loading import encrypted, error_of, write

BEFORE = "Quarterly results of the northern cooperative, in millions of euros."
AFTER = "Revenue grew in every region after the new harbour opened."


def report_pdf(rows: list[list], layout: str = "ALL", cover: bool = True) -> bytes:
    """A PDF written by fpdf2: a page of prose (if `cover`), then a page with a paragraph, the table, a paragraph."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if cover:
        pdf.add_page()
        pdf.multi_cell(0, 6, "The annual report of the cooperative covers its harbour and its regions.")
    pdf.add_page()
    pdf.multi_cell(0, 6, BEFORE)
    pdf.ln(4)
    with pdf.table(borders_layout=layout) as table:  # a table longer than a page repeats its heading row
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(str(value))
    pdf.ln(4)
    pdf.multi_cell(0, 6, AFTER)
    return bytes(pdf.output())


def row_line(region: str, quarter: str) -> str:
    return f"Region: {region} | Quarter: {quarter} | Revenue: {revenue(region, quarter)}"


FIRST_ROWS = SALES[:4]  # the header and West's Q1-Q3


@pytest.mark.parametrize("layout", ["ALL", "NO_HORIZONTAL_LINES"])  # the second: rows stacked in one cell each
def test_a_ruled_table_is_in_the_row_form_between_its_page_text(layout):
    raw = read_file("report.pdf", report_pdf(FIRST_ROWS, layout))
    rows = "\n".join(row_line("West", quarter) for quarter in ("Q1", "Q2", "Q3"))
    assert pages_of(raw.text, raw.pages) == [
        "The annual report of the cooperative covers its harbour and its regions.",
        f"{BEFORE}\n\n{rows}\n\n{AFTER}"]


def test_a_page_without_rulings_keeps_the_text_layer_as_before():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for region, quarter, value in SALES[:3]:  # columns of words, no lines: not a ruled table
        pdf.cell(40, 6, str(region))
        pdf.cell(40, 6, str(quarter))
        pdf.cell(40, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.line(10, 40, 200, 40)  # a horizontal rule, as under a heading
    raw = read_file("plain.pdf", bytes(pdf.output()))
    assert " | " not in raw.text and "Region Quarter Revenue" in " ".join(raw.text.split())


def test_a_table_over_pages_has_every_row_with_its_headers():
    raw = read_file("sales.pdf", report_pdf(SALES, cover=False))
    assert len(raw.pages) > 1
    for region, quarter, _ in SALES[1:]:  # every row, on whichever page it fell, with its headers
        assert row_line(region, quarter) in raw.text


def test_a_pdf_table_split_into_chunks_is_cut_between_rows(tmp_path, embedder):
    path = write(tmp_path / "sales.pdf", report_pdf(SALES, cover=False))
    doc = load_file(path)
    chunks = Chunker(60, 10, embedder.count_tokens).chunk(doc)
    assert len(chunks) > 5
    rows = [chunk for chunk in chunks if " | " in chunk.text]
    assert len(rows) > 4
    for chunk in rows:
        lines = [line for line in chunk.text.split("\n") if " | " in line]
        assert all(line.startswith("Region: ") and " | Revenue: " in line for line in lines), chunk.text


def test_a_question_about_one_pdf_row_is_answered_and_cited_from_it(tmp_path, make_assistant):
    docs = tmp_path / "docs"
    write(docs / "report.pdf", report_pdf(SALES))
    assistant = make_assistant()
    report = assistant.ingest([docs])
    assert report.sources("added") and not report.failed
    answer = assistant.ask("What was the West's revenue in Q3?")
    assert not answer.abstained and row_line("West", "Q3") in answer.citations[0].text
    assert (answer.citations[0].page, answer.citations[0].page_kind) == (2, "page")


def test_an_encrypted_pdf_with_an_empty_password_has_its_tables_read():
    raw = read_file("restricted.pdf", encrypted(report_pdf(FIRST_ROWS, cover=False), ""))
    assert row_line("West", "Q3") in raw.text
    assert error_of(read_file, "locked.pdf", encrypted(report_pdf(FIRST_ROWS), "hunter2")) == (
        UnreadableFile, "locked.pdf: PDF is password-protected")


def test_a_table_bomb_is_refused_before_its_cells_are_made():
    from fpdf import FPDF

    # 2,100 horizontal and 2,100 vertical rulings on one page: 4.4 million cells, in a PDF of 60 KB.
    pdf = FPDF(unit="pt", format=(2200, 2200))
    pdf.add_page()
    pdf.set_line_width(0.1)
    for i in range(2100):
        pdf.line(50, 50 + i, 2150, 50 + i)
        pdf.line(50 + i, 50, 50 + i, 2150)
    data = bytes(pdf.output())
    assert error_of(read_file, "grid.pdf", data) == (
        FileTooLarge, "grid.pdf: page 1 has 2,100 x 2,100 ruling lines, over 4,000,000 possible table cells; raise "
                      "[ingest] max_xml_nodes to read it")
