"""What a question gets back: an Answer with numbered Citations (frozen, JSON-ready)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

from vectorstore.records import DocumentRecord, Hit

NOT_FOUND = "I could not find this in the indexed documents."
MARK = re.compile(r"\[(\d+)\]")  # a citation mark in an answer's text: [n] refers to citations[n-1]


@dataclass(frozen=True)
class Citation:
    """Passage `n` of an answer: `sentence` occurs verbatim in `text` == document_text[start:end]."""

    n: int
    source: str
    title: str
    text: str
    sentence: str
    start: int
    end: int
    score: float
    chunk_id: str = ""
    page: int | None = None  # the page (slide, sheet) the cited sentence starts on; None: the document has none
    page_kind: str | None = None  # what `page` counts: "page", "slide" or "sheet"; None without a page
    ocr: bool = False  # some of the cited passage was read by OCR

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


@dataclass(frozen=True)
class Answer:
    """The reply to one question; `[n]` in text always refers to citations[n-1]."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    query: str = ""  # what was searched for: the question rewritten from the conversation
    hits: tuple[Hit, ...] = ()  # the passages retrieved, best first (closest ones when abstaining)
    timings_ms: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # for the user: why it declined, that a long question was truncated
    details: tuple[str, ...] = ()  # for the curious ("Why this answer"): what else was searched
    unsupported: tuple[str, ...] = ()  # an LLM's sentences that verification did not pass
    confidence: float | None = None  # the extractive answerer's estimate that its answer is right, else None
    short: str | None = None  # the exact phrase that answers ("63,519"), shown first; None: none found
    # ...and where: document(citations[0].source).text[short_start:short_end] == short
    short_start: int | None = None
    short_end: int | None = None
    answered_by: str = ""  # the answerer kind that wrote text ("extractive" when it stood in for the LLM)

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "short": self.short,
                "short_start": self.short_start, "short_end": self.short_end, "abstained": self.abstained,
                "confidence": self.confidence,
                "citations": [c.to_dict() for c in self.citations], "query": self.query,
                "hits": [h.to_dict() for h in self.hits], "notes": list(self.notes), "details": list(self.details),
                "unsupported": list(self.unsupported), "answered_by": self.answered_by,
                "timings_ms": dict(self.timings_ms)}

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The Answer to_dict() gave (a saved turn's), to show again."""
        return cls(question=data["question"], text=data["answer"],
                   citations=tuple(Citation(**c) for c in data.get("citations") or ()),
                   abstained=bool(data.get("abstained")), query=data.get("query") or "",
                   hits=tuple(Hit.from_dict(h) for h in data.get("hits") or ()),
                   timings_ms=dict(data.get("timings_ms") or {}), notes=tuple(data.get("notes") or ()),
                   details=tuple(data.get("details") or ()), unsupported=tuple(data.get("unsupported") or ()),
                   confidence=data.get("confidence"), short=data.get("short"), short_start=data.get("short_start"),
                   short_end=data.get("short_end"), answered_by=data.get("answered_by") or "")
