"""Build the real-documents corpus of evals/sets/realdocs.jsonl in OUT_DIR, the same files every time:

    python -m evals.realdocs.build OUT_DIR [--cache DIR]

- crc-doc.1.0.pdf: a paper with nine tables of measurements (zlib1g-dev), as shipped;
- bzip2-manual-scanned.pdf: pages 7-9 of the bzip2 manual (bzip2-doc) rendered to pictures, an image-only PDF
  as a scanner makes it (OCR must read it); page 3 holds a table;
- libffi/*.html: 15 pages of the libffi manual (libffi-dev), as shipped;
- locales.xlsx and number-and-date-conventions.pptx: tables made here by openpyxl and python-pptx from the
  locale data of the GNU C Library (locales), which claims no copyright in it.

Packages come from `apt-get download` into the cache (default ~/.cache/docs-assistant/realdocs); every file is
checked by sha256 (evals/realdocs/sources.py). Exit 1 with one line when a package cannot be had.
"""
from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from evals.realdocs.sources import BZIP2, LIBFFI, LOCALES, ZLIB, CorpusUnavailable, fetch

SCANNED_PAGES = (7, 8, 9)  # of the bzip2 manual: options, memory management, the memory table
SCAN_DPI = 200
FIXED_TIME = datetime(2024, 1, 1)  # written into the Office files' properties, so builds are byte-identical
DATE_PARTS = {"%d": "DD", "%e": "D", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%b": "MMM", "%a": "ddd"}
SEPARATORS = {",": "comma (,)", ".": "full stop (.)", "\u202f": "narrow no-break space (U+202F)",
              "\u2019": "right single quotation mark (\u2019)", " ": "space"}


def build(out: Path, cache: Path) -> list[Path]:
    """Write the corpus into out (made if missing); the files written, in order."""
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    written = [_copy(next(iter(fetch(ZLIB, cache).values())), out / "crc-doc.1.0.pdf")]
    written.append(scanned_pdf(next(iter(fetch(BZIP2, cache).values())), out / "bzip2-manual-scanned.pdf"))
    for file in fetch(LIBFFI, cache).values():
        written.append(_copy(file, out / "libffi" / file.name))
    locales = [locale_facts(file) for file in fetch(LOCALES, cache).values()]
    written.append(spreadsheet(locales, out / "locales.xlsx"))
    written.append(slides(locales, out / "number-and-date-conventions.pptx"))
    return written


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def scanned_pdf(pdf: Path, target: Path) -> Path:
    """SCANNED_PAGES of pdf as grey pictures at SCAN_DPI, saved by Pillow as a PDF with no text layer."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = [document[n - 1].render(scale=SCAN_DPI / 72).to_pil().convert("L") for n in SCANNED_PAGES]
    finally:
        document.close()
    images[0].save(target, "PDF", resolution=SCAN_DPI, save_all=True, append_images=images[1:],
                   title="bzip2 manual, pages 7-9 (scanned)", creationDate=FIXED_TIME.timetuple(), modDate=FIXED_TIME.timetuple())
    return target


def locale_facts(path: Path) -> dict[str, str]:
    """The fields of a glibc locale source file that the tables show, decoded (<Uxxxx> and the '/' escape)."""
    text = path.read_text(encoding="utf-8")

    def field(key: str) -> str:
        found = re.search(rf'^{key}\s+"((?:[^"/]|/.)*)"', text, re.M)
        if found is None:
            raise CorpusUnavailable(f"{path.name}: no {key} field")
        plain = re.sub(r"/(.)", r"\1", found.group(1))
        return re.sub(r"<U([0-9A-Fa-f]{4,6})>", lambda m: chr(int(m.group(1), 16)), plain)

    return {"locale": path.name, "territory": field("territory"), "language": field("language"),
            "country_name": field("country_name"), "country_car": field("country_car"),
            "int_prefix": "+" + field("int_prefix"), "int_curr_symbol": field("int_curr_symbol").strip(),
            "currency_symbol": field("currency_symbol"), "decimal_point": field("decimal_point"),
            "thousands_sep": field("thousands_sep"), "d_fmt": field("d_fmt")}


def spreadsheet(locales: list[dict], target: Path) -> Path:
    """One sheet, one row per locale: names, car code, calling code, currency."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Locales"
    sheet.append(["Locale", "Territory", "Language", "Country (own name)", "Car code", "Calling code",
                  "Currency code", "Currency symbol"])
    for f in locales:
        sheet.append([f["locale"], f["territory"], f["language"], f["country_name"], f["country_car"],
                      f["int_prefix"], f["int_curr_symbol"], f["currency_symbol"]])
    book.properties.title = "Locales of the GNU C Library: codes and currencies"
    book.properties.creator = "docs-assistant evals/realdocs/build.py"
    book.properties.created = book.properties.modified = FIXED_TIME
    return _steady_zip(book.save, target)


def slides(locales: list[dict], target: Path) -> Path:
    """A deck: a title slide, one of text, a numbers table and a dates table (notes on the last two)."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "How countries write numbers and dates"
    first.placeholders[1].text = "From the locale data of the GNU C Library 2.36 (Debian package locales)"
    comma = [f["territory"] for f in locales if f["decimal_point"] == ","]
    point = [f["territory"] for f in locales if f["decimal_point"] == "."]
    text = deck.slides.add_slide(deck.slide_layouts[1])
    text.shapes.title.text = "Decimal comma or decimal point"
    text.placeholders[1].text = (f"A decimal comma is used in {len(comma)} of these {len(locales)} locales: "
                                 f"{', '.join(comma)}.\nA decimal point is used in {', '.join(point)}.")
    for title, header, cells, note in (
            ("Writing numbers", ["Territory", "Language", "Decimal mark", "Thousands separator"],
             lambda f: [SEPARATORS.get(f["decimal_point"], f["decimal_point"]),
                        SEPARATORS.get(f["thousands_sep"], f["thousands_sep"])],
             "Decimal mark and thousands separator: decimal_point and thousands_sep of LC_NUMERIC."),
            ("Writing dates", ["Territory", "Language", "Short date format"],
             lambda f: [date_pattern(f["d_fmt"])],
             "Short date format: d_fmt of LC_TIME. DD is the day with two digits, D without a leading zero, "
             "MM the month, MMM its abbreviated name, ddd the abbreviated weekday, YYYY the year, YY its "
             "last two digits.")):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
        rows = [header] + [[f["territory"], f["language"], *cells(f)] for f in locales]
        table = slide.shapes.add_table(len(rows), len(header), Inches(0.4), Inches(1.4), Inches(9.2),
                                       Inches(0.3) * len(rows)).table
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        slide.notes_slide.notes_text_frame.text = note
    deck.core_properties.title = "How countries write numbers and dates"
    deck.core_properties.author = "docs-assistant evals/realdocs/build.py"
    deck.core_properties.created = deck.core_properties.modified = FIXED_TIME
    deck.core_properties.last_modified_by = ""
    deck.core_properties.revision = 1
    return _steady_zip(deck.save, target)


def date_pattern(d_fmt: str) -> str:
    """A strftime date format as people read it: %d.%m.%Y -> DD.MM.YYYY."""
    return re.sub(r"%[a-zA-Z]", lambda m: DATE_PARTS.get(m.group(0), m.group(0)), d_fmt)


def _steady_zip(save, target: Path) -> Path:
    """save(buffer) an Office file, then write it with every zip entry and the `modified` property dated
    FIXED_TIME (zipfile and openpyxl stamp the time of writing), so the same data gives the same bytes."""
    buffer = io.BytesIO()
    save(buffer)
    modified = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as steady:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + modified, data)
            steady.writestr(zipfile.ZipInfo(entry.filename, FIXED_TIME.timetuple()[:6]), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.realdocs.build", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="directory to write the documents into")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "docs-assistant" / "realdocs",
                        help="where the Debian packages are downloaded and unpacked")
    args = parser.parse_args(argv)
    try:
        written = build(args.out, args.cache)
    except CorpusUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
