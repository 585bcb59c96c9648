"""One line's characters made plain, keeping where each came from in the raw text (ingest/clean.py's per-line part).

Inside a line, a run of spaces, odd ones among them (tabs, no-break and other Unicode spaces), becomes one
plain space; invisible characters (controls, soft hyphens, zero-width characters) go; the ends are stripped;
and the line is put in NFC. Every cleaned character keeps the raw offset it came from (a composed one, the
offset of the group it was composed from).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from itertools import chain

_SPACES = r"\t\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVISIBLE = r"\x00-\x08\x0e-\x1b\x7f\xad\u200b\u2060\ufeff"  # controls, soft hyphen, zero-width
ODD = re.compile(f"[{_SPACES}{_INVISIBLE}]")
# Whitespace that needs work: odd characters, several spaces, a space at either end.
_RUN = re.compile(f"[ {_SPACES}{_INVISIBLE}]{{2,}}|[{_SPACES}{_INVISIBLE}]|^ | $")
_HAS_SPACE = re.compile(f"[ {_SPACES}]")


def clean_line(line: str, start: int) -> tuple[str, list]:
    """The cleaned line, which starts at raw[start], and the raw offsets of its chars (ranges and tuples, in order)."""
    texts, pieces = [], []
    pos = 0
    for run in _RUN.finditer(line):
        if run.start() > pos:
            texts.append(line[pos:run.start()])
            pieces.append(range(start + pos, start + run.start()))
        inner = 0 < run.start() and run.end() < len(line)  # runs at either end are stripped
        if inner and _HAS_SPACE.search(run.group()):
            texts.append(" ")
            pieces.append((start + run.start(),))
        pos = run.end()
    if pos < len(line):
        texts.append(line[pos:])
        pieces.append(range(start + pos, start + len(line)))
    text = "".join(texts)
    # After the whitespace: deleting a zero-width char can bring a letter and its accent together.
    if not unicodedata.is_normalized("NFC", text):
        return _nfc(text, pieces)
    return text, pieces


def _nfc(text: str, pieces: list) -> tuple[str, list]:
    # NFC one group (a char and what may compose with it) at a time, so each composed
    # char maps to the raw offset of the group it came from.
    offsets = list(chain.from_iterable(pieces))  # raw offset of each char of text
    chars, out = [], []
    pos = 0
    for group in _may_compose().finditer(text):
        begin, end = group.span()
        if begin > pos:
            chars.append(text[pos:begin])
            out.append(offsets[pos:begin])
        if unicodedata.is_normalized("NFC", group.group()):  # curly quotes, dashes, CJK, ...
            chars.append(group.group())
            out.append(offsets[begin:end])
        else:
            composed, sources = _nfc_group(group.group())
            chars.append(composed)
            out.append([offsets[begin + k] for k in sources])
        pos = end
    chars.append(text[pos:])
    out.append(offsets[pos:])
    return "".join(chars), out


def _nfc_group(text: str) -> tuple[str, list[int]]:
    # (NFC of text, for each of its chars the index in text of the cluster it came from)
    if all(map(unicodedata.combining, text[1:])):  # the usual: one letter and its accents
        composed = unicodedata.normalize("NFC", text)
        return composed, [min(k, len(text) - 1) for k in range(len(composed))]
    chars: list[str] = []
    sources: list[int] = []
    begin = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and not _cluster_break(text[begin:i], text[i]):
            continue
        cluster = text[begin:i]
        composed = unicodedata.normalize("NFC", cluster)
        chars.append(composed)
        sources.extend(begin + min(k, len(cluster) - 1) for k in range(len(composed)))
        begin = i
    return "".join(chars), sources


@functools.cache
def _may_compose() -> re.Pattern:
    # A char followed by chars that NFC may change or merge into it: combining marks,
    # second halves of canonical pairs (Hangul vowels and finals among them) and chars
    # that are not NFC on their own. Everything else is copied as it stands.
    special = set(map(chr, range(0x1161, 0x1176))) | set(map(chr, range(0x11A8, 0x11C3)))
    for code in range(0x30000):  # no decomposable char lies beyond
        char = chr(code)
        if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
            special.add(char)
        parts = unicodedata.decomposition(char).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            special.add(chr(int(parts[1], 16)))
    bmp = "".join(re.escape(char) for char in sorted(special) if char <= "\uffff")
    # All astral chars as one range: sre tests a BMP set in O(1) but astral ones one by one.
    return re.compile(f"[\\s\\S]?[{bmp}\U00010000-\U0010ffff]+")


def _cluster_break(cluster: str, char: str) -> bool:
    if char < "\u0300":  # nothing below U+0300 composes with what precedes it
        return True
    if unicodedata.combining(char):
        return False
    nfc = unicodedata.normalize
    return nfc("NFC", cluster + char) == nfc("NFC", cluster) + nfc("NFC", char)
