"""OCR ([ingest] ocr): image files and PDF pages without a text layer, read by the real Tesseract in the real
reader worker; pictures of text made here with Pillow, PDFs with Pillow and pypdf."""
from __future__ import annotations

import io
import os
import shutil
import struct
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.ocr_cer import scanned_pdf as scanned_pdf_of
from ingest.errors import EmptyDocument, FileTooLarge, ReadTimeout, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.readers import read_file
from ingest.worker import needs_worker, read_file_limited
from test_loading import error_of, pdf_with_text, write

# Tesseract is a Debian package (`make install` installs it as root): without it these tests say why they skip,
# except in CI, where they run (and fail with the reader's one-line "not installed" message).
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None and not os.environ.get("CI"),
    reason="tesseract is not installed: apt-get install tesseract-ocr (`make install` does it as root)")

LIGHTHOUSE = ["The lighthouse on Gull Island was built", "in 1874 by the harbour board of Portwick."]
FERRY = ["The ferry to Marram Bay leaves each morning", "at seven and returns before dusk."]
LEDGER = ["The salt merchants kept their ledgers", "in the old customs house on Quay Street."]


def picture(lines: list[str], size: tuple[int, int] = (1400, 400)) -> Image.Image:
    """A white picture with `lines` in black, Pillow's own scalable font at about 12 pt for 200 dpi."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for row, line in enumerate(lines):
        draw.text((60, 60 + row * 56), line, font=font, fill=0)
    return image


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def scanned_pdf(*pages: Image.Image) -> bytes:
    """A PDF whose pages are only pictures (no text layer), as a scanner makes it."""
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=200, save_all=True, append_images=list(pages[1:]))
    return out.getvalue()


def words(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- what OCR reads

@needs_tesseract
@pytest.mark.parametrize("suffix,options", [(".png", {}), (".jpg", {"quality": 90}), (".tiff", {})])
def test_an_image_file_is_one_page_read_by_ocr(tmp_path, suffix, options):
    path = tmp_path / f"notice{suffix}"
    picture(LIGHTHOUSE).convert("RGB").save(path, **options)
    raw = read_file(path)
    assert words(raw.text) == words(" ".join(LIGHTHOUSE))
    assert (raw.pages, raw.ocr_pages) == ((0,), (1,))


@needs_tesseract
def test_a_scanned_pdf_has_every_page_read_and_marked():
    raw = read_file("scan.pdf", scanned_pdf(picture(LIGHTHOUSE), picture(FERRY)))
    assert raw.ocr_pages == (1, 2)
    assert words(raw.text) == words(" ".join(LIGHTHOUSE)) + " " + words(" ".join(FERRY))


@needs_tesseract
def test_a_mixed_pdf_reads_only_the_page_without_text_by_ocr():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in (pdf_with_text(*FERRY), scanned_pdf(picture(LEDGER))):
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    raw = read_file("mixed.pdf", out.getvalue())
    assert raw.ocr_pages == (2,)
    assert words(raw.text) == words(" ".join(FERRY)) + " " + words(" ".join(LEDGER))


@needs_tesseract
def test_scanned_pages_are_searchable_and_cited(make_assistant, tmp_path):
    folder = tmp_path / "docs"
    write(folder / "notice.png", png(picture(LIGHTHOUSE)))
    write(folder / "scan.pdf", scanned_pdf(picture(FERRY), picture(LEDGER)))
    assistant = make_assistant()
    report = assistant.ingest([folder])
    assert report.failed == [] and len(report.sources("added")) == 2
    for question, answer, name in [("When was the lighthouse on Gull Island built?", "1874", "notice.png"),
                                   ("When does the ferry to Marram Bay leave?", "seven", "scan.pdf"),
                                   ("Where did the salt merchants keep their ledgers?", "customs house", "scan.pdf")]:
        reply = assistant.ask(question)
        assert answer in reply.text, (question, reply.text)
        assert reply.citations and Path(reply.citations[0].source).name == name
        assert answer in reply.citations[0].text


@needs_tesseract
def test_ocr_runs_in_the_worker_under_read_timeout_and_its_process_is_stopped(tmp_path):
    path = write(tmp_path / "page.png", b"")
    assert needs_worker(path, Limits())
    # A page of 60 lines takes Tesseract seconds; a limit of a tenth of a second stops it mid-read.
    page = picture([" ".join(LIGHTHOUSE)] * 60, size=(2400, 3500))
    path.write_bytes(png(page))
    with pytest.raises(ReadTimeout, match=r"^page.png: took longer than 0.1 s to read \(\[ingest\] read_timeout\)"):
        read_file_limited(path, path.read_bytes(), Limits(read_timeout=0.1))
    # The tesseract process dies with the worker that started it (it is SIGKILLed by the kernel).
    mine = [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "tesseract" and p.info["cmdline"] == ["tesseract", "stdin", "stdout"]]
    _, alive = psutil.wait_procs(mine, timeout=10)
    assert alive == []


# ---------------------------------------------------------------- bad input: one line each, nothing else lost

def test_ocr_off_refuses_images_and_leaves_scanned_pdfs_as_they_were(tmp_path):
    off = Limits(ocr=False)
    path = write(tmp_path / "notice.png", png(picture(LIGHTHOUSE)))
    assert error_of(read_file, path, None, off) == (
        UnsupportedFile, "notice.png: an image, and OCR is off ([ingest] ocr)")
    assert error_of(read_file, "scan.pdf", scanned_pdf(picture(FERRY)), off) == (
        EmptyDocument, "scan.pdf: PDF has no extractable text (scanned? OCR is off ([ingest] ocr))")


def test_the_setting_reaches_the_reader(make_assistant, tmp_path):
    path = write(tmp_path / "notice.png", png(picture(LIGHTHOUSE)))
    report = make_assistant(ingest={"ocr": False}).ingest([path])
    assert [r.error for r in report.failed] == ["notice.png: an image, and OCR is off ([ingest] ocr)"]


@pytest.mark.parametrize("data,message", [
    (b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 20, "damaged image (Truncated File Read)"),
    (b"this is text in a file named .png", "not a valid image (Pillow cannot identify it)"),
])
def test_a_corrupt_image(tmp_path, data, message):
    assert error_of(read_file, write(tmp_path / "photo.png", data)) == (UnreadableFile, f"photo.png: {message}")


def test_a_truncated_image(tmp_path):
    whole = png(picture(LIGHTHOUSE))
    kind, message = error_of(read_file, write(tmp_path / "cut.png", whole[: len(whole) // 2]))
    assert kind is UnreadableFile and message.startswith("cut.png: damaged image (") and "\n" not in message


def test_an_empty_image_file(tmp_path):
    assert error_of(read_file, write(tmp_path / "empty.jpg", b"")) == (EmptyDocument, "empty.jpg: file is empty")


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path):
    # 10,000 x 10,000 one-bit pixels: a 12 KB PNG that decodes to 100 megapixels (300 MB as RGB).
    path = write(tmp_path / "bomb.png", png(Image.new("1", (10_000, 10_000), 1), optimize=True))
    assert path.stat().st_size < 100_000
    assert error_of(read_file, path) == (FileTooLarge, "bomb.png: image of 10,000 x 10,000 pixels, over the 90 "
                                                       "megapixel limit; raise [ingest] max_image_megapixels to read it")


def test_a_tiff_of_huge_dimensions_is_refused_from_its_header(tmp_path):
    assert error_of(read_file, write(tmp_path / "huge.tif", tiff_header(1_000_000, 1_000_000))) == (
        FileTooLarge, "huge.tif: image of 1,000,000 x 1,000,000 pixels, over the 90 megapixel limit; raise "
                      "[ingest] max_image_megapixels to read it")


def test_a_scanned_pdf_page_over_the_pixel_cap_is_refused():
    small = Limits(max_image_pixels=100_000)  # the page, 7 x 2 inches (1400 x 400 at 200 dpi), rendered at 300 dpi
    assert error_of(read_file, "scan.pdf", scanned_pdf(picture(FERRY)), small) == (
        FileTooLarge, "scan.pdf: image of 2,100 x 600 pixels, over the 0.1 megapixel limit; raise [ingest] "
                      "max_image_megapixels to read it")


@needs_tesseract
def test_an_image_without_text(tmp_path):
    path = write(tmp_path / "blank.png", png(Image.new("L", (800, 600), 255)))
    assert error_of(read_file, path) == (EmptyDocument, "blank.png: OCR found no text in this image")


@needs_tesseract
def test_a_scanned_pdf_where_ocr_finds_nothing():
    blank = Image.new("L", (800, 600), 255)
    assert error_of(read_file, "blank.pdf", scanned_pdf(blank, blank)) == (
        EmptyDocument, "blank.pdf: PDF has no extractable text, and OCR found none in its pages")


def tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF whose header claims width x height one-bit pixels, with 8 bytes of pixel data."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 1), (262, 3, 0),
               (273, 4, 8 + 2 + 12 * 8 + 4), (278, 4, height), (279, 4, 8)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, 1, value) if kind == 4 else struct.pack("<HHIHH", tag, kind, 1, value, 0)
        for tag, kind, value in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 8


# ---------------------------------------------------------------- scanned pages rendered whole, with progress

@needs_tesseract
def test_a_scan_cut_into_image_strips_is_read_as_the_page_shows_it():
    # Some scanners write a page as picture strips; each alone cuts the lines of text in two.
    raw = read_file("strips.pdf", scanned_pdf_of(picture(LIGHTHOUSE), dpi=200, strip=20))
    assert raw.ocr_pages == (1,)
    assert words(raw.text) == words(" ".join(LIGHTHOUSE))


@needs_tesseract
def test_ocr_progress_reaches_the_ingest_progress_from_the_worker(make_assistant, tmp_path):
    from ingest.progress import IngestProgress

    class Steps(IngestProgress):
        def __init__(self):
            self.seen = []

        def reading(self, source: str, step: str) -> None:
            self.seen.append((Path(source).name, step))

    folder = tmp_path / "docs"
    write(folder / "scan.pdf", scanned_pdf(picture(LIGHTHOUSE), picture(FERRY), picture(LEDGER)))
    write(folder / "notes.txt", b"The harbour office opens at nine.")
    steps = Steps()
    report = make_assistant().ingest([folder], progress=steps)
    assert report.failed == [] and len(report.sources("added")) == 2
    assert needs_worker(folder / "scan.pdf", Limits())  # the steps came over the worker's pipe
    assert steps.seen == [("scan.pdf", "OCR page 1/3"), ("scan.pdf", "OCR page 2/3"), ("scan.pdf", "OCR page 3/3")]
