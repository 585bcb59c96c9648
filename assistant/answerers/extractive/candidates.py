"""Candidate sentences and their scores: 0.7 x cosine(question, sentence) + 0.3 x the idf-weighted
share of the question's terms in the sentence (+ a small bonus for naming people in a "who" question)."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.answerers.extractive.question import Question
from assistant.text.names import people
from assistant.text.sentences import leans_on_previous, sentence_spans
from assistant.text.terms import term_overlap
from vectorstore.embedder import Embedder
from vectorstore.records import Hit

SEMANTIC_WEIGHT, LEXICAL_WEIGHT = 0.7, 0.3
NAME_BONUS = 0.06  # "who" questions lead with the sentence that names the people
SUBJECT_WORDS = 14  # ...as its subject: a name this early in the sentence, not a passing mention
MIN_WORDS, MAX_CHARS = 4, 600  # shorter is furniture or a heading; longer is no longer a sentence
CLAUSE_MIN_WORDS = 20  # a long sentence is also scored clause by clause: its point may be one clause
_CLAUSE = re.compile(r",\s+(?=(?:but|and|while|although|though|which|who)\b)|;\s+|\s+--?\s+|:\s+")


@dataclass
class Candidate:
    """A whole sentence inside one retrieved passage."""

    hit: Hit
    passage: str  # document_text[start:end], extended to hold the whole sentence
    start: int
    end: int
    sentence: str
    context: str = ""  # the document title and the sentence before: who "he" is, what "it" is
    shown: str = ""  # what the answer quotes: the sentence, after the one before when it leans on it
    score: float = 0.0
    cosine: float = 0.0  # to the question: the sentence's, or its best clause's
    lexical: float = 0.0  # idf-weighted share of the question's terms in the sentence
    grounding: float = 0.0  # ...in the sentence with its context
    people: frozenset = frozenset()
    embedding: np.ndarray | None = None
    also: list = field(default_factory=list)  # duplicates from other passages, cited together


def collect(hits: Sequence[Hit], document_text: Callable[[str], str]) -> list[Candidate]:
    """Every whole sentence of the retrieved passages, once, widened passage and context included."""
    seen: set[tuple[str, int]] = set()
    out = []
    for hit in hits:
        text = document_text(hit.chunk.source)
        for a, b, before in sentence_spans(text, hit.chunk.start, hit.chunk.end):
            sentence = text[a:b]
            if (hit.chunk.source, a) in seen or len(sentence.split()) < MIN_WORDS or len(sentence) > MAX_CHARS:
                continue
            seen.add((hit.chunk.source, a))
            # A sentence that leans on the one before ("It appoints...") is quoted with it, in one citation.
            shown_from = before if before < a and leans_on_previous(sentence) else a
            start, end = min(shown_from, hit.chunk.start), max(b, hit.chunk.end)
            context = f"{hit.chunk.title}\n{text[before:a]}"
            out.append(Candidate(hit, text[start:end], start, end, sentence, context, text[shown_from:b]))
    return out


def score(embedder: Embedder, question: Question, query_embedding: np.ndarray, candidates: list[Candidate],
          known_surnames: Iterable[str] = ()) -> None:
    """Set each candidate's score, overlaps, people and embedding."""
    sentences = [c.sentence for c in candidates]
    clauses = [(i, part) for i, text in enumerate(sentences) for part in clauses_of(text)]
    vectors = embedder.embed_cached(sentences + [part for _, part in clauses])
    similarity = vectors @ np.asarray(query_embedding, dtype=np.float32)
    semantic = similarity[:len(sentences)].copy()
    for (i, _), sim in zip(clauses, similarity[len(sentences):]):
        semantic[i] = max(semantic[i], sim)
    lexical = term_overlap(question.text, sentences)
    grounding = term_overlap(question.text, [f"{c.context}\n{c.sentence}" for c in candidates])
    surnames = set(known_surnames).union(*(people(t) for t in sentences))
    asked_about = people(question.text, surnames)
    for c, sem, lex, grounded, vec in zip(candidates, semantic, lexical, grounding, vectors):
        c.embedding = vec
        c.cosine = float(sem)
        c.grounding = grounded
        c.people = frozenset(people(c.sentence, surnames) - asked_about)
        c.lexical = lex
        c.score = SEMANTIC_WEIGHT * float(sem) + LEXICAL_WEIGHT * lex
        if question.is_who and names_subject(c):
            c.score += NAME_BONUS


def names_subject(c: Candidate) -> bool:
    """Does the sentence name a person early, as its subject, not in passing?"""
    return any(p in " ".join(c.sentence.split()[:SUBJECT_WORDS]) for p in c.people)


def clauses_of(sentence: str) -> list[str]:
    """A long sentence's clauses (none for a short one)."""
    if len(sentence.split()) < CLAUSE_MIN_WORDS:
        return []
    parts = [p for p in _CLAUSE.split(sentence) if len(p.split()) >= MIN_WORDS]
    return parts if len(parts) > 1 else []
