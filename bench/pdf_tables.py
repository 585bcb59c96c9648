"""Tables in PDFs: how many rows ingest's PDF reader keeps whole, with their headers, and what it costs a page.

Tables: public-domain data on this machine, the tz database's ISO 3166 country list (/usr/share/zoneinfo/
iso3166.tab, 2 columns) and zone table (zone1970.tab, 4 columns), each written as a ruled table by fpdf2 (with
a paragraph before and after); and a real PDF with tables if given (--real, e.g. crc-doc.1.0.pdf from zlib1g-dev,
whose 13 tables are ruled between columns only). For each generated table, a row counts as
- `values`: its cells, in order, on one line of the text (a wrapped cell breaks it);
- `rows`: its line in the row form, `Header: value | Header: value` (ingest/tables.py).
Questions: for --questions rows of the country list, "What is the ISO code of <country>?" asked of an Assistant
on a fresh home holding the two PDFs (the default answerer): `top_hit` when the search's first passage holds the
row's code and country on one line, `cited` when the first citation does, `answered` when the answer's text does.
Speed: seconds per page of read_file over text-heavy PDFs given with --speed (the median of --repeat reads).
Run it from a checkout to measure that checkout. Measures; asserts nothing.

    python bench/pdf_tables.py --speed /tmp/pdfs/*.pdf --real /tmp/pdfs/crc-doc.1.0.pdf --out bench/results/pdf_tables.json
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ingest.readers import read_file  # noqa: E402

TABLES = {"countries.pdf": ("/usr/share/zoneinfo/iso3166.tab", ["Code", "Country"]),
          "zones.pdf": ("/usr/share/zoneinfo/zone1970.tab", ["Codes", "Coordinates", "TZ", "Comments"])}


ROW_FORM = re.compile(r"[^|:]+: [^|]+( \| [^|:]+: [^|]+)+$")  # a line `H: v | H: v`


def rows_of(path: str, width: int) -> list[list[str]]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            cells = line.split("\t")
            rows.append((cells + [""] * width)[:width])
    return rows


def table_pdf(header: list[str], rows: list[list[str]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # the names are UTF-8
    pdf.add_font("DejaVu", style="B", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    pdf.set_font("DejaVu", size=9)
    pdf.add_page()
    pdf.multi_cell(0, 5, "Data from the tz database, which is in the public domain.")
    pdf.ln(3)
    with pdf.table() as table:
        for row in [header, *rows]:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(3)
    pdf.multi_cell(0, 5, "End of the table.")
    return bytes(pdf.output())


def kept(text: str, header: list[str], rows: list[list[str]]) -> dict:
    lines = {" ".join(line.split()) for line in text.splitlines()}
    values = sum(1 for row in rows if any(_in_order([" ".join(c.split()) for c in row if c], line) for line in lines))
    full = sum(1 for row in rows if " | ".join(f"{h}: {' '.join(c.split())}" for h, c in zip(header, row) if c)
               in lines)
    return {"rows": len(rows), "values_on_one_line": values, "row_form": full}


def _in_order(cells: list[str], line: str) -> bool:
    at = 0
    for cell in cells:
        at = line.find(cell, at)
        if at < 0:
            return False
        at += len(cell)
    return True


def speed(paths: list[str], repeat: int) -> list[dict]:
    out = []
    for path in paths:
        data = Path(path).read_bytes()
        times, pages = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            raw = read_file(Path(path).name, data)
            times.append(time.perf_counter() - began)
            pages = len(raw.pages)
        out.append({"pdf": Path(path).name, "pages": pages, "s_per_page": statistics.median(times) / pages})
        print(json.dumps(out[-1]), flush=True)
    return out


def questions(folder: Path, count: int) -> dict:
    from assistant import Assistant

    assistant = Assistant.open(home=Path(tempfile.mkdtemp()) / "home")
    assistant.ingest([folder])
    rows = random.Random(19).sample(rows_of(TABLES["countries.pdf"][0], 2), count)
    found = cited = answered = 0
    for code, country in rows:
        question = f"What is the ISO code of {country}?"
        found += _holds(assistant.prepare(question)[0].hits[0].chunk.text, code, country)
        answer = assistant.ask(question)
        cited += bool(answer.citations) and _holds(answer.citations[0].text, code, country)
        answered += _holds(answer.text, code, country)
    return {"questions": count, "top_hit": found, "cited": cited, "answered": answered}


def _holds(text: str, code: str, country: str) -> bool:
    """Whether a line of text holds the code (a word) and the country."""
    return any(country in line and code in line.replace(":", " ").split() for line in text.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", nargs="*", default=[], help="text-heavy PDFs to time")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real", help="a real PDF with tables: its table pages' text is saved beside --out")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict = {"command": "python bench/pdf_tables.py " + " ".join(sys.argv[1:]), "tables": {}}
    folder = Path(tempfile.mkdtemp())
    for name, (source, header) in TABLES.items():
        rows = rows_of(source, len(header))
        (folder / name).write_bytes(table_pdf(header, rows))
        results["tables"][name] = kept(read_file(folder / name).text, header, rows)
        print(name, json.dumps(results["tables"][name]), flush=True)
    if args.questions:
        results["questions"] = questions(folder, args.questions)
        print(json.dumps(results["questions"]), flush=True)
    if args.real:
        raw = read_file(args.real)
        results["real"] = {"pdf": Path(args.real).name,
                           "row_form_lines": sum(bool(ROW_FORM.match(line)) for line in raw.text.splitlines())}
        print(json.dumps(results["real"]), flush=True)
    results["speed"] = speed(args.speed, args.repeat)
    results["load_average"] = os.getloadavg()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
