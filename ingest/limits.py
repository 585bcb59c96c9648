"""How much one file may cost: bytes read, bytes unpacked, paragraphs and pages (the [ingest] settings)."""
from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps checked before a file is parsed, so one hostile file cannot stall an ingest or a server."""

    max_file_bytes: int = 200 * MB
    max_unpacked_bytes: int = 100 * MB  # XML inside a .docx
    max_paragraphs: int = 200_000  # .docx paragraphs, .html elements
    max_pages: int = 5_000  # .pdf pages


def megabytes(size: int) -> str:
    """A size for a message: '250.0 MB'."""
    return f"{size / MB:.1f} MB"
