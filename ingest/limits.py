"""How much one file may cost: bytes read, bytes unpacked, paragraphs, pages and seconds (the [ingest] settings)."""
from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on what one file may cost, so one hostile file cannot stall an ingest or a server: sizes and counts
    are checked before the file is parsed, the time while it is read and parsed."""

    max_file_bytes: int = 200 * MB
    max_unpacked_bytes: int = 100 * MB  # XML inside a .docx
    max_paragraphs: int = 200_000  # .docx paragraphs, .html elements
    max_pages: int = 5_000  # .pdf pages
    read_timeout: float = 60.0  # seconds to parse one .pdf, .docx, .html file, in a worker (0: no limit, no worker)
    ocr: bool = True  # read image files, and PDF pages without a text layer, by OCR
    max_image_pixels: int = 90_000_000  # an image (file or in a PDF) with more is refused before it is decoded


def megabytes(size: int) -> str:
    """A size for a message: '250.0 MB'."""
    return f"{size / MB:.1f} MB"
