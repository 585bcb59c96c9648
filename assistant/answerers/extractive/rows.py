"""Answers from table rows: which row the question is about, and which of its cells answers it.

Ingest writes every table row as one line, `Header: value | Header: value` (ingest/tables.py). The reader
was taught on prose: it finds the table a question is about, but within a table it mixes rows up and takes
one cell for another. So when its best span lies in a row, the row and the cell are chosen again:
- the row: of the row lines in the retrieved passages, the one whose values hold most of the question's
  words ("Q1" and "Harbour" in "Harbour's revenue in Q1"), then whose text is closest to the question
  (cosine of the embedding model, as retrieval ranks passages: "Hungarian" finds "Hungary");
- the cell: of that row's values, the one whose header is closest to the question, leaving out the
  values the question itself gives (the row's key: "Mexico" in "What is Mexico's calling code?").
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from assistant.answerers.extractive.compose import Found
from assistant.text.terms import terms
from ingest.tables import ROW_SEPARATOR, row_values


def row_answer(question: str, best: Found, found: list[Found], texts: list[str],
               embed: Callable[[list[str]], np.ndarray]) -> Found:
    """`best` placed on the row and cell the question asks about, when it lies in a table row; else `best`."""
    if not row_values(line_at(texts[best.rank], best.start)[1]):
        return best
    rows = []  # (found of its passage, row start, row line) for every row line of the passages read
    seen = set()
    for f in found:
        if (f.hit.chunk.source, f.hit.chunk.start) in seen:
            continue
        seen.add((f.hit.chunk.source, f.hit.chunk.start))
        text = texts[f.rank]
        at = f.hit.chunk.start
        for line in text[f.hit.chunk.start:f.hit.chunk.end].split("\n"):
            if row_values(line):
                rows.append((f, at, line))
            at += len(line) + 1
    asked = set(terms(question))
    vectors = embed([question, *(line for _, _, line in rows)])
    named = [len(asked & _value_terms(line)) for _, _, line in rows]
    owner, start, line = rows[max(range(len(rows)), key=lambda i: (named[i], float(vectors[1 + i] @ vectors[0])))]
    cell = _cell(question, line, embed)
    if cell is None:
        return best
    return replace(best, hit=owner.hit, rank=owner.rank, start=start + cell[0], end=start + cell[1])


def _cell(question: str, line: str, embed: Callable[[list[str]], np.ndarray]) -> tuple[int, int] | None:
    """The (start, end) in the line of the value whose header is closest to the question, of the values the
    question does not already give."""
    asked = set(terms(question))
    cells = []
    for (start, end), part in zip(row_values(line), line.split(ROW_SEPARATOR)):
        label = part.partition(": ")[0] if ": " in part else ""
        said = set(terms(line[start:end]))
        if label and said and not said <= asked:
            cells.append((label, (start, end)))
    if not cells:
        return None
    vectors = embed([question, *(label for label, _ in cells)])
    return cells[int(np.argmax(vectors[1:] @ vectors[0]))][1]


def _value_terms(line: str) -> set[str]:
    return {t for start, end in row_values(line) for t in terms(line[start:end])}


def in_one_value(passage: str, start: int, end: int) -> bool:
    """Whether passage[start:end] lies inside one value of a table row line, or is not in a row at all."""
    line_start, line = line_at(passage, start)
    values = row_values(line)
    return not values or any(a <= start - line_start and end - line_start <= b for a, b in values)


def line_at(text: str, offset: int) -> tuple[int, str]:
    """(where it starts, the line) of the line holding text[offset]."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, text[start:end if end >= 0 else len(text)]
