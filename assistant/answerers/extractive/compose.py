"""From the reader's spans to the answer: the sentences that hold them, each followed by its [n]."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answer import Answer, Citation
from assistant.text.sentences import leans_on_previous, sentence_spans
from vectorstore.records import Hit


@dataclass(frozen=True)
class Found:
    """A span the reader found, placed in its document: document_text(hit.chunk.source)[start:end]."""

    hit: Hit
    rank: int  # its passage's rank among the retrieved ones (0 = first)
    start: int
    end: int
    score: float  # the reader's start + end logit
    margin: float  # score minus its passage's no-answer score


@dataclass(frozen=True)
class Quote:
    """What an answer shows for a span: document_text[start:end], the sentence(s) holding it, after the
    sentence before when it leans on it (then `sentence` > `start`)."""

    found: Found
    start: int
    sentence: int
    end: int


def quote(found: Found, text: str) -> Quote:
    """The whole sentences holding the span, with the sentence before when the first leans on it."""
    spans = sentence_spans(text, found.start, found.end)
    if not spans:  # no sentence around it (a table cell, a heading): the span alone
        return Quote(found, found.start, found.start, found.end)
    a, before, b = spans[0][0], spans[0][2], spans[-1][1]
    shown_from = before if before < a and leans_on_previous(text[a:b]) else a
    return Quote(found, shown_from, a, b)


def choose(found: Sequence[Found], document_text: Callable[[str], str], max_sentences: int,
           extra_margin: float) -> list[Quote]:
    """The answer's quotes: the best span's sentence, then those of spans within `extra_margin` of it that the
    reader would also give (margin above 0), each sentence once, at most max_sentences."""
    out: list[Quote] = []
    for f in found:  # best first
        if len(out) == max_sentences or (out and (f.margin <= 0 or f.margin < found[0].margin - extra_margin)):
            break
        q = quote(f, document_text(f.hit.chunk.source))
        if any(o.found.hit.chunk.source == f.hit.chunk.source and q.start < o.end and o.start < q.end for o in out):
            continue
        out.append(q)
    return out


def compose(quotes: Sequence[Quote], document_text: Callable[[str], str],
            details: tuple[str, ...] = ()) -> tuple[list[str], Answer]:
    """The answer's pieces (each sentence with its [n], numbered 1..N in order) and its result."""
    citations: list[Citation] = []
    pieces = []
    for n, q in enumerate(quotes, 1):
        chunk = q.found.hit.chunk
        text = document_text(chunk.source)
        start, end = min(q.start, chunk.start), max(q.end, chunk.end)
        citations.append(Citation(n=n, source=chunk.source, title=chunk.title, text=text[start:end],
                                  sentence=text[q.start:q.end], start=start, end=end,
                                  score=round(q.found.margin, 4), chunk_id=chunk.id))
        mark = f"[{n}]"
        lead_in = text[q.start:q.sentence].rstrip()
        said = text[q.sentence:q.end]
        pieces.append(("" if not pieces else " ") + (f"{lead_in} {mark} {said} {mark}" if lead_in else f"{said} {mark}"))
    return pieces, Answer(text="".join(pieces), citations=tuple(citations), details=details)
