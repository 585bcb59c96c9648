"""PDF: the text layer by pypdf; tables by pdfplumber, in the row form of ingest/tables.py, on the pages that have
ruling lines (found by pypdfium2); pages without a text layer rendered by pypdfium2 and read by OCR (ingest/ocr.py).

pdfplumber (pdfminer) takes 40-100 ms a page where pypdf takes 8-20 and pypdfium2 1 to list a page's drawn paths
(bench/README.md#pdf-tables), so it runs only on the pages whose vertical rulings could make two columns
(_ruled_pages): a table found by ruling lines needs vertical edges, and the rules under headings are horizontal.
"""
from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from ingest.bombs import check_pages
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.ocr import OCR_OFF, ocr_pdf_pages
from ingest.rawtext import RawText, join_pages
from ingest.tables import Budget, table_lines

log = logging.getLogger(__name__)
_THIN = 3.0  # points: a path this narrow is a vertical line
_LONG = 6.0  # points: a vertical line or box side at least this long may be a table's ruling
_RECTANGLE = 5  # path segments of a rectangle (move, 3 lines, close)


def read_pdf(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """PDF text, one blank line between pages; tables in the row form; pages without a text layer read by OCR
    ([ingest] ocr)."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        with _quiet("pypdf"), _quiet("pdfminer"):
            pdf = PdfReader(io.BytesIO(data))
            if pdf.is_encrypted and not pdf.decrypt(""):  # often encrypted with an empty password
                raise UnreadableFile(f"{name}: PDF is password-protected")
            check_pages(len(pdf.pages), name, limits)
            pages = [page.extract_text() or "" for page in pdf.pages]
            title = _pdf_title(pdf)
            document = pdfium.PdfDocument(data, password="")
            try:
                _tables(data, _ruled_pages(document), pages, name, limits)
                ocr_pages = ocr_pdf_pages(document, pages, name, limits) if limits.ocr else ()
            finally:
                document.close()
    except (UnreadableFile, FileTooLarge, UnsupportedFile):
        raise
    except DependencyError:  # AES needs the optional `cryptography` package
        raise UnreadableFile(f"{name}: PDF is encrypted; pip install cryptography to read it") from None
    except (PyPdfError, pdfium.PdfiumError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OSError) as exc:
        raise UnreadableFile(f"{name}: not a valid PDF ({_short(exc)})") from None
    text, starts = join_pages(pages)
    if not text:
        raise EmptyDocument(f"{name}: PDF has no extractable text" + (
            ", and OCR found none in its pages" if limits.ocr else f" (scanned? {OCR_OFF})"))
    return RawText(text, title, pages=starts, ocr_pages=ocr_pages)


def _ruled_pages(document) -> list[int]:
    """The numbers (0-based) of the pages where a ruled table of two columns or more may be: their vertical lines
    and box sides stand at 3 or more places across the page, or they draw a box of more than one rectangle's
    segments (a grid drawn as one path). A box around a code listing has 2 sides, a heading's rule none."""
    import pypdfium2 as pdfium

    found = []
    for number in range(len(document)):
        page = document[number]
        columns, grid = set(), False
        for path in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_PATH]):
            left, bottom, right, top = path.get_bounds()
            if top - bottom < _LONG:
                continue
            if right - left <= _THIN:
                columns.add(round((left + right) / 2))
            elif right - left >= _LONG:
                columns.update((round(left), round(right)))
                grid = grid or pdfium.raw.FPDFPath_CountSegments(path) > _RECTANGLE
        page.close()
        if len(columns) >= 3 or grid:
            found.append(number)
    return found


def _tables(data: bytes, numbers: Sequence[int], pages: list[str], name: str, limits: Limits) -> None:
    """On the pages `numbers` (0-based) that hold ruled tables, replace the page's text in `pages` by pdfplumber's,
    each table in the row form where it stands in the page."""
    if not numbers:
        return
    import pdfplumber

    budget = Budget()
    try:
        with pdfplumber.open(io.BytesIO(data), pages=[n + 1 for n in numbers], password="") as pdf:
            for page in pdf.pages:
                _check_rulings(page, name, limits)
                tables = sorted(page.find_tables(), key=lambda table: table.bbox[1])
                if tables:
                    pages[page.page_number - 1] = _page_text(page, tables, name, limits, budget)
                page.close()
    except (FileTooLarge, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer failed where pypdf did not: the rest keep pypdf's text
        log.warning("%s: tables not read (%s)", name, _short(exc))


def _check_rulings(page, name: str, limits: Limits) -> None:
    """FileTooLarge before tables are looked for on a page whose ruling lines could make more cells than
    max_xml_nodes: h horizontal and v vertical lines cross in up to h x v points (a table bomb)."""
    horizontal = sum(1 for edge in page.edges if edge["orientation"] == "h")
    vertical = sum(1 for edge in page.edges if edge["orientation"] == "v")
    if horizontal * vertical > limits.max_xml_nodes:
        raise FileTooLarge(f"{name}: page {page.page_number} has {horizontal:,} x {vertical:,} ruling lines, over "
                           f"{limits.max_xml_nodes:,} possible table cells; raise [ingest] max_xml_nodes to read it")


def _page_text(page, tables: list, name: str, limits: Limits, budget: Budget) -> str:
    """The page's text top to bottom: the text between tables, each table's rows, and the text beside a table
    after its rows."""
    left, top, right, bottom = page.bbox
    blocks, at = [], top
    for table in tables:
        x0, y0, x1, y1 = table.bbox
        if y0 > at:
            blocks.append(_text(page.crop((left, at, right, y0), strict=False)))
        rows = _unstacked(table.extract())
        blocks.append("\n".join(table_lines(rows, name, limits, budget)))
        blocks.append(_text(page.crop((left, max(y0, at), right, y1), strict=False).outside_bbox(table.bbox,
                                                                                               strict=False)))
        at = max(at, y1)
    if at < bottom:
        blocks.append(_text(page.crop((left, at, right, bottom), strict=False)))
    return "\n\n".join(block for block in blocks if block.strip())


def _text(region) -> str:
    return region.extract_text() or ""


def _unstacked(rows: Iterable[Sequence[str | None]]) -> Iterable[list[str]]:
    """Table rows, a row whose filled cells all hold the same number n > 1 of lines split into n rows: a table
    ruled only between columns comes out with its rows stacked in one cell each (`CRC-32\\nCRC-64`)."""
    for row in rows:
        cells = [(cell or "").split("\n") for cell in row]
        counts = {len(lines) for lines, cell in zip(cells, row) if cell}
        if len(counts) == 1 and (count := counts.pop()) > 1:
            for i in range(count):
                yield [lines[i] if len(lines) == count else "" for lines in cells]
        else:
            yield [cell or "" for cell in row]


@contextmanager
def _quiet(logger_name: str):
    # pypdf and pdfminer log a warning for every flaw they work around; we report one line per failed
    # file ourselves, and the rest is noise on the console.
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _pdf_title(pdf) -> str | None:
    try:
        title = (pdf.metadata or {}).get("/Title")
    except Exception:  # broken metadata is no reason to lose the text  # noqa: BLE001
        return None
    title = " ".join(str(title or "").split())
    # Producers often store the file name ("Microsoft Word - report.docx"): not a title.
    if not title or re.search(r"\.\w{2,4}$", title):
        return None
    return title


def _short(exc: Exception) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return reason if len(reason) <= 80 else reason[:79] + "…"
