"""What a reader gives: a file's raw text, its title, and where its pages start."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RawText:
    """Text as the file holds it, before cleaning; title when the format carries one; pages when it has them."""

    text: str
    title: str | None = None
    # Where each page starts in `text` (PDF pages, slides, sheets): page n (1-based) is text[pages[n-1]:pages[n]],
    # the last one runs to the end. Empty: the format has no pages.
    pages: tuple[int, ...] = ()
    page_kind: str = "page"  # what one is called in a citation: "page", "slide", "sheet"
    ocr_pages: tuple[int, ...] = ()  # numbers of the pages whose text was read by OCR (an image file: (1,))
    # Files inside the file, each ingested as a document of its own (an e-mail's): (name, bytes), names unique.
    attachments: tuple[tuple[str, bytes], ...] = ()


def join_pages(pages: Sequence[str]) -> tuple[str, tuple[int, ...]]:
    """Pages' texts joined by blank lines, and where each starts; an empty page starts where the next one does,
    so page numbers stay true."""
    texts = [page.strip() for page in pages]
    starts, at, waiting = [], 0, 0
    for page in texts:
        if page:
            starts += [at] * (waiting + 1)
            at, waiting = at + len(page) + 2, 0
        else:
            waiting += 1
    text = "\n\n".join(page for page in texts if page)
    starts += [len(text)] * waiting
    return text, tuple(starts)
