"""Caps checked before a file is parsed, and after it is read: a small .docx can unpack to gigabytes or to
millions of XML elements, an .html file can hold millions of elements, any file can hold more text than an
ingest can hold in memory."""
from __future__ import annotations

import io
import re
import zipfile
import zlib

from ingest.errors import FileTooLarge, UnreadableFile
from ingest.limits import Limits, megabytes

_HTML_ELEMENT = re.compile(rb"<[A-Za-z]")  # a start tag: an upper bound of the elements a parser builds
_BLOCK = 1 << 20
_OVERLAP = 64  # a tag cut in two by a block boundary is still counted once
# Bytes that may come before the first "<" of an XML part: whitespace, a UTF-8 or UTF-16 byte order mark.
_XML_LEAD = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"


def check_office(data: bytes, name: str, limits: Limits, kind: str = "DOCX") -> None:
    """FileTooLarge if an Office Open XML file (.docx; .pptx and .xlsx are the same zip of XML parts)
    unpacks to more than max_unpacked_bytes, or its XML parts hold more than max_xml_nodes elements
    and attributes: what lxml builds a node for, ~165 bytes each (bench/README.md)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        # zipfile never returns more than an entry's declared size, so the declared sizes bound what parsing reads.
        unpacked = sum(m.file_size for m in members)
        if unpacked > limits.max_unpacked_bytes:
            limit = megabytes(limits.max_unpacked_bytes)
            raise FileTooLarge(f"{name}: unpacks to {megabytes(unpacked)}, over the {limit} limit; raise [ingest] "
                               "max_unpacked_mb to read it")
        nodes = 0
        for member in members:
            # Every part that is XML, whatever its name: a package may declare any part name as XML.
            with archive.open(member) as fh:
                nodes += _xml_nodes(fh, limits.max_xml_nodes - nodes)
            if nodes > limits.max_xml_nodes:
                raise FileTooLarge(f"{name}: more than {limits.max_xml_nodes:,} XML elements and attributes; "
                                   "raise [ingest] max_xml_nodes to read it")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise UnreadableFile(f"{name}: not a valid {kind} file") from None


def _xml_nodes(fh, stop_after: int) -> int:
    """An upper bound of the elements and attributes of an XML stream (0 if it is not XML): its "<" that
    open no end tag (start tags, comments, processing instructions) and its "=" (attributes, namespace
    declarations, and any in the text); read a block at a time, stopping once past stop_after."""
    block = fh.read(_BLOCK)
    if block.lstrip(_XML_LEAD)[:1] != b"<":  # an image or other binary part: never parsed as XML
        return 0
    count, tail = 0, b""
    while block:
        # "</" across two blocks: the tail is the previous block's last byte, counted here once.
        count += block.count(b"<") + block.count(b"=") - (tail + block).count(b"</")
        if count > stop_after:
            return count
        tail = block[-1:]
        block = fh.read(_BLOCK)
    return count


def check_html(data: bytes, name: str, limits: Limits) -> None:
    """FileTooLarge if the page has more than max_html_elements elements."""
    if _count(io.BytesIO(data), _HTML_ELEMENT, limits.max_html_elements) > limits.max_html_elements:
        raise FileTooLarge(f"{name}: more than {limits.max_html_elements:,} HTML elements; raise [ingest] "
                           "max_html_elements to read it")


def check_pages(pages: int, name: str, limits: Limits) -> None:
    """FileTooLarge if a PDF has more than max_pages pages."""
    if pages > limits.max_pages:
        raise FileTooLarge(f"{name}: {pages:,} pages, over the {limits.max_pages:,} limit; raise [ingest] "
                           "max_pages to read it")


def check_text(chars: int, name: str, limits: Limits) -> None:
    """FileTooLarge if a file's text is longer than max_text_chars."""
    if chars > limits.max_text_chars:
        raise FileTooLarge(f"{name}: {megabytes(chars)} of text (in characters), over the "
                           f"{megabytes(limits.max_text_chars)} limit; raise [ingest] max_text_mb to read it")


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
