"""OCR character error rate and seconds per page: RapidOCR (what ingest uses) vs Tesseract.

Pages are rendered with Pillow from real text nobody here wrote: Debian's copies of licence texts
(/usr/share/common-licenses/Apache-2.0, the Apache License 2.0, and GPL-3, the GNU GPL v3; both texts
may be copied verbatim), in DejaVu Sans 11 pt on A4, at each dpi, in one column and in two. The
reference is the text laid out, in reading order (the left column, then the right); the CER is the
Levenshtein distance (rapidfuzz) between reference and OCR output, each with whitespace collapsed to
single spaces, over the reference's length. Seconds per page: the engine's wall time for the page,
the page image already in memory (Tesseract: ingest's own call, the image piped as PNG to a `tesseract`
process). Measures, never asserts. RapidOCR is measured when `rapidocr-onnxruntime` is installed.
With --pdf, each page goes through ingest's PDF reader instead (seconds: the whole read), as a scanned PDF of
one picture at the page's dpi (engine `pdf`) and as one of 40-pixel picture strips (`pdf-strips`, needs fpdf2).

    python bench/ocr_cer.py --pages 2 --out bench/results/ocr_cer.json
    python bench/ocr_cer.py --pages 1 --pdf --out bench/results/ocr_cer_pdf.json
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ingest.limits import Limits  # noqa: E402
from ingest.ocr import ocr_image  # noqa: E402

SOURCES = ("/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/GPL-3")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
A4 = (8.27, 11.69)  # inches
MARGIN, GUTTER, POINTS, LEADING = 0.9, 0.35, 11, 1.35  # inches, inches, font size, line height / size


def render(words: list[str], dpi: int, columns: int) -> tuple[Image.Image, str, int]:
    """A page of `words` (as many as fit): the image, the reference text in reading order, words used."""
    width, height = int(A4[0] * dpi), int(A4[1] * dpi)
    font = ImageFont.truetype(FONT, round(POINTS * dpi / 72))
    line_height = round(POINTS * LEADING * dpi / 72)
    margin, gutter = int(MARGIN * dpi), int(GUTTER * dpi)
    column_width = (width - 2 * margin - (columns - 1) * gutter) // columns
    rows = (height - 2 * margin) // line_height
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    used, lines = 0, []
    for column in range(columns):
        x = margin + column * (column_width + gutter)
        for row in range(rows):
            line = []
            while used < len(words) and font.getlength(" ".join(line + [words[used]])) <= column_width:
                line.append(words[used])
                used += 1
            if not line:
                break
            draw.text((x, margin + row * line_height), " ".join(line), font=font, fill=0)
            lines.append(" ".join(line))
    return page, " ".join(lines), used


def scanned_pdf(page: Image.Image, dpi: int, strip: int = 0) -> bytes:
    """The page as a scanned PDF at `dpi`: one picture (Pillow), or pictures `strip` pixels high one under the
    other (fpdf2), as some scanners write pages."""
    out = io.BytesIO()
    if not strip:
        page.save(out, "PDF", resolution=dpi)
        return out.getvalue()
    from fpdf import FPDF

    scale = 72 / dpi
    pdf = FPDF(unit="pt", format=(page.width * scale, page.height * scale))
    pdf.add_page()
    for top in range(0, page.height, strip):
        piece = page.crop((0, top, page.width, min(top + strip, page.height)))
        pdf.image(piece, x=0, y=top * scale, w=piece.width * scale, h=piece.height * scale)
    return bytes(pdf.output())


def via_pdf(strip: int = 0):
    """ingest's PDF reader on the page as a scanned PDF (whole, or in strips): how it finds and reads the page."""
    def run(page: Image.Image, dpi: int) -> str:
        from ingest.readers import read_file

        return read_file("page.pdf", scanned_pdf(page, dpi, strip)).text
    return run


def tesseract(page: Image.Image) -> str:
    """What ingest runs (ingest/ocr.py): the page without a dpi, so Tesseract estimates it, as for a PDF's image."""
    return ocr_image(page, "page", Limits())


_rapid = None


def rapidocr(page: Image.Image) -> str:
    """RapidOCR 1.4 (PP-OCRv4, `pip install rapidocr-onnxruntime`) with its default settings; it returns text boxes,
    put in reading order here (its own order mixes the columns)."""
    global _rapid
    if _rapid is None:
        from rapidocr_onnxruntime import RapidOCR

        _rapid = RapidOCR()
    result, _ = _rapid(np.asarray(page.convert("RGB")))
    return reading_order([(min(p[0] for p in box), min(p[1] for p in box), max(p[0] for p in box),
                           max(p[1] for p in box), text) for box, text, _score in result or ()])


def reading_order(boxes: list[tuple[float, float, float, float, str]]) -> str:
    """Text boxes (x0, y0, x1, y1, text) as text: split into columns where a vertical strip of the page has
    no box (the gutter), each column top to bottom, boxes on one line joined left to right."""
    columns: list[list] = []
    right = None
    for box in sorted(boxes):
        if right is None or box[0] > right:
            columns.append([])
        columns[-1].append(box)
        right = box[2] if right is None or box[0] > right else max(right, box[2])
    return "\n\n".join("\n".join(" ".join(box[4] for box in sorted(line)) for line in _lines(column))
                       for column in columns)


def _lines(column: list) -> list[list]:
    """Boxes grouped into lines: a box whose vertical middle lies within the current line's span joins it."""
    lines: list[list] = []
    bottom = None
    for box in sorted(column, key=lambda b: (b[1] + b[3]) / 2):
        middle = (box[1] + box[3]) / 2
        if bottom is None or middle > bottom:
            lines.append([])
            bottom = box[3]
        lines[-1].append(box)
    return lines




def cer(reference: str, found: str) -> float:
    from rapidfuzz.distance import Levenshtein  # the bench extra; tests import this module for scanned_pdf

    reference, found = " ".join(reference.split()), " ".join(found.split())
    return Levenshtein.distance(reference, found) / len(reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="pages per source, dpi and layout")
    parser.add_argument("--dpi", default="150,300")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--pdf", action="store_true", help="read each page through ingest's PDF reader instead, "
                        "as a scanned PDF of one picture ('pdf') and of 40-pixel strips ('pdf-strips')")
    args = parser.parse_args()
    engines = {"tesseract": lambda page, dpi: tesseract(page)}
    if args.pdf:
        engines = {"pdf": via_pdf(), "pdf-strips": via_pdf(strip=40)}
    elif importlib.util.find_spec("rapidocr_onnxruntime"):
        engines["rapidocr"] = lambda page, dpi: rapidocr(page)
        rapidocr(Image.new("RGB", (64, 64), "white"))  # loads its models outside the timings
    else:
        print("rapidocr-onnxruntime not installed: measuring Tesseract only")
    runs = []
    for source in SOURCES:
        words = Path(source).read_text().split()
        for dpi in map(int, args.dpi.split(",")):
            for columns in (1, 2):
                start = 0
                for number in range(args.pages):
                    page, reference, used = render(words[start:], dpi, columns)
                    start += used
                    for engine, run in engines.items():
                        began = time.perf_counter()
                        found = run(page, dpi)
                        seconds = time.perf_counter() - began
                        runs.append({"engine": engine, "source": source, "dpi": dpi, "columns": columns,
                                     "page": number + 1, "chars": len(reference), "cer": cer(reference, found),
                                     "seconds": seconds})
                        print(json.dumps(runs[-1]), flush=True)
    table = summary(runs)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        command = "python bench/ocr_cer.py " + " ".join(sys.argv[1:])
        args.out.write_text(json.dumps({"command": command, "load_average": os.getloadavg(), "runs": runs},
                                       indent=1) + "\n")
        args.out.with_suffix(".md").write_text(f"`{command}`\n\n{table}\n")


def summary(runs: list[dict]) -> str:
    """Per engine, dpi and layout: CER over all characters of the pages, and mean seconds per page."""
    rows = ["| engine | dpi | columns | pages | CER | worst page CER | s/page |", "|---|---:|---:|---:|---:|---:|---:|"]
    keys = sorted({(r["engine"], r["dpi"], r["columns"]) for r in runs})
    for engine, dpi, columns in keys:
        group = [r for r in runs if (r["engine"], r["dpi"], r["columns"]) == (engine, dpi, columns)]
        errors = sum(r["cer"] * r["chars"] for r in group) / sum(r["chars"] for r in group)
        seconds = sum(r["seconds"] for r in group) / len(group)
        rows.append(f"| {engine} | {dpi} | {columns} | {len(group)} | {errors:.2%} | "
                    f"{max(r['cer'] for r in group):.2%} | {seconds:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
