"""What reading tables costs: a generated sales table of N rows (5 columns) as .csv and .xlsx, read in this process
(ingest.readers.read_file, cleaning and chunking too), and an .xlsx whose rows end in column XFD (openpyxl pads
each to 16,384 cells) with the cell cap and without. Measures; asserts nothing.

    python bench/read_tables.py --rows 20000 --out bench/results/read_tables.json
"""
from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
import zipfile
from pathlib import Path

from ingest.chunking import Chunker
from ingest.clean import clean_text
from ingest.errors import FileTooLarge
from ingest.limits import Limits
from ingest.readers import read_file


def sales(rows: int) -> list[list]:
    return [["Region", "Quarter", "Product", "Units", "Revenue"]] + [
        [f"Region {i % 97}", f"Q{i % 4 + 1}", f"Product {i % 13}", i % 500, round(i * 0.37, 2)] for i in range(rows)]


def xlsx(table: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sales")
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def padded(rows: int) -> bytes:
    cells = "".join(f'<row r="{i}"><c r="XFD{i}" t="inlineStr"><is><t>x</t></is></c></row>' for i in range(1, rows + 1))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx([["Region"]]))) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{cells}</sheetData>".encode(), data)
            z.writestr(item, data)
    return out.getvalue()


def timed(name: str, data: bytes, limits: Limits = Limits(), chunk: bool = True) -> dict:
    start = time.perf_counter()
    try:
        raw = read_file(name, data, limits)
    except FileTooLarge as exc:
        return {"file": name, "bytes": len(data), "read_s": round(time.perf_counter() - start, 2), "result": str(exc)}
    read_s = time.perf_counter() - start
    result = {"file": name, "bytes": len(data), "read_s": round(read_s, 2), "text_chars": len(raw.text)}
    if chunk:
        from ingest.documents import Document

        cleaned = clean_text(raw.text, offsets=False)
        chunks = Chunker(256, 40).chunk(Document("bench", "t", cleaned.text, ""))  # llama-index's default tokenizer
        result.update(clean_and_chunk_s=round(time.perf_counter() - start - read_s, 2), chunks=len(chunks))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--padded-rows", type=int, default=20_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    table = sales(args.rows)
    timed("warm-up.csv", b"a,b\n1,2\n")  # imports llama-index and loads the tokenizer outside the timings
    csv_data = "\n".join(",".join(map(str, row)) for row in table).encode()
    results = [timed("sales.csv", csv_data), timed("sales.xlsx", xlsx(table)),
               timed("padded.xlsx", padded(args.padded_rows), chunk=False)]
    if args.padded_rows <= 2_000:  # without the cap: ~3 ms a row
        results.append(timed("padded.xlsx", padded(args.padded_rows), Limits(max_xml_nodes=10**10), chunk=False))
    print("| file | bytes | read s | clean+chunk s | text chars | chunks / result |\n|---|---|---|---|---|---|")
    for r in results:
        chars = f"{r['text_chars']:,}" if "text_chars" in r else ""
        print(f"| {r['file']} | {r['bytes']:,} | {r['read_s']} | {r.get('clean_and_chunk_s', '')} | {chars} | "
              f"{r.get('chunks', r.get('result', ''))} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": " ".join(["python", *sys.argv]), "results": results}, indent=2))


if __name__ == "__main__":
    main()
