"""The answerer seam: what an answerer is given (an AnswerRequest) and what it gives back.

An answerer's `answer(request)` is a generator: it yields the answer's text in pieces as they are
ready and ends with exactly one `AnswerResult`. A piece is a `str` to append to what is shown, or a
`Revision` that replaces everything shown so far (an LLM's sentence that fails verification is
withdrawn, and the verified ones get their final [n] numbers). An extractive answerer yields a
sentence at a time, an LLM a token at a time; the Assistant streams both the same way and drains
the same generator for a plain `ask`. The final `AnswerResult.text` is what the user keeps.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from assistant.answer import NOT_FOUND, Citation
from assistant.followup import rewrite
from vectorstore.records import Hit


@dataclass(frozen=True)
class AnswerRequest:
    """One question, with everything an answerer may use to answer it."""

    question: str  # the user's words
    query: str  # what was searched for: the question, rewritten from the conversation when it leans on it
    hits: Sequence[Hit]  # the passages retrieved for `query`, best first
    document_text: Callable[[str], str]  # source -> the cleaned text citation offsets point into
    search: Callable[[str], Sequence[Hit]]  # retrieve more passages for a text (same sources filter, same k)
    history: Sequence[tuple[str, str]] = ()  # earlier (question, answer text) turns, oldest first
    # Which stemmed words no indexed passage uses: a request, not the answerer, knows its index, so
    # one answerer (an LLM started once) serves every knowledge base.
    unknown_terms: Callable[[Iterable[str]], set[str]] = lambda stems: set()


@dataclass(frozen=True)
class AnswerResult:
    """The end of an answer: its citations, and whether (and why) it declined.

    `text` is the whole answer: the streamed pieces joined, after the last Revision; `[n]` in it is
    citations[n-1]. `short` is the exact phrase that answers ("63,519"), shown above the text, and
    `short_start`/`short_end` its offsets in citation 1's document (document_text(citations[0].source)
    [short_start:short_end] == short, inside citations[0].sentence); None when the answer declines, and
    for answerers that do not extract one (LLM, top passage).
    `notes` are for the user (why it declined, what was removed); `details` are for the curious
    (what else was searched), shown under "Why this answer"; `unsupported` lists the generated
    sentences verification did not pass (removed, or shown marked). `answered_by` names the kind
    that stood in (the LLM answerer's extractive fallback); None when the answerer wrote it itself.
    """

    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    reason: str = ""
    notes: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()  # generated sentences that verification did not pass
    confidence: float | None = None  # the answerer's estimate that the answer is right, when it makes one
    short: str | None = None  # the exact phrase that answers, shown above the text
    short_start: int | None = None  # its offsets in citation 1's document text
    short_end: int | None = None
    answered_by: str | None = None  # the answerer kind that wrote text, when another stood in (None: this one)


@dataclass(frozen=True)
class Revision:
    """The answer shown so far, replaced by `text`."""

    text: str


AnswerStream = Iterator["str | Revision | AnswerResult"]


class Answerer(ABC):
    """Replies to one AnswerRequest; subclasses implement `answer` and may condense follow-ups their own way."""

    @abstractmethod
    def answer(self, request: AnswerRequest) -> AnswerStream:
        """Yield text pieces, then one AnswerResult."""

    def load(self) -> None:
        """Load the models this answerer needs now, once (start-up, not a question's cost); default: none."""

    @property
    def loaded(self) -> bool:
        """Are its models loaded (without loading them)?"""
        return True

    def search_query(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """What to search for: the question, with what a follow-up leans on from the conversation."""
        return rewrite(question, history)


def abstain(reason: str, notes: tuple[str, ...] = (), details: tuple[str, ...] = ()) -> AnswerResult:
    """The "not found" answer, saying why (in words a user reads; the numbers go in `details`)."""
    return AnswerResult(NOT_FOUND, (), True, reason, notes, details)


def speak(result: AnswerResult, pieces: Sequence[str] | None = None) -> AnswerStream:
    """Stream a finished result: its pieces (default: the whole text at once), then the result."""
    for piece in pieces if pieces is not None else (result.text,):
        yield piece
    yield result
