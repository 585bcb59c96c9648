"""What a question gets back: an Answer with numbered Citations (frozen, JSON-ready)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from vectorstore.records import Hit

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

    def to_dict(self) -> dict:
        return asdict(self)


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
