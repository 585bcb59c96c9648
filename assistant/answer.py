"""What a question gets back: an Answer with numbered Citations (frozen, JSON-ready)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Annotated, ClassVar

from pydantic import Field

from vectorstore.records import DocumentRecord, Hit

NOT_FOUND = "I could not find this in the indexed documents."
MARK = re.compile(r"\[(\d+)\]")  # a citation mark in an answer's text: [n] refers to citations[n-1]


@dataclass(frozen=True)
class Citation:
    """Passage `n`: `sentence` occurs verbatim in `text`, which is the document's text[start:end]."""

    n: int
    source: str
    title: str
    text: Annotated[str, Field(description="The cited passage.")]
    sentence: Annotated[str, Field(description="The sentence of the passage the answer relies on.")]
    start: Annotated[int, Field(description="Offset of the passage in the document's text (GET "
                                            "/documents/{source}).")]
    end: int
    score: float
    chunk_id: Annotated[str, Field(description="The cited chunk: one of the answer's `hits[].id`.")] = ""
    page: Annotated[int | None, Field(description="The page (slide, sheet), from 1, that the cited sentence "
                                                  "starts on; null when the document has no pages.")] = None
    page_kind: Annotated[str | None, Field(description="What `page` counts: `page`, `slide` or `sheet`; null "
                                                       "without a page.")] = None
    ocr: Annotated[bool, Field(description="Some of the cited passage was read by OCR (it may hold misread "
                                           "words).")] = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def location(self) -> str:
        """Where it is, as a reader says it: "p. 4", "slide 3", "sheet 2"; "" without a page."""
        return page_label(self.page_kind or "page", self.page) if self.page is not None else ""

    def sentence_span(self) -> tuple[int, int] | None:
        """Document offsets of the cited sentence inside the cited passage, if it is found there."""
        at = self.text.find(self.sentence) if self.sentence else -1
        if at < 0:
            return None
        return self.start + at, self.start + at + len(self.sentence)

    def placed(self, record: DocumentRecord | None) -> Citation:
        """This citation with the page its sentence starts on and whether OCR read it, from its document's record."""
        if record is None:
            return self
        span = self.sentence_span()
        page = record.page_at(span[0] if span else self.start)
        last = record.page_at(max(self.end - 1, self.start))
        ocr = bool(record.ocr_pages) and (page is None or any(
            n in record.ocr_pages for n in range(record.page_at(self.start), last + 1)))
        return replace(self, page=page, page_kind=record.page_kind if page is not None else None, ocr=ocr)


def page_label(kind: str, n: int) -> str:
    """ "p. 4", "slide 3", "sheet 2": page n of a document whose pages are of this kind."""
    return f"p. {n}" if kind == "page" else f"{kind} {n}"


@dataclass(frozen=True, kw_only=True)
class Answer:
    """The answer: `[n]` in `answer` is `citations[n-1]` (the same object as `assistant ask --json`).

    An answerer builds it from `text` on (its question, query, hits and timings are filled in by the
    Assistant); the fields are in the order of its JSON, `to_dict()`, where `text` is called `answer`.
    """

    question: str = ""
    text: str
    short: Annotated[str | None, Field(description="The exact phrase that answers, as the reader found it in the "
                                                   "first cited sentence; null when the answer declines or the "
                                                   "answerer does not extract one.")] = None
    short_start: Annotated[int | None, Field(description="Where `short` starts in the first citation's document "
                                                         "text (the offsets citations use).")] = None
    short_end: Annotated[int | None, Field(description="Where `short` ends in that text.")] = None
    abstained: bool = False
    confidence: Annotated[float | None, Field(description="The extractive answerer's estimate (0-1) that the answer "
                                                          "is right; null for other answerers.")] = None
    citations: tuple[Citation, ...] = ()
    query: Annotated[str, Field(description="What was searched for: the question rewritten from the "
                                            "conversation.")] = ""
    hits: Annotated[tuple[Hit, ...], Field(description="The passages retrieved, best first (the closest ones "
                                                       "when it abstains).")] = ()
    notes: Annotated[tuple[str, ...], Field(description="For the user: why it declined, that a long question was "
                                                        "truncated, what verification removed.")] = ()
    details: Annotated[tuple[str, ...], Field(description='For the curious ("Why this answer"): the estimate and '
                                                          "its threshold, what else was searched.")] = ()
    unsupported: Annotated[tuple[str, ...], Field(description="An LLM's sentences that verification did not "
                                                              "pass.")] = ()
    answered_by: Annotated[str, Field(description="The answerer kind that wrote the answer: the one asked for, or "
                                                  "`extractive` when it stood in for an LLM answer that did not "
                                                  "verify.")] = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    JSON_NAMES: ClassVar[dict[str, str]] = {"text": "answer"}  # the fields whose JSON key differs

    def to_dict(self) -> dict:
        return {self.JSON_NAMES.get(f.name, f.name): _json(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The Answer to_dict() gave (a saved turn's), to show again."""
        keys = {f.name: cls.JSON_NAMES.get(f.name, f.name) for f in fields(cls)}
        given = {name: data[key] for name, key in keys.items() if data.get(key) is not None}
        given["citations"] = tuple(Citation(**c) for c in given.get("citations", ()))
        given["hits"] = tuple(Hit.from_dict(h) for h in given.get("hits", ()))
        return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in given.items()})


def _json(value):
    """A field's value as JSON has it: tuples as lists, records as their to_dict()."""
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value.to_dict() if hasattr(value, "to_dict") else value
