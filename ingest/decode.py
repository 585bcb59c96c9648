"""Bytes of a text file -> str, whatever its encoding; binary files are refused."""
from __future__ import annotations

import codecs
import re

from ingest.errors import UnsupportedFile

# Signatures of common binary formats that people rename to .txt by mistake.
_MAGIC = (b"%PDF-", b"PK\x03\x04", b"PK\x05\x06", b"\x89PNG", b"\x7fELF", b"GIF87a", b"GIF89a",
          b"\xff\xd8\xff", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07",
          b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"SQLite format 3\x00", b"\xca\xfe\xba\xbe",
          b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"OggS", b"fLaC", b"wOFF", b"wOF2", b"\x00asm")
# Non-ASCII that Western prose uses freely (typography), and the rest.
_UNUSUAL = re.compile("[^\x00-\x7f\xa0“”‘’‚„–—…€•™«»°£§©®±×·]")
_LETTER = re.compile(r"[^\W\d_]")
SNIFF_BYTES = 8192  # like git, judge text-vs-binary on the first 8 KB
# C0 control bytes that never occur in text (tab, LF, VT, FF, CR and ESC do).
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r\x1b") + b"\x7f"


def is_binary(data: bytes) -> bool:
    """True when data looks like a binary file rather than text in some encoding."""
    if data.startswith(_MAGIC):
        return True
    head = data[:SNIFF_BYTES]
    if not head or _bom_encoding(head) or _utf16_without_bom(head):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL))
    return b"\x00" in head or controls > len(head) // 10


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file: UTF-8 (BOM or not), UTF-16/32, else the best legacy guess (cp1252 first)."""
    if is_binary(data):
        raise UnsupportedFile(f"{name}: looks like a binary file, not text")
    encoding = _bom_encoding(data[:4])
    if encoding:
        return _decode_or_binary(data, encoding, name)
    encoding = _utf16_without_bom(data[:SNIFF_BYTES])
    if encoding:
        return _decode_or_binary(data, encoding, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_legacy(data)


def _bom_encoding(head: bytes) -> str | None:
    # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    # Mostly-ASCII UTF-16 has a NUL in every other byte: odd positions for LE, even for BE.
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    if odd_nuls > pairs * 0.4 and even_nuls < pairs * 0.05:
        return "utf-16-le"
    if even_nuls > pairs * 0.4 and odd_nuls < pairs * 0.05:
        return "utf-16-be"
    return None


def _decode_or_binary(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UnsupportedFile(f"{name}: looks like a binary file, not text") from None


def _decode_legacy(data: bytes) -> str:
    # Windows-1252 first: charset-normalizer misreads short Western texts (it calls
    # "“Hello” café" cp1125), and cp1252 is what non-UTF-8 Western files nearly always are.
    # It is also right for Latin-1 files, except that it reads 0x80-0x9f as punctuation
    # where Latin-1 has invisible C1 controls.
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned in cp1252
        text = None
    if text is not None and _looks_western(text):
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return text if text is not None else data.decode("latin-1")


def _looks_western(text: str) -> bool:
    # Western European prose has a few accented letters per hundred letters; Cyrillic, Greek
    # or CJK bytes read as cp1252 come out as runs of accented letters and symbols.
    sample = text[:65536]
    return len(_UNUSUAL.findall(sample)) <= 0.3 * max(1, len(_LETTER.findall(sample)))
