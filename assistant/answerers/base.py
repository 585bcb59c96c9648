"""The answerer seam: what an answerer is given (an AnswerRequest) and what it gives back.

An answerer's `answer(request)` is a generator: it yields the answer's text in pieces as they are
ready and ends with exactly one `Answer` (assistant/answer.py) from `text` on: the Assistant fills in
the question, query, hits and timings. A piece is a `str` to append to what is shown, or a
`Revision` that replaces everything shown so far (an LLM's sentence that fails verification is
withdrawn, and the verified ones get their final [n] numbers). An extractive answerer yields a
sentence at a time, an LLM a token at a time; the Assistant streams both the same way and drains
the same generator for a plain `ask`. The final `Answer.text` is what the user keeps: the streamed
pieces joined, after the last Revision. `answered_by` is left empty unless another kind stood in.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from assistant.answer import NOT_FOUND, Answer
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
class Revision:
    """The answer shown so far, replaced by `text`."""

    text: str


AnswerStream = Iterator["str | Revision | Answer"]


class Answerer(ABC):
    """Replies to one AnswerRequest; subclasses implement `answer` and may condense follow-ups their own way."""

    @abstractmethod
    def answer(self, request: AnswerRequest) -> AnswerStream:
        """Yield text pieces, then one Answer."""

    def load(self) -> None:
        """Load the models this answerer needs now, once (start-up, not a question's cost); default: none."""

    @property
    def loaded(self) -> bool:
        """Are its models loaded (without loading them)?"""
        return True

    def search_query(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """What to search for: the question, with what a follow-up leans on from the conversation."""
        return rewrite(question, history)


def abstain(reason: str, notes: tuple[str, ...] = (), details: tuple[str, ...] = ()) -> Answer:
    """The "not found" answer, saying why in its first note (in words a user reads; the numbers go in `details`)."""
    return Answer(text=NOT_FOUND, abstained=True, notes=(f"Not answered: {reason}.", *notes), details=details)


def speak(result: Answer, pieces: Sequence[str] | None = None) -> AnswerStream:
    """Stream a finished result: its pieces (default: the whole text at once), then the result."""
    for piece in pieces if pieces is not None else (result.text,):
        yield piece
    yield result
