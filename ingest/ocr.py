"""Text from pictures of text: image files and PDF pages without a text layer ([ingest] ocr).

The engine is Tesseract 5 (Debian's tesseract-ocr, English), run as a process: chosen over RapidOCR
(PP-OCRv4 on onnxruntime) by bench/ocr_cer.py, where it made about a hundredth of the errors in a third of the
time (bench/README.md#ocr). It runs where the readers run, in the reader worker, under [ingest] read_timeout;
a tesseract process dies with the worker that started it.
"""
from __future__ import annotations

import io
import logging
import shutil
import signal
import subprocess
import sys
import threading
import warnings

from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.progress import report

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
OCR_OFF = "OCR is off ([ingest] ocr)"
_header_lock = threading.Lock()


def ocr_off(name: str) -> UnsupportedFile:
    """The one message for a picture met while OCR is off."""
    return UnsupportedFile(f"{name}: an image, and {OCR_OFF}")


def read_image_text(data: bytes, name: str, limits: Limits) -> str:
    """The text of an image file (its first frame), in reading order; '' if the engine finds none."""
    from PIL import UnidentifiedImageError

    if not limits.ocr:
        raise ocr_off(name)
    try:
        image = _open_header(data)
        check_pixels(*image.size, name, limits)
        image.load()
        return ocr_image(image, name, limits)
    except (FileTooLarge, UnsupportedFile):
        raise
    except UnidentifiedImageError:
        raise UnreadableFile(f"{name}: not a valid image (Pillow cannot identify it)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or damaged image data
        raise UnreadableFile(f"{name}: damaged image ({_reason(exc)})") from None


def _open_header(data: bytes):
    """Pillow's image, its header read and nothing decoded. Pillow's own bomb check is off meanwhile (it raises
    in open() at twice its fixed cap, without the size): check_pixels applies [ingest] max_image_megapixels."""
    from PIL import Image

    with _header_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        cap, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = cap


def check_pixels(width: int, height: int, name: str, limits: Limits) -> None:
    """FileTooLarge if a picture has more pixels than [ingest] max_image_megapixels, before it is decoded."""
    if width * height > limits.max_image_pixels:
        raise FileTooLarge(f"{name}: image of {width:,} x {height:,} pixels, over the "
                           f"{limits.max_image_pixels / 1e6:g} megapixel limit; raise [ingest] "
                           "max_image_megapixels to read it")


def ocr_image(image, name: str, limits: Limits) -> str:
    """The text of a decoded Pillow image, in reading order (Tesseract finds columns itself)."""
    from PIL import Image

    check_pixels(*image.size, name, limits)
    if "A" in image.getbands():  # transparent text on nothing: lay it on white, as a viewer shows it
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("RGB")
    png = io.BytesIO()
    # The resolution when the file says it; else Tesseract estimates it from the size of the letters.
    image.save(png, "PNG", **({"dpi": image.info["dpi"]} if image.info.get("dpi") else {}))
    return _tesseract(png.getvalue(), name)


RENDER_DPI = 300  # a scanned PDF page is rendered at this resolution for OCR


def ocr_pdf_pages(document, texts: list[str], name: str, limits: Limits) -> tuple[int, ...]:
    """OCR the pages of a pypdfium2 document whose text layer is empty, each rendered whole at RENDER_DPI (so
    vector-drawn text, and a scan cut into image strips, read as the page shows them); their text replaces ''
    in `texts`. Pages that draw nothing are skipped. Returns the numbers (1-based) of the pages OCR read."""
    import pypdfium2 as pdfium

    todo = [number for number, text in enumerate(texts, start=1) if not text.strip()]
    done = []
    for step, number in enumerate(todo, start=1):
        page = document[number - 1]
        try:
            if not pdfium.raw.FPDFPage_CountObjects(page):  # a blank page: nothing to read
                continue
            width, height = (round(size * RENDER_DPI / 72) for size in page.get_size())
            check_pixels(width, height, name, limits)
            report(f"OCR page {step}/{len(todo)}")
            image = page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil()
        finally:
            page.close()
        image.info["dpi"] = (RENDER_DPI, RENDER_DPI)
        found = ocr_image(image, name, limits).strip()
        log.info("%s: page %d of %d read by OCR (%d characters)", name, number, len(texts), len(found))
        if found:
            texts[number - 1] = found
            done.append(number)
    return tuple(done)


def _tesseract(png: bytes, name: str) -> str:
    """Tesseract's text for a PNG; the process dies with its caller, so a read stopped by read_timeout stops it too."""
    try:
        done = subprocess.run([_binary(name), "stdin", "stdout"], input=png, capture_output=True,
                              preexec_fn=_die_with_parent, check=False)
    except OSError as exc:
        raise UnreadableFile(f"{name}: cannot run tesseract ({_reason(exc)})") from None
    if done.returncode:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnreadableFile(f"{name}: tesseract failed ({_reason(Exception(error[-1] if error else done.returncode))})")
    return done.stdout.decode("utf-8", "replace").replace("\f", "\n")


def _binary(name: str) -> str:
    found = shutil.which("tesseract")
    if found is None:
        raise UnsupportedFile(f"{name}: OCR needs Tesseract, which is not installed (apt-get install tesseract-ocr; "
                              f"`make install` does it as root), or set [ingest] ocr = false")
    return found


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _reason(exc: Exception) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return reason if len(reason) <= 80 else reason[:79] + "…"


def empty_image(name: str) -> EmptyDocument:
    """The one message for a picture in which OCR found no text."""
    return EmptyDocument(f"{name}: OCR found no text in this image")
