"""Caps checked before a file is parsed: a small .docx can unpack to gigabytes, an .html to millions of elements."""
from __future__ import annotations

import io
import re
import zipfile
import zlib

from ingest.errors import FileTooLarge, UnreadableFile
from ingest.limits import MB, Limits, megabytes

# A paragraph start tag in WordprocessingML, whatever its namespace prefix: <w:p>, <w:p w:rsidR=..>, <w:p/>.
_DOCX_PARAGRAPH = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s/>]")
_HTML_ELEMENT = re.compile(rb"<[A-Za-z]")  # a start tag: an upper bound of the elements a parser builds
_BLOCK = 1 << 20
_OVERLAP = 64  # a tag cut in two by a block boundary is still counted once


def check_docx(data: bytes, name: str, limits: Limits) -> None:
    """FileTooLarge if the .docx unpacks to more than max_unpacked_bytes or holds more than max_paragraphs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        # zipfile never returns more than an entry's declared size, so the declared sizes bound what parsing reads.
        unpacked = sum(m.file_size for m in members)
        if unpacked > limits.max_unpacked_bytes:
            limit = megabytes(limits.max_unpacked_bytes)
            raise FileTooLarge(f"{name}: unpacks to {megabytes(unpacked)}, over the {limit} limit; raise [ingest] "
                               "max_unpacked_mb to read it")
        paragraphs = 0
        for member in members:
            if member.filename.endswith(".xml"):
                with archive.open(member) as fh:
                    paragraphs += _count(fh, _DOCX_PARAGRAPH, limits.max_paragraphs - paragraphs)
                if paragraphs > limits.max_paragraphs:
                    raise FileTooLarge(f"{name}: more than {limits.max_paragraphs:,} paragraphs; raise [ingest] "
                                       "max_paragraphs to read it")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise UnreadableFile(f"{name}: not a valid DOCX file") from None


def check_html(data: bytes, name: str, limits: Limits) -> None:
    """FileTooLarge if the page has more than max_paragraphs elements."""
    if _count(io.BytesIO(data), _HTML_ELEMENT, limits.max_paragraphs) > limits.max_paragraphs:
        raise FileTooLarge(f"{name}: more than {limits.max_paragraphs:,} HTML elements; raise [ingest] "
                           "max_paragraphs to read it")


def check_pages(pages: int, name: str, limits: Limits) -> None:
    """FileTooLarge if a PDF has more than max_pages pages."""
    if pages > limits.max_pages:
        raise FileTooLarge(f"{name}: {pages:,} pages, over the {limits.max_pages:,} limit; raise [ingest] "
                           "max_pages to read it")


def check_text(chars: int, name: str, limits: Limits) -> None:
    """FileTooLarge if a file's text is longer than max_text_chars."""
    if chars > limits.max_text_chars:
        raise FileTooLarge(f"{name}: {chars / MB:.1f} million characters of text, over the "
                           f"{limits.max_text_chars / MB:.1f} million limit; raise [ingest] max_text_mb to read it")


def _count(fh, pattern: re.Pattern, stop_after: int) -> int:
    """Matches of pattern in a stream, read a block at a time; stops once past stop_after."""
    count, tail = 0, b""
    while block := fh.read(_BLOCK):
        window = tail + block
        # A match ending inside the tail lay wholly in the previous window and was counted there.
        count += sum(1 for m in pattern.finditer(window) if m.end() > len(tail))
        if count > stop_after:
            return count
        tail = window[-_OVERLAP:]
    return count
