"""EPUB books without an EPUB library (EbookLib, the common one, is AGPL): an EPUB is a zip of XHTML documents
whose reading order is the spine of its OPF package file, so zipfile, lxml for the two small XML files, and the
HTML reader for each document do it. The zip's caps are check_office's (unpacked bytes, XML nodes)."""
from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import unquote

from ingest.bombs import check_office
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile, UnsupportedFile
from ingest.limits import Limits
from ingest.rawtext import RawText

_DOCUMENT_TYPES = frozenset({"application/xhtml+xml", "text/html"})


def read_epub(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """The book's documents in spine order, each through the HTML reader, a blank line between them; title
    from the package's dc:title. A DRM-encrypted book (its documents listed in META-INF/encryption.xml) fails."""
    from ingest.readers import read_html

    check_office(data, name, limits, "EPUB")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        container = _xml(book.read("META-INF/container.xml"))
        package_path = container.xpath("string(//*[local-name()='rootfile']/@full-path)")
        package = _xml(book.read(package_path))
        documents = _spine(package, posixpath.dirname(package_path))
        if "META-INF/encryption.xml" in book.namelist() and _encrypted(book) & set(documents):
            raise UnreadableFile(f"{name}: EPUB is encrypted (DRM)")
        texts = []
        for path in documents:
            try:
                texts.append(read_html(book.read(path), name, limits).text)
            except UnsupportedFile:  # a document that is not text: nothing to read in it
                continue
        title = " ".join(package.xpath("string(//*[local-name()='metadata']/*[local-name()='title'])").split())
    except (UnreadableFile, FileTooLarge):
        raise
    except Exception:  # a missing part, broken XML, a bad zip  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid EPUB file") from None
    text = "\n\n".join(text for text in texts if text)
    if not text:
        raise EmptyDocument(f"{name}: EPUB has no text")
    return RawText(text, title or None)


def _xml(data: bytes):
    from lxml import etree

    # No entities, no network: the parser reads these two files and nothing else.
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))


def _spine(package, folder: str) -> list[str]:
    """The zip paths of the spine's (X)HTML documents, in reading order."""
    manifest = {item.get("id"): item for item in package.xpath("//*[local-name()='manifest']/*[local-name()='item']")}
    paths = []
    for ref in package.xpath("//*[local-name()='spine']/*[local-name()='itemref']/@idref"):
        item = manifest.get(ref)
        if item is not None and item.get("media-type") in _DOCUMENT_TYPES and item.get("href"):
            paths.append(posixpath.normpath(posixpath.join(folder, unquote(item.get("href")))))
    return paths


def _encrypted(book: zipfile.ZipFile) -> set[str]:
    """The zip paths META-INF/encryption.xml says are encrypted (fonts obfuscated this way are no matter)."""
    encryption = _xml(book.read("META-INF/encryption.xml"))
    return {unquote(uri) for uri in encryption.xpath("//*[local-name()='CipherReference']/@URI")}
