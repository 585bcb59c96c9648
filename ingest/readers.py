"""One reader per file type: bytes -> raw text and, when the file says so, a title."""
from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path

from ingest.bombs import check_html, check_office, check_text
from ingest.decode import decode_text, is_binary
from ingest.epub import read_epub
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.files import SUPPORTED_LIST, open_regular, os_reason, too_large
from ingest.limits import Limits
from ingest.mail import read_eml
from ingest.ocr import IMAGE_SUFFIXES, empty_image, read_image_text
from ingest.pdf import read_pdf
from ingest.rawtext import RawText
from ingest.slides import read_pptx
from ingest.tables import Budget, check_not_encrypted, html_tables, read_csv, read_xlsx, table_lines


def read_file(path: Path | str, data: bytes | None = None, limits: Limits = Limits()) -> RawText:
    """Read a supported file (its bytes may be given, to read them only once)."""
    path = Path(path)
    reader = reader_for(path)
    if data is None:
        data = read_bytes(path, limits.max_file_bytes)
    if not data:
        raise EmptyDocument(f"{path.name}: file is empty")
    raw = reader(data, path.name, limits)
    check_text(len(raw.text), path.name, limits)  # what a file's text costs to clean, chunk and store grows with it
    if not raw.text or raw.text.isspace():  # not strip(): that copies a 50 MB text to look at it
        raise EmptyDocument(f"{path.name}: file has no text (only whitespace)")
    return raw


def reader_for(path: Path) -> Callable[[bytes, str, Limits], RawText]:
    """The reader for path's type; UnsupportedFile if there is none."""
    suffix = path.suffix.lower()
    try:
        return _READERS[suffix]
    except KeyError:
        raise UnsupportedFile(f"{path.name}: unsupported file type '{suffix}' "
                              f"(supported: {SUPPORTED_LIST})") from None


def read_bytes(path: Path, limit: int = Limits.max_file_bytes) -> bytes:
    """All bytes of a regular file of at most `limit` bytes; UnreadableFile or FileTooLarge otherwise."""
    try:
        with open_regular(path) as fh:  # a FIFO or device is refused here, never read
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise too_large(path.name, size, limit)
            data = fh.read(limit + 1)  # bounded even if the file grows meanwhile
    except OSError as exc:
        raise UnreadableFile(f"{path.name}: cannot read file ({os_reason(exc)})") from None
    if len(data) > limit:
        raise too_large(path.name, len(data), limit)
    return data


def read_text(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """Plain text in any common encoding."""
    return RawText(decode_text(data, name))


_MD_HEADING = re.compile(r"^#[ \t]+(.+)$", re.MULTILINE)


def read_markdown(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """Markdown, kept as written; the title is the first `# heading`, without its closing #s."""
    text = decode_text(data, name)
    heading = _MD_HEADING.search(text)
    return RawText(text, _without_closing_hashes(heading.group(1)).strip() if heading else None)


def _without_closing_hashes(heading: str) -> str:
    # "Title ##" -> "Title"; "C#" and "###" stay. In plain string operations: the pattern
    # `(.+?)(?:[ \t]+#+)?[ \t]*$` took 13.7 s on a heading line of 40,000 spaces (quadratic).
    line = heading.rstrip(" \t")
    bare = line.rstrip("#")
    if bare != line and bare.strip(" \t") and bare[-1] in " \t":
        return bare
    return line


# Elements that are page chrome or not text at all.
_HTML_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")
# Elements that start a new paragraph.
_HTML_BLOCKS = frozenset({
    "address", "article", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul"})
_PARAGRAPH = object()  # marker between blocks in the flattened HTML


def read_html(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """HTML: visible text, one paragraph per block element; title from <title> or the first <h1>."""
    from bs4 import BeautifulSoup

    if is_binary(data):
        raise UnsupportedFile(f"{name}: looks like a binary file, not text")
    check_html(data, name, limits)
    # Bytes, not str: BeautifulSoup honours <meta charset> and BOMs when it decodes.
    soup = BeautifulSoup(data, "lxml")
    title = _html_title(soup)
    for element in soup.find_all(_HTML_DROP):
        element.decompose()
    html_tables(soup, name, limits)
    return RawText(_html_text(soup.body or soup), title)


def _html_title(soup) -> str | None:
    for element in (soup.title, soup.find("h1")):
        if element is not None:
            text = " ".join(element.get_text(" ").split())
            if text:
                return text
    return None


def _html_text(root) -> str:
    from bs4 import NavigableString
    from bs4.element import PreformattedString

    parts: list = []
    stack: list = [(root, False)]  # explicit stack: deeply nested pages would overflow recursion
    while stack:
        node, in_pre = stack.pop()
        if node is _PARAGRAPH:
            parts.append(_PARAGRAPH)
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA
                parts.append(str(node) if in_pre else re.sub(r"\s+", " ", node))
        elif node.name == "br":
            parts.append("\n")
        else:
            in_pre = in_pre or node.name == "pre"
            if node.name in _HTML_BLOCKS:
                parts.append(_PARAGRAPH)
                stack.append((_PARAGRAPH, in_pre))
            stack.extend((child, in_pre) for child in reversed(node.contents))
    parts.append(_PARAGRAPH)  # flushes the last paragraph
    paragraphs, current = [], []
    for part in parts:
        if part is _PARAGRAPH:
            # The spaces around each line break go; str.strip, not the regex ` *\n *`, which was quadratic
            # in a long run of spaces (a <pre> of 40,000 spaces took 0.9 s, of 1 MB minutes).
            text = "\n".join(line.strip(" ") for line in "".join(current).split("\n")).strip()
            if text:
                paragraphs.append(text)
            current = []
        else:
            current.append(part)
    return "\n\n".join(paragraphs)


def read_docx(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """DOCX paragraphs and tables in document order; title from the first Title/Heading paragraph.

    Linear in the file: the caps are checked before parsing, paragraph text is read straight from the
    XML, and styles are looked up in a table built once (python-docx's `paragraph.style` searches
    the styles part each time: 97 s for 100k paragraphs).
    """
    import docx
    from docx.table import Table

    check_not_encrypted(data, name)
    check_office(data, name, limits, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
        style_names = {style.style_id: style.name or "" for style in document.styles}
        blocks, title, budget = [], None, Budget()
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = ([cell.text for cell in row.cells] for row in block.rows)
                if table := "\n".join(table_lines(rows, name, limits, budget)):
                    blocks.append(table)
                continue
            text = _docx_text(block._p).strip()
            if not text:
                continue
            blocks.append(text)
            style = style_names.get(block._p.style, "")  # the pStyle id, None for the default style
            if title is None and (style == "Title" or style.startswith("Heading")):
                title = " ".join(text.split())
        title = title or (document.core_properties.title or "").strip() or None
    except FileTooLarge:
        raise
    except Exception:  # python-docx raises zip, XML and key errors for damaged files  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid DOCX file") from None
    return RawText("\n\n".join(blocks), title)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_BREAKS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n"}


def _docx_text(paragraph) -> str:
    """A paragraph's text from its XML in one pass: run text, tabs and line breaks (python-docx's rules)."""
    parts = []
    for element in paragraph.iter(f"{_W}t", *_RUN_BREAKS):
        if element.tag == f"{_W}t":
            parts.append(element.text or "")
        elif element.getparent().tag == f"{_W}r":  # not the tab stops of the paragraph's properties
            parts.append(_RUN_BREAKS[element.tag])
    return "".join(parts)


def read_image(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """An image file (.png, .jpg, .tif, ...): its text by OCR, one page."""
    text = read_image_text(data, name, limits)
    if not text.strip():
        raise empty_image(name)
    return RawText(text, pages=(0,), ocr_pages=(1,))


_READERS: dict[str, Callable[[bytes, str, Limits], RawText]] = {
    ".txt": read_text, "": read_text, ".md": read_markdown, ".markdown": read_markdown,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx, ".csv": read_csv, ".xlsx": read_xlsx,
    ".pptx": read_pptx, ".eml": read_eml, ".epub": read_epub,
    **dict.fromkeys(IMAGE_SUFFIXES, read_image),
}
