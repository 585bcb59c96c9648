"""Tables as text that keeps each row with its header, and the readers of whole tables: .csv and .xlsx.

The row form: one line per row, `Header: value | Header: value`, empty cells skipped; a table's rows are
separated by single newlines, tables by blank lines. The header is the first row with a non-empty cell; a
column without a header is called `Column N` (N counts from 1). Since every row line carries its headers,
a chunk that starts in the middle of a table still says what each value is.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.bombs import check_office, check_text
from ingest.decode import decode_text, is_binary
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.rawtext import RawText, join_pages

ROW_SEPARATOR = " | "
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
# An OLE compound file: what Office writes for a password-protected .xlsx/.pptx/.docx (and the old binary formats).
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def row_values(line: str) -> list[tuple[int, int]]:
    """Where the values of a row line (`Header: value | Header: value`) are: (start, end) in the line, labels
    left out; [] for a line that is not a row."""
    if ROW_SEPARATOR not in line:
        return []
    out, start = [], 0
    for part in line.split(ROW_SEPARATOR):
        label, colon, value = part.partition(": ")
        first = start + (len(label) + len(colon) if colon else 0)
        out.append((first, start + len(part)))
        start += len(part) + len(ROW_SEPARATOR)
    return out


def cell_text(value: object) -> str:
    """A cell's value as one line: whitespace collapsed, whole floats without '.0', dates without midnight."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    elif isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    return " ".join(str(value).split())


@dataclass
class Budget:
    """What the tables of one file have cost so far: characters of row text, and cells (empty ones too)."""

    chars: int = 0
    cells: int = 0


def table_lines(rows: Iterable[Sequence[object]], name: str, limits: Limits, budget: Budget) -> list[str]:
    """A table's rows in the row form (see the module). FileTooLarge once the file's tables (`budget`) pass
    max_text_chars characters (headers repeated on every row can make the text far longer than the file) or
    max_xml_nodes cells (openpyxl pads a row to its last cell: one cell in column XFD makes 16,384)."""
    header: list[str] | None = None
    lines: list[str] = []
    for row in rows:
        budget.cells += len(row)
        if budget.cells > limits.max_xml_nodes:
            raise FileTooLarge(f"{name}: more than {limits.max_xml_nodes:,} table cells (empty ones too); raise "
                               "[ingest] max_xml_nodes to read it")
        cells = [cell_text(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        parts, previous = [], None
        for i, cell in enumerate(cells):
            label = header[i] if i < len(header) and header[i] else f"Column {i + 1}"
            if cell and (label, cell) != previous:  # merged cells repeat their text under a merged header
                parts.append(f"{label}: {cell}")
            previous = (label, cell)
        lines.append(ROW_SEPARATOR.join(parts))
        budget.chars += len(lines[-1]) + 1
        if budget.chars > limits.max_text_chars:
            check_text(budget.chars, name, limits)
    if header is not None and not lines:  # a table of one row: its cells, nothing lost
        lines.append(ROW_SEPARATOR.join(cell for cell in header if cell))
    return lines


def html_tables(soup, name: str, limits: Limits) -> None:
    """Rewrite, in place, each HTML table that holds no other table as a <div> of its rows in the row form
    (a <br> between rows). Tables that hold tables are page layout: their text is left as it is. Linear: one
    walk finds the innermost tables, and each cell belongs to one of them."""
    from bs4 import Tag

    innermost: dict[int, object] = {}  # id -> table, in document order, without the tables that hold one
    stack: list = [(soup, None)]  # (element, its nearest table ancestor); explicit: pages nest deep
    while stack:
        element, owner = stack.pop()
        if element.name == "table":
            innermost.pop(id(owner), None)
            innermost[id(element)] = owner = element
        stack.extend((child, owner) for child in reversed(element.contents) if isinstance(child, Tag))
    budget = Budget()
    for table in innermost.values():
        lines = table_lines(_html_rows(table), name, limits, budget)
        div = soup.new_tag("div")
        for i, line in enumerate(lines):
            if i:
                div.append(soup.new_tag("br"))
            div.append(line)
        table.replace_with(div)


def _html_rows(table) -> Iterable[list[str]]:
    sections = [table, *table.find_all(["thead", "tbody", "tfoot"], recursive=False)]
    for section in sections:
        for row in section.find_all("tr", recursive=False):
            cells = []
            for cell in row.find_all(["th", "td"], recursive=False):
                text = cell.get_text(" ")
                cells += [text] * min(_span(cell.get("colspan")), _MAX_COLSPAN)
            yield cells


_MAX_COLSPAN = 1000  # what browsers honour


def _span(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def read_csv(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """A .csv file as one table in the row form. The delimiter is whichever of `,` `;` tab `|` the first non-empty
    line holds most of (csv.Sniffer guessed wrong on a plain `;` file), a comma if none."""
    if is_binary(data):
        raise UnsupportedFile(f"{name}: looks like a binary file, not text")
    text = decode_text(data, name)
    first = next((line for line in text[:_SNIFF_CHARS].splitlines() if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first.count)  # the first wins a tie: a comma
    try:
        lines = table_lines(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), name, limits, Budget())
    except csv.Error as exc:
        raise UnreadableFile(f"{name}: not a valid CSV file ({exc})") from None
    return RawText("\n".join(lines))


def read_xlsx(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """An .xlsx workbook: each worksheet one page ('sheet' in citations), starting `Sheet: <name>`, its
    cells' values (formulas as last computed by Excel) in the row form; title from the document properties."""
    check_not_encrypted(data, name)
    check_office(data, name, limits, "XLSX")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets, budget = [], Budget()
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # never trust the declared size: rows would be padded to it
            lines = table_lines(sheet.iter_rows(values_only=True), name, limits, budget)
            sheets.append(f"Sheet: {sheet.title}\n\n" + "\n".join(lines) if lines else "")
        title = (book.properties.title or "").strip() or None
        book.close()
    except (FileTooLarge, UnreadableFile):
        raise
    except Exception:  # openpyxl raises zip, XML, key and value errors for damaged files  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid XLSX file") from None
    text, starts = join_pages(sheets)
    if not text:
        raise EmptyDocument(f"{name}: workbook has no cell values")
    return RawText(text, title, pages=starts, page_kind="sheet")


def check_not_encrypted(data: bytes, name: str) -> None:
    """UnreadableFile if an Office file is an OLE container (password-protected, or the old binary format)."""
    if data.startswith(_OLE_SIGNATURE):
        raise UnreadableFile(f"{name}: file is encrypted (password-protected) or in the old binary format; "
                             "save it unprotected as Office Open XML to read it")
