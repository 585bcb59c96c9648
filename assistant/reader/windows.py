"""How the reader sees a question and a passage: `[CLS] question [SEP] window [SEP]`.

A passage longer than one window is read in overlapping windows (a stride, as SQuAD readers do), so
an answer cut by one window's edge lies whole in the next. A table row (a line `Header: value | Header:
value`, as ingest writes every table) is read alone, in windows of its own: each row carries its headers,
and the reader, taught on prose, is not asked to tell apart the rows of a whole table at once. Training
(bench/train_reader.py) and answering build their inputs here, so the model is always asked the way it
was taught.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.tables import ROW_SEPARATOR

MAX_TOKENS = 256  # a window with its question and the three special tokens
MAX_QUESTION_TOKENS = 64  # a longer question is cut: the passage keeps the room
OVERLAP = 96  # passage tokens two neighbouring windows share
MAX_ANSWER_TOKENS = 30  # the longest span the reader may answer with


@dataclass(frozen=True)
class Window:
    """One input row: token ids, segment ids, and where each passage token lies in the passage.

    Tokens `first .. first + len(offsets) - 1` of `ids` are passage tokens; `offsets[i]` is the
    (start, end) of the passage characters token `first + i` came from.
    """

    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    first: int
    offsets: tuple[tuple[int, int], ...]

    def token_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The (first, last) input positions covering passage characters [start, end), if inside this window."""
        inside = [i for i, (a, b) in enumerate(self.offsets) if a < end and b > start]
        if not inside or self.offsets[0][0] > start or self.offsets[-1][1] < end:
            return None
        return self.first + inside[0], self.first + inside[-1]

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Passage characters [start, end) of input positions first..last (passage tokens)."""
        return self.offsets[first - self.first][0], self.offsets[last - self.first][1]


class Windower:
    """Builds windows with the model's WordPiece tokenizer (the `tokenizers` library: no torch)."""

    def __init__(self, tokenizer, max_tokens: int = MAX_TOKENS, overlap: int = OVERLAP,
                 max_question_tokens: int = MAX_QUESTION_TOKENS):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.max_question_tokens = max_question_tokens
        self.cls = tokenizer.token_to_id("[CLS]")
        self.sep = tokenizer.token_to_id("[SEP]")
        if self.cls is None or self.sep is None:
            raise ValueError("the reader's tokenizer has no [CLS] or [SEP] token")

    def question_ids(self, question: str) -> list[int]:
        return self.tokenizer.encode(question, add_special_tokens=False).ids[:self.max_question_tokens]

    def windows(self, question: str | Sequence[int], passage: str) -> list[Window]:
        """The windows that together cover the passage (at least one, empty for an empty passage)."""
        q = self.question_ids(question) if isinstance(question, str) else list(question)
        enc = self.tokenizer.encode(passage, add_special_tokens=False)
        ids, offsets = enc.ids, [tuple(o) for o in enc.offsets]
        room = self.max_tokens - len(q) - 3
        step = max(1, room - self.overlap)
        head = [self.cls, *q, self.sep]
        out = []
        for first, last in _parts(passage, offsets):
            begin = first
            while True:
                end = min(last, begin + room)
                body = ids[begin:end]
                out.append(Window(tuple(head + body + [self.sep]), tuple([0] * len(head) + [1] * (len(body) + 1)),
                                  len(head), tuple(offsets[begin:end])))
                if end >= last:
                    break
                begin += step
        return out


def _parts(passage: str, offsets: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Token ranges [first, last) read apart: each table row line, and the prose between rows (one range when
    the passage holds no row; one empty range for an empty passage)."""
    if ROW_SEPARATOR not in passage:
        yield 0, len(offsets)
        return
    begin, at = 0, 0  # the range being gathered starts at token `begin`; `at` is the next token to place
    for line_start, line in _lines(passage):
        line_end = line_start + len(line)
        first = at
        while at < len(offsets) and offsets[at][0] < line_end:
            at += 1
        if ROW_SEPARATOR in line and at > first:
            if first > begin:
                yield begin, first
            yield first, at
            begin = at
    if begin < len(offsets) or not offsets:  # the prose after the last row; one empty range for an empty passage
        yield begin, len(offsets)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1
