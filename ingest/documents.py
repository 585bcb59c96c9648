"""A loaded document: cleaned text plus what identifies its raw bytes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """One source file (or text) after loading and cleaning."""

    source: str  # stable identity in the store: absolute posix path, or a caller's name
    title: str
    text: str  # cleaned text; chunk offsets point into it
    sha256: str  # of the raw bytes (or of the text for documents given as text)
    mtime: float = 0.0
    pages: tuple[int, ...] = ()  # where each page starts in text (see RawText.pages); empty: no pages
    page_kind: str = "page"  # "page", "slide" or "sheet"
    ocr_pages: tuple[int, ...] = ()  # numbers of the pages read by OCR
    attachments: tuple[tuple[str, bytes], ...] = ()  # files inside it, read as documents of their own (RawText's)
