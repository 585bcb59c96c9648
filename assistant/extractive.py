"""The default answerer: picks the retrieved sentences that best answer the question, no LLM.

Each candidate sentence scores 0.7 x cosine(question, sentence) + 0.3 x the idf-weighted share of
the question's terms it contains (+ a small bonus for naming people in a "who" question). The answer
is the best sentence plus those within `relative_cutoff` of it; near-duplicates from other passages
are cited together. Below `min_score` the answerer abstains.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.answer import NOT_FOUND, Citation
from assistant.names import proper_names
from assistant.sentences import sentence_spans
from assistant.settings import AnswerSettings
from vectorstore.embedder import Embedder
from vectorstore.lexical import tokenize
from vectorstore.records import Hit

SEMANTIC_WEIGHT, LEXICAL_WEIGHT = 0.7, 0.3
NAME_BONUS = 0.06  # "who" questions lead with the sentence that names the people
MIN_WORDS, MAX_CHARS = 4, 600  # shorter is furniture or a heading; longer is no longer a sentence
_WHO = re.compile(r"^\s*(who|whom|whose)\b|\bwho\b", re.IGNORECASE)


@dataclass
class Candidate:
    """A whole sentence inside one retrieved passage."""

    hit: Hit
    passage: str  # document_text[start:end], extended to hold the whole sentence
    start: int
    end: int
    sentence: str
    score: float = 0.0
    names: frozenset = frozenset()
    embedding: np.ndarray | None = None
    also: list = field(default_factory=list)  # duplicates from other passages, cited together


@dataclass(frozen=True)
class Draft:
    """An answer before timing and packaging."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool


class ExtractiveAnswerer:
    """Composes a short answer from whole retrieved sentences, each followed by its [n]."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings):
        self.embedder = embedder
        self.settings = settings

    def answer(self, query: str, query_embedding: np.ndarray, hits: Sequence[Hit],
               document_text) -> Draft:
        """Answer `query` from `hits`; document_text(source) gives a document's cleaned text."""
        candidates = self._candidates(hits, document_text)
        if not candidates:
            return Draft(NOT_FOUND, (), True)
        self._score(query, query_embedding, candidates)
        chosen = self._select(candidates, is_who=bool(_WHO.search(query)))
        if not chosen:
            return Draft(NOT_FOUND, (), True)
        return compose(chosen)

    def _candidates(self, hits: Sequence[Hit], document_text) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        out = []
        for hit in hits:
            text = document_text(hit.chunk.source)
            for a, b in sentence_spans(text, hit.chunk.start, hit.chunk.end):
                sentence = text[a:b]
                if (hit.chunk.source, a) in seen or len(sentence.split()) < MIN_WORDS or len(sentence) > MAX_CHARS:
                    continue
                seen.add((hit.chunk.source, a))
                start, end = min(a, hit.chunk.start), max(b, hit.chunk.end)
                out.append(Candidate(hit, text[start:end], start, end, sentence))
        return out

    def _score(self, query: str, query_embedding: np.ndarray, candidates: list[Candidate]) -> None:
        vectors = self.embedder.embed([c.sentence for c in candidates])
        semantic = vectors @ np.asarray(query_embedding, dtype=np.float32)
        lexical = term_overlap(query, [c.sentence for c in candidates])
        question_names = {n.lower() for n in proper_names(query)}
        for c, sem, lex, vec in zip(candidates, semantic, lexical, vectors):
            c.embedding = vec
            c.names = frozenset(n for n in proper_names(c.sentence) if n.lower() not in question_names)
            c.score = SEMANTIC_WEIGHT * float(sem) + LEXICAL_WEIGHT * lex

    def _select(self, candidates: list[Candidate], is_who: bool) -> list[Candidate]:
        s = self.settings
        if is_who:
            for c in candidates:
                c.score += NAME_BONUS if c.names else 0.0
        ranked = sorted(candidates, key=lambda c: -c.score)
        best = ranked[0].score
        if best < s.min_score:
            return []
        chosen: list[Candidate] = []
        named: set[str] = set()
        for c in ranked:
            if c.score < best * s.relative_cutoff:
                break
            twin = next((k for k in chosen if k.sentence == c.sentence or
                         float(k.embedding @ c.embedding) >= s.duplicate_similarity), None)
            if twin is not None:
                if c.hit.chunk.source != twin.hit.chunk.source and len(twin.also) < 2:
                    twin.also.append(c)
                continue
            if len(chosen) == s.max_sentences:
                continue  # keep scanning: a later sentence may still be a duplicate to cite together
            if is_who and chosen and c.names and c.names <= named:
                continue  # a "who" answer should name more people, not repeat the same ones
            chosen.append(c)
            named |= c.names
        return chosen


def term_overlap(query: str, sentences: Sequence[str]) -> list[float]:
    """Share of the query's (stemmed, non-stop) terms in each sentence, weighted by idf over the sentences."""
    tokens = tokenize([query, *sentences])
    terms = set(tokens[0])
    if not terms:
        return [0.0] * len(sentences)
    bags = [set(t) for t in tokens[1:]]
    n = len(bags)
    idf = {t: math.log(1 + n / (1 + sum(t in b for b in bags))) for t in terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms & b) / total for b in bags]


def compose(chosen: Sequence[Candidate]) -> Draft:
    """Text with [n] after each sentence, numbered 1..N in order of appearance."""
    citations: list[Citation] = []
    parts = []
    for c in chosen:
        marks = ""
        for member in (c, *c.also):
            n = len(citations) + 1
            chunk = member.hit.chunk
            citations.append(Citation(n=n, source=chunk.source, title=chunk.title, text=member.passage,
                                      sentence=member.sentence, start=member.start, end=member.end,
                                      score=round(member.score, 4), chunk_id=chunk.id))
            marks += f"[{n}]"
        parts.append(f"{c.sentence} {marks}")
    return Draft(" ".join(parts), tuple(citations), False)
