"""The answerer seam: one factory, one small protocol."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from assistant.answer import Citation
from assistant.extractive import Draft, ExtractiveAnswerer, Search, abstain
from assistant.settings import AnswerSettings
from vectorstore.embedder import Embedder
from vectorstore.records import Hit


KINDS = ("extractive", "top-passage")


class Answerer(Protocol):
    def answer(self, query: str, query_embedding: np.ndarray, hits: Sequence[Hit],
               document_text: Callable[[str], str], search: Search | None = None) -> Draft: ...


class TopPassageAnswerer:
    """A plain baseline: the best retrieved passage, whole, as the answer."""

    def answer(self, query, query_embedding, hits, document_text, search=None) -> Draft:
        if not hits:
            return abstain("nothing was retrieved")
        chunk = hits[0].chunk
        citation = Citation(n=1, source=chunk.source, title=chunk.title, text=chunk.text, sentence=chunk.text,
                            start=chunk.start, end=chunk.end, score=round(hits[0].score, 4), chunk_id=chunk.id)
        return Draft(f"{chunk.text} [1]", (citation,), False)


def make_answerer(settings: AnswerSettings, embedder: Embedder,
                  unknown_terms: Callable[[Iterable[str]], set[str]] = lambda stems: set()) -> Answerer:
    """The answerer named by settings.kind; unknown_terms(stems) says which words no document uses."""
    match settings.kind:
        case "extractive":
            return ExtractiveAnswerer(embedder, settings, unknown_terms)
        case "top-passage":
            return TopPassageAnswerer()
    raise ValueError(f"unknown answerer {settings.kind!r}")
