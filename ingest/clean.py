"""Cleaning text for indexing, optionally with a map from every cleaned char back to the raw text.

Per line (ingest/normalize.py): NFC, odd spaces and invisible characters -> one plain space, stripped ends.
Across lines: blank runs -> one blank line, whole-line page furniture dropped, hard-wrapped
lines re-joined. The text is read a block of lines at a time (BLOCK_CHARS), twice: once to
measure how it is wrapped, once to write it out; with C-speed string operations a 50 MB text
takes seconds, and only one block's line objects exist at a time.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence

import gc
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import NamedTuple

from ingest.normalize import ODD, clean_line

# Whole lines that are site chrome, not content; dropped only when they stand alone.
FURNITURE = frozenset({"advertisement", "skip to main content", "share", "comments", "post a comment",
                       "accessibility links", "popular video", "breaking news"})
_LONGEST_FURNITURE = max(map(len, FURNITURE))

_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLANK_LINE = re.compile(r"(?:\r\n|\r|\n)[^\S\r\n]*(?:\r\n|\r|\n)")  # a break, a blank line, its break

_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
_FENCE = re.compile(r"```|~~~")
# Lines that must keep their own line: headings, tables, rules, fences ...
_OWN_LINE = re.compile(r"#{1,6}(?:\s|$)|\||```|~~~|(?:[-=*_]\s*){3,}$")
# ... and lines that must start one: list items and quotes.
_STARTS_LINE = re.compile(r"(?:[-*+•◦▪‣–]|\d{1,3}[.)]|[a-zA-Z][.)])\s|>")
_MARKUP_FIRST = frozenset("#|`~-=*_+•◦▪‣–>0123456789")  # first chars of the two patterns above
_NON_SPACE = re.compile(r"\S")

# Hard-wrap detection: wrapped lines fill (3/4 W, W] for some width W in this range.
_MIN_WIDTH, _MAX_WIDTH, _MIN_SAMPLE = 40, 200, 20
_MAX_SHORT = _MAX_WIDTH * 3 // 4  # "well short of the margin" is at most this long

_OWN, _START = 1, 2  # Line.kind


@dataclass(frozen=True)
class Cleaned:
    """Cleaned text; raw[offset_map[s]:offset_map[e]] is the original of text[s:e]."""

    text: str
    # offset_map[i] = index in the raw text of cleaned char i, plus a final len(raw);
    # None when clean_text was asked for no offsets.
    offset_map: Sequence[int] | None = field(repr=False)
    # Where each of clean_text's `marks` (raw offsets, ascending) lands in text: the first cleaned char from
    # raw[mark:] (len(text) if none is left), so raw[mark:] and text[marks[i]:] begin at the same place.
    marks: tuple[int, ...] = ()


class _Line:
    __slots__ = ("text", "pieces", "term", "kind")

    def __init__(self, text: str, pieces: list | None, term: int, kind: int):
        self.text = text  # cleaned line
        self.pieces = pieces  # raw offsets of its chars: ranges and tuples, in order (None: not wanted)
        self.term = term  # raw offset of the line break after it (len(raw) for the last line)
        self.kind = kind


# The text is cleaned a block of about this many chars at a time (a block ends after a blank
# line where there is one nearby), so only one block's line objects exist at any time.
BLOCK_CHARS = 1_000_000


def clean_text(raw: str, offsets: bool = True, marks: Sequence[int] = ()) -> Cleaned:
    """Normalise whitespace and Unicode, re-join hard-wrapped lines, drop page furniture.

    offsets=False: no offset map is built (offset_map is None), which saves 4 bytes a char. `marks`
    (ascending raw offsets, say where pages start) are carried over into the cleaned text either way:
    without the full map, one block's at a time.
    """
    # A big text makes millions of small objects, none of them cyclic; the cyclic garbage
    # collector would otherwise rescan them all again and again (a third of the time).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _clean(raw, offsets, tuple(marks))
    finally:
        if paused:
            gc.enable()


def _clean(raw: str, offsets: bool, marks: tuple[int, ...]) -> Cleaned:
    # Two passes over the blocks: the first measures how the text is wrapped, the second
    # writes it out. Neither keeps more than one block's lines.
    stats = _WrapStats()
    for items, last in _block_items(raw, pieces=False):
        stats.add(items, last)
    wrap = _hard_wrap(stats)
    texts: list[str] = []  # one per block
    # An int array, not a list: 4 bytes a character instead of ~36 (200 MB less on a 50 MB file).
    offset_map = array("i" if len(raw) < 2**31 else "q") if offsets else None
    placed = [0] * len(marks)  # cleaned chars that come from before each mark, counted block by block
    prev: _Line | None = None
    first: _Line | None = None
    gap = False
    for items, _ in _block_items(raw, pieces=offsets or bool(marks)):
        block: list[str] = []
        spans: list = []
        for item in items:
            if item is None:
                gap = prev is not None
                continue
            if prev is None:
                first = item
            else:
                sep = "\n\n" if gap else _separator(prev, item, wrap, prev is first)
                block.append(sep)
                if item.pieces is not None and sep:  # a blank line maps to the line break before it; a
                    # word joined across a line-end hyphen ("decompres-" + "sion") has no separator, so no span
                    spans.append((prev.term, prev.term + 1) if gap else (prev.term,) * len(sep))
            block.append(item.text)
            if item.pieces is not None:
                spans.extend(item.pieces)
            prev, gap = item, False
        texts.append("".join(block))
        if marks:
            _count_before(marks, spans, placed)
        if offset_map is not None:
            offset_map.extend(chain.from_iterable(spans))
    if offset_map is not None:
        offset_map.append(len(raw))
    return Cleaned("".join(texts), offset_map, tuple(placed))


def _count_before(marks: tuple[int, ...], spans: list, placed: list[int]) -> None:
    # Adds to placed[i] how many of this block's cleaned chars come from raw offsets before marks[i]; the map
    # from cleaned chars to raw offsets never goes back, so that is where the mark lands. Marks past the block
    # get all of it. Spans (ranges, tuples) are searched as they are: no per-char map is made.
    if not spans:
        return
    first, last = spans[0][0], spans[-1][-1]
    inside, after = bisect_right(marks, first), bisect_right(marks, last)
    sizes = list(accumulate(map(len, spans), initial=0))  # cleaned chars before each span
    if inside < after:
        heads = [span[0] for span in spans]
        for i in range(inside, after):
            j = bisect_left(heads, marks[i]) - 1  # the last span that starts before the mark
            placed[i] += sizes[j] + bisect_left(spans[j], marks[i])
    size = sizes[-1]
    for i in range(after, len(marks)):
        placed[i] += size


# A line of nothing but Markdown images or image links: the badges atop a README ([![Build](..)](..)).
_BADGES = re.compile(r"(?:\[?!\[[^\]]*\]\([^)\s]*\)(?:\]\([^)\s]*\))?[ \t]*)+")
# A man page's running header: "SSH(1)   BSD General Commands Manual   SSH(1)".
_MAN_HEADER = re.compile(r"(\S+\(\w+\)) .* \1")
_TITLE_LINES = 40  # a title is looked for this far down, past badges and headers


def guess_title(text: str, limit: int = 200) -> str:
    """The first line of text that reads as a title, whitespace collapsed, at most `limit` chars.

    Skipped on the way: blank lines, lines of Markdown badges, and a man page's running header (its NAME
    line is the title, "ssh — OpenSSH remote login client")."""
    found = _NON_SPACE.search(text)
    if not found:
        return ""
    # A bounded slice: the first "line" of a text without line breaks may be megabytes long.
    lines = [" ".join(line.split()) for line in text[found.start():found.start() + 40 * limit].split("\n")]
    lines = [line for line in lines[:_TITLE_LINES] if line]
    title = next((line for line in lines if not _BADGES.fullmatch(line)), "")
    if _MAN_HEADER.fullmatch(title):
        after_name = lines[lines.index("NAME") + 1:] if "NAME" in lines else []
        title = after_name[0] if after_name else title.split()[0]
    title = re.sub(r"^#{1,6}\s+", "", title)
    if len(title) > limit:
        cut = title.rfind(" ", 0, limit)
        title = title[:cut if cut > limit // 2 else limit - 1].rstrip() + "…"
    return title


def _blocks(raw: str) -> Iterator[tuple[int, int]]:
    # (start, end) of blocks of about BLOCK_CHARS that cover raw; each but the last ends right
    # after a line break, after a blank line where one comes soon enough.
    size = BLOCK_CHARS
    start = 0
    while True:
        end = len(raw)
        if end - start > size:
            found = _BLANK_LINE.search(raw, start + size, start + 2 * size) or _NEWLINE.search(raw, start + size)
            if found:
                end = found.end()
                if raw[end - 1] == "\r" and raw[end:end + 1] == "\n":  # never between the two of a CRLF
                    end += 1
        yield start, end
        if end >= len(raw):
            return
        start = end


def _block_items(raw: str, pieces: bool) -> Iterator[tuple[list[_Line | None], _Line | None]]:
    # Per block: its paragraph items (see _paragraph_items) and the item before them
    # (the last one of the blocks before: a line, or None at a break or at the start).
    in_fence = False
    last: _Line | None = None
    for start, end in _blocks(raw):
        final = end == len(raw)
        lines, in_fence = _split_lines(raw[start:end], start, in_fence, pieces, final)
        items = _paragraph_items(lines, last, (lambda: "") if final else (lambda: _line_text_at(raw, end)))
        yield items, last
        if items:
            last = items[-1]


def _line_text_at(raw: str, start: int) -> str:
    # The cleaned text of the line that starts at raw[start] (the first of the next block).
    brk = _NEWLINE.search(raw, start)
    lines, _ = _split_lines(raw[start:brk.start() if brk else len(raw)], start, False, False, True)
    return lines[0].text


def _split_lines(text: str, base: int, in_fence: bool, pieces: bool, final: bool) -> tuple[list[_Line], bool]:
    # The lines of text, which starts at raw[base], and whether a code fence is open after
    # them. Unless final, text ends with a line break, and nothing after it is a line.
    # pieces=False: the lines carry no offsets (None).
    # A line break composes with nothing, so a text is NFC exactly when all its lines are.
    nfc = not unicodedata.is_normalized("NFC", text)  # then each line must be checked
    lines = []
    for start, end in _line_spans(text):
        line = text[start:end]
        # Most lines need nothing; str methods say so much faster than one regex can.
        if (ODD.search(line) or "  " in line or line[:1] == " " or line[-1:] == " "
                or (nfc and not unicodedata.is_normalized("NFC", line))):
            line, spans = clean_line(line, base + start)
            if not pieces:
                spans = None
        else:
            spans = [range(base + start, base + end)] if pieces else None
        kind = 0
        if line and (in_fence or line[0] in _MARKUP_FIRST or line[1:2] in (".", ")")):
            kind, in_fence = _line_kind(line, in_fence)
        elif " | " in line:  # a table row in the row form (ingest/tables.py): never joined to its neighbours
            kind = _OWN
        lines.append(_Line(line, spans, base + end, kind))
    if not final:
        lines.pop()  # the empty "line" after the last break, which is the next block's first
    return lines, in_fence


def _line_kind(line: str, in_fence: bool) -> tuple[int, bool]:
    # (kind, whether a code fence is open after this line)
    fence = bool(_FENCE.match(line))
    if in_fence or fence or _OWN_LINE.match(line):
        return _OWN, in_fence != fence  # inside a code fence nothing is joined
    return (_START if _STARTS_LINE.match(line) else 0), in_fence


def _line_spans(raw: str):
    # (start, end) of each line without its break; end is where the break starts.
    if "\r" not in raw:  # the common case, at C speed
        start = 0
        for line in raw.split("\n"):
            yield start, start + len(line)
            start += len(line) + 1
        return
    start = 0
    for brk in _NEWLINE.finditer(raw):
        yield start, brk.start()
        start = brk.end()
    yield start, len(raw)



def _paragraph_items(lines: list[_Line], last: _Line | None, following: Callable[[], str]) -> list[_Line | None]:
    # Kept lines, with None where a paragraph break goes (blank lines, dropped furniture).
    # last: the item before these lines (None at a break or at the start); following():
    # the cleaned text of the line after them.
    items: list[_Line | None] = []
    for i, line in enumerate(lines):
        if not line.text or (line.kind != _OWN and _is_furniture(last, line, lines, i, following)):
            if last is not None:
                items.append(None)
                last = None
        else:
            items.append(line)
            last = line
    return items


def _is_furniture(prev: _Line | None, line: _Line, lines: list[_Line], i: int,
                  following: Callable[[], str]) -> bool:
    if len(line.text) > _LONGEST_FURNITURE or line.text.lower() not in FURNITURE:
        return False
    # Only when it stands alone: "... we\nshare\nthe ..." is a wrapped sentence, not chrome.
    if prev is not None and not _SENTENCE_END.search(prev.text):
        return False
    after = lines[i + 1].text if i + 1 < len(lines) else following()
    return not after[:1].islower()


class _Wrap(NamedTuple):
    width: int  # the margin the text was wrapped at
    # Whether a short line that ends no sentence still runs on into an upper-case line:
    # yes where paragraphs start with a stray short line ("In\nan interview ..."), no
    # where short lines are headings ("Introduction\nThe company ...").
    join_short: bool


class _WrapStats:
    """What _hard_wrap needs to know of the pairs (a, b) of consecutive lines of a paragraph
    that are neither structure nor list items, by the length n of a's text."""

    __slots__ = ("counts", "short", "running_on")

    def __init__(self):
        self.counts = [0] * (_MAX_WIDTH + 2)  # pairs by n (capped at _MAX_WIDTH + 1), n >= _MIN_SAMPLE only
        # For n <= _MAX_SHORT (no margin's 3/4 is longer): pairs whose a ends no sentence,
        # and how many of those have a b that starts in lower case.
        self.short = [0] * (_MAX_SHORT + 1)
        self.running_on = [0] * (_MAX_SHORT + 1)

    def add(self, items: list[_Line | None], last: _Line | None) -> None:
        """Count the pairs in items, the first one with last (the item before them)."""
        counts, short, running_on = self.counts, self.short, self.running_on
        a = last
        for b in items:
            if a is not None and b is not None and not a.kind and not b.kind:
                n = len(a.text)
                if n >= _MIN_SAMPLE:
                    counts[min(n, _MAX_WIDTH + 1)] += 1
                if n <= _MAX_SHORT and not _SENTENCE_END.search(a.text):
                    short[n] += 1
                    running_on[n] += b.text[0].islower()
            a = b


def _hard_wrap(stats: _WrapStats) -> _Wrap | None:
    # A hard-wrapped text has most non-final lines of its paragraphs filling (3/4 W, W]
    # for some margin W; None when the text is not hard-wrapped.
    counts = stats.counts
    total = sum(counts)
    if total < 3:
        return None
    upto = list(accumulate(counts, initial=0))  # upto[n] = how many lines are shorter than n
    best, width = 0, 0
    for w in range(_MIN_WIDTH, _MAX_WIDTH + 1):
        filled = upto[w + 1] - upto[w * 3 // 4 + 1]
        if filled > best:
            best, width = filled, w
    if best < 3 or best * 2 < total:
        return None
    # The lines that ended well short of the margin and end no sentence: do they run on?
    short = sum(stats.short[:width * 3 // 4 + 1])
    running_on = sum(stats.running_on[:width * 3 // 4 + 1])
    return _Wrap(width, running_on * 2 > short)


def _separator(a: _Line, b: _Line, wrap: _Wrap | None, a_is_first: bool) -> str:
    # What replaces the line break between two lines of one paragraph.
    if a.kind == _OWN or b.kind:
        return "\n"
    if b.text[0].islower():  # a sentence carries on
        return "" if _HYPHEN_END.search(a.text) else " "
    if wrap is None or a_is_first:  # the first line of a document is its title more often than not
        return "\n"
    n = len(a.text)
    if n > wrap.width * 1.1:  # longer than the margin: nobody wrapped this line
        return "\n"
    if n <= wrap.width * 3 // 4:  # ended well short of the margin
        return " " if wrap.join_short and not _SENTENCE_END.search(a.text) else "\n"
    return " "
