"""The default answerer: picks the retrieved sentences that best answer the question, no LLM.

question.py works out once what the question asks; candidates.py scores every retrieved sentence;
selection.py picks the answer's sentences; answerability.py estimates how likely that answer is to be
right (the answerer declines below `[answer] min_confidence`); second_look.py completes a list of
people who did the act asked about. Step by step: docs/answering.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, abstain, speak
from assistant.answerers.extractive.answerability import Answerability, features, shipped
from assistant.answerers.extractive.candidates import Candidate, collect, score
from assistant.answerers.extractive.question import Question
from assistant.answerers.extractive.second_look import more_who_did
from assistant.answerers.extractive.selection import compose, missing_answer, select
from assistant.answerers.extractive.short import short_answer
from assistant.settings import AnswerSettings
from assistant.text.facts import has_type
from assistant.text.terms import terms
from vectorstore.embedder import Embedder


class ExtractiveAnswerer(Answerer):
    """Composes a short answer from whole retrieved sentences, each followed by its [n]."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings, model: Answerability | None = None):
        self.embedder = embedder
        self.settings = settings
        self._model = model  # the shipped weights unless given, read on the first answer

    def answer(self, request: AnswerRequest) -> AnswerStream:
        """Answer request.query from request.hits, a sentence at a time."""
        draft = self.draft(request)
        if draft is None:
            yield from speak(abstain("the retrieved passages hold no whole sentence"))
            return
        if draft.missing:
            yield from speak(abstain(draft.missing))
            return
        model = self._model or shipped()
        confidence = model.probability(draft.features)
        if confidence < self.settings.min_confidence:
            reason = (f"the best answer found is likely wrong (estimated {confidence:.0%} right, below "
                      f"answer.min_confidence {self.settings.min_confidence:.0%}); what weighs most against it: "
                      f"{model.weakest(draft.features)}")
            yield from speak(replace(abstain(reason), confidence=round(confidence, 4)))
            return
        question, chosen = draft.question, draft.chosen
        details: tuple[str, ...] = ()
        if question.act and question.act in terms(chosen[0].sentence):
            room = self.settings.max_sentences + 1 - len(chosen)
            more, searched = more_who_did(self.embedder, question, draft.query_embedding, chosen, room,
                                          self.settings.duplicate_similarity, request.search,
                                          request.document_text)
            if more:
                chosen += more
                looked = "; ".join(f"“{text}”" for text in searched)
                details = (f"To list others who did the same, also searched for: {looked}.",)
        pieces, result = compose(chosen, details)
        short = short_answer(question, [c.sentence for c in chosen])
        yield from speak(replace(result, confidence=round(confidence, 4), short=short), pieces)

    def draft(self, request: AnswerRequest) -> Draft | None:
        """The answer's sentences before deciding whether to give it, with the answerability features;
        None when the passages hold no sentence at all."""
        candidates = collect(request.hits, request.document_text)
        if not candidates:
            return None
        question = Question.of(request.query)
        query_embedding = self.embedder.embed_cached([request.query])[0]
        score(self.embedder, question, query_embedding, candidates)
        best_match = max(c.score for c in candidates)
        # A sentence without the kind of answer asked for (no number for "how many") cannot answer. The
        # draft still has sentences then (the best of any kind), so its features can be measured.
        typed = [c for c in candidates if has_type(c.sentence, question.kind, question.text)]
        missing = missing_answer(self.settings, question, typed, best_match, request.unknown_terms)
        chosen = select(self.settings, question, typed or candidates, best_match)
        x = features(question, chosen[0], candidates, best_match, bool(typed), request.hits,
                     request.unknown_terms)
        return Draft(question, query_embedding, chosen, x, missing)


@dataclass
class Draft:
    """An answer not yet given: its question, its sentences (best first), its answerability features, and
    why the sentences cannot hold the answer ("" when they may)."""

    question: Question
    query_embedding: np.ndarray
    chosen: list[Candidate]
    features: np.ndarray
    missing: str = ""


def make(settings, embedder: Embedder) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(embedder, settings.answer)
