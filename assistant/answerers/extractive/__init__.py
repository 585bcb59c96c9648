"""The default answerer: picks the retrieved sentences that best answer the question, no LLM.

question.py works out once what the question asks; candidates.py scores every retrieved sentence;
selection.py decides whether any can answer and which do; second_look.py completes a list of people
who did the act asked about. Step by step: docs/answering.md.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, abstain, speak
from assistant.answerers.extractive.candidates import collect, score
from assistant.answerers.extractive.question import Question
from assistant.answerers.extractive.second_look import more_who_did
from assistant.answerers.extractive.short import short_answer
from assistant.answerers.extractive.selection import compose, select, weak_evidence
from assistant.settings import AnswerSettings
from assistant.text.facts import has_type
from assistant.text.terms import terms
from vectorstore.embedder import Embedder


class ExtractiveAnswerer(Answerer):
    """Composes a short answer from whole retrieved sentences, each followed by its [n]."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings,
                 unknown_terms: Callable[[Iterable[str]], set[str]] = lambda stems: set()):
        self.embedder = embedder
        self.settings = settings
        self.unknown_terms = unknown_terms  # which stemmed words no indexed document uses

    def answer(self, request: AnswerRequest) -> AnswerStream:
        """Answer request.query from request.hits, a sentence at a time."""
        candidates = collect(request.hits, request.document_text)
        if not candidates:
            yield from speak(abstain("the retrieved passages hold no whole sentence"))
            return
        question = Question.of(request.query)
        query_embedding = self.embedder.embed_cached([request.query])[0]
        score(self.embedder, question, query_embedding, candidates)
        best_match = max(c.score for c in candidates)
        # A sentence without the kind of answer asked for (no number for "how many") cannot answer.
        typed = [c for c in candidates if has_type(c.sentence, question.kind, question.text)]
        reason = weak_evidence(self.settings, question, typed, best_match, self.unknown_terms)
        if reason:
            yield from speak(abstain(reason))
            return
        chosen = select(self.settings, question, typed, best_match)
        details: tuple[str, ...] = ()
        if question.act and question.act in terms(chosen[0].sentence):
            room = self.settings.max_sentences + 1 - len(chosen)
            more, searched = more_who_did(self.embedder, question, query_embedding, chosen, room,
                                          self.settings.duplicate_similarity, request.search,
                                          request.document_text)
            if more:
                chosen += more
                looked = "; ".join(f"“{text}”" for text in searched)
                details = (f"To list others who did the same, also searched for: {looked}.",)
        pieces, result = compose(chosen, details)
        yield from speak(replace(result, short=short_answer(question, [c.sentence for c in chosen])), pieces)


def make(settings, embedder: Embedder, lexical) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(embedder, settings.answer, lexical.unknown)
