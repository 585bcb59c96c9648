"""The default answerer: the trained reader points at the exact phrase that answers; no LLM.

The reader (assistant/reader) reads the question against each retrieved passage and gives its best
spans and a no-answer score. The best span is the short answer, verbatim, with its offsets; the
sentence that holds it is the cited answer (with the sentence before when it leans on it); spans
nearly as good in other sentences add their sentences. Whether to answer at all is one calibrated
decision: answerability.py estimates how likely the answer is to be right from the reader's scores
and retrieval's, and the answerer declines below `[answer] min_confidence`. Step by step:
docs/answering.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, abstain, speak
from assistant.answerers.extractive.answerability import Answerability, features, shipped
from assistant.answerers.extractive.compose import Found, choose, compose, quote
from assistant.answerers.extractive.rows import in_one_value, row_answer
from assistant.reader import Reader, Reading, shipped_reader
from assistant.settings import AnswerSettings
from assistant.text.terms import terms
from vectorstore.embedder import Embedder

# A span whose content words are more than this share the question's own is not offered as an answer.
MAX_ASKED_SHARE = 0.5
NOT_ANSWERED = ("the documents do not seem to say this; the closest passages are listed, in case the answer is "
                "there in other words")


class ExtractiveAnswerer(Answerer):
    """Answers with the reader's best span and the sentence that holds it, each sentence followed by its [n]."""

    def __init__(self, embedder: Embedder | None, settings: AnswerSettings, model: Answerability | None = None,
                 reader: Reader | None = None):
        self.embedder = embedder
        self.settings = settings
        self._model = model  # the shipped weights unless given, read on the first answer
        self._reader = reader  # the shipped reader unless given, loaded on the first answer

    @property
    def reader(self) -> Reader:
        return self._reader or shipped_reader()

    def load(self) -> None:
        self.reader.model

    @property
    def loaded(self) -> bool:
        return self.reader.loaded

    def answer(self, request: AnswerRequest) -> AnswerStream:
        """Answer request.query from request.hits, a sentence at a time."""
        draft = self.draft(request)
        if draft is None:
            yield from speak(abstain(NOT_ANSWERED, details=("The reader found no phrase that answers in the "
                                                            "retrieved passages.",)))
            return
        model = self._model or shipped()
        confidence = model.probability(draft.features)
        why = (f"Estimated {confidence:.0%} likely right (answer.min_confidence {self.settings.min_confidence:.0%}); "
               f"best phrase “{draft.short}” (reader margin {draft.found[0].margin:+.1f}); what weighs most "
               f"against it: {model.weakest(draft.features)}.")
        if confidence < self.settings.min_confidence:
            yield from speak(replace(abstain(NOT_ANSWERED, details=(why,)), confidence=round(confidence, 4)))
            return
        chosen = choose(draft.found, request.document_text, self.settings.max_sentences, self.settings.extra_margin)
        pieces, result = compose(chosen, request.document_text, (why,))
        best = draft.found[0]
        yield from speak(replace(result, confidence=round(confidence, 4), short=draft.short,
                                 short_start=best.start, short_end=best.end), pieces)

    def draft(self, request: AnswerRequest) -> Draft | None:
        """The reader's spans over the retrieved passages (best first) and the answerability features; None
        when no passage holds a span that answers."""
        hits = list(request.hits)
        texts = [request.document_text(h.chunk.source) for h in hits]
        passages = [t[h.chunk.start:h.chunk.end] for t, h in zip(texts, hits)]
        asked = set(terms(request.query))

        def answers(passage: str, start: int, end: int) -> bool:
            # A span that is mostly the question's own words restates it: it is not an answer. Nor is one
            # across a line break (a heading and the paragraph under it), nor, in a table row, anything but
            # (part of) one cell's value.
            said = terms(passage[start:end])
            return bool(said) and sum(t in asked for t in said) <= MAX_ASKED_SHARE * len(said) and \
                "\n" not in passage[start:end] and in_one_value(passage, start, end)

        readings = self.reader.read(request.query, passages, answers)
        found = [Found(hit, rank, hit.chunk.start + span.start, hit.chunk.start + span.end, span.score,
                       span.score - reading.null)
                 for rank, (hit, reading) in enumerate(zip(hits, readings)) for span in reading.spans]
        if not found:
            return None
        found.sort(key=lambda f: (-f.margin, f.rank))
        if self.embedder is not None:
            found[0] = row_answer(request.query, found[0], found, texts, self.embedder.embed_cached)
        best = found[0]
        phrases = [t[h.chunk.start + r.spans[0].start:h.chunk.start + r.spans[0].end] if r.spans else None
                   for t, h, r in zip(texts, hits, readings)]
        phrases[best.rank] = texts[best.rank][best.start:best.end]  # a table's cell may be another than the reader's
        lead = quote(best, texts[best.rank])
        sentence = texts[best.rank][lead.sentence:lead.end]
        cosine = self._cosine(request.query, sentence)
        passage = f"{best.hit.chunk.title}\n{passages[best.rank]}"
        return Draft(found, readings, phrases[best.rank],
                     features(found, readings, hits, phrases, request.query, sentence, passage, cosine))

    def _cosine(self, question: str, sentence: str) -> float:
        if self.embedder is None:
            return 0.0
        q, s = self.embedder.embed_cached([question, sentence])
        return float(q @ s)


@dataclass
class Draft:
    """An answer not yet given: the spans found (best first), each passage's reading, the short answer, and the
    answerability features."""

    found: list[Found]
    readings: list[Reading]
    short: str
    features: np.ndarray


def make(settings, embedder: Embedder, options=None) -> ExtractiveAnswerer:
    reader = Reader(settings.answer.reader) if settings.answer.reader else None
    return ExtractiveAnswerer(embedder, settings.answer, reader=reader)
