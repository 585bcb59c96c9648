"""A file or a text -> a cleaned Document with what identifies its raw bytes."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ingest.clean import clean_text, guess_title
from ingest.documents import Document
from ingest.errors import EmptyDocument, UnreadableFile
from ingest.files import os_reason, source_for, stored_name
from ingest.limits import Limits
from ingest.readers import read_bytes, reader_for
from ingest.worker import read_file_limited


def load_file(path: Path, limits: Limits = Limits(), data: bytes | None = None, mtime: float | None = None,
              sha256: str | None = None, progress: Callable[[str], None] | None = None,
              source: str | None = None) -> Document:
    """Read, decode and clean one file within the size and time limits (its bytes, the mtime taken before
    reading them and their sha256 may be given, so a file is read and hashed once; `progress` gets the
    reader's steps, see ingest/progress.py). `source`: the document's, for bytes that are no file of their own
    (a mail's attachment, named `path`); else the path's."""
    path = Path(path)
    reader_for(path)  # an unsupported type fails before its bytes are read
    if data is None or mtime is None:
        try:  # before reading: a file changed while being read then looks changed next time too
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise UnreadableFile(f"{path.name}: cannot read file ({os_reason(exc)})") from None
        data = read_bytes(path, limits.max_file_bytes)  # read once: the hash and the text come from the same bytes
        sha256 = None  # the hash of these bytes, not of any given ones
    raw = read_file_limited(path, data, limits, progress)  # PDF, DOCX, HTML: in a worker, stopped past [ingest] read_timeout
    given_title, page_kind, ocr_pages, attachments = raw.title, raw.page_kind, raw.ocr_pages, raw.attachments
    # No full offset map (4 bytes a char): only where the pages start is carried over.
    cleaned = clean_text(raw.text, offsets=False, marks=raw.pages)
    del raw  # the raw text, as big as the cleaned one or bigger, goes before the Document is made
    text = cleaned.text
    if not text:  # e.g. nothing but page furniture
        raise EmptyDocument(f"{path.name}: file has no text (only whitespace)")
    return Document(source=source or source_for(path), title=_title(given_title, text, stored_name(path.stem)),
                    text=text, sha256=sha256 or hashlib.sha256(data).hexdigest(), mtime=mtime,
                    pages=cleaned.marks, page_kind=page_kind, ocr_pages=ocr_pages, attachments=attachments)


def document_from_text(source: str, text: str, title: str | None = None) -> Document:
    """A Document from a text that has no file (pasted, fetched, generated)."""
    cleaned = clean_text(text, offsets=False).text
    if not cleaned:
        raise EmptyDocument(f"{source}: text is empty (only whitespace)")
    return Document(source=source, title=_title(title, cleaned, source), text=cleaned,
                    sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _title(given: str | None, text: str, fallback: str) -> str:
    return guess_title(given or "") or guess_title(text) or fallback
