"""How much one file may cost: bytes read, characters of text, bytes unpacked, XML nodes, pages, seconds and
memory (the [ingest] settings)."""
from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on what one file may cost, so one hostile file cannot stall an ingest or a server: sizes and counts
    are checked before the file is parsed, the time and the worker's memory while it is parsed, the length of
    its text once read."""

    max_file_bytes: int = 200 * MB
    max_text_chars: int = 50 * MB  # the text a file gives, in characters
    max_unpacked_bytes: int = 100 * MB  # XML inside a .docx, .xlsx, .pptx, .epub
    max_xml_nodes: int = 4_000_000  # elements and attributes of the XML of a .docx, .xlsx, .pptx, .epub
    max_html_elements: int = 200_000
    max_pages: int = 5_000  # .pdf pages
    read_timeout: float = 60.0  # seconds to parse one file (not .txt/.md), in a worker (0: no limit, no worker)
    ocr: bool = True  # read image files, and PDF pages without a text layer, by OCR
    max_image_pixels: int = 90_000_000  # an image (file or in a PDF) with more is refused before it is decoded
    reader_memory_bytes: int = 1024 * MB  # the worker's address space beyond its size at start (0: no limit)


def megabytes(size: int) -> str:
    """A size for a message: '250.0 MB'."""
    return f"{size / MB:.1f} MB"
