"""The default answerer: picks the retrieved sentences that best answer the question, no LLM.

Each candidate sentence scores 0.7 x cosine(question, sentence) + 0.3 x the idf-weighted share of
the question's terms it contains (+ a small bonus for naming people in a "who" question). The answer
is the best sentence plus those within `relative_cutoff` of it; near-duplicates from other passages
are cited together; a "who" list looks again for others who did the same in other words. Below
`min_score` the answerer abstains. Step by step: docs/answering.md.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.answer import NOT_FOUND, Citation
from assistant.answer_types import expected_type, focus_word, has_type
from assistant.names import is_title, people
from assistant.sentences import sentence_spans
from assistant.settings import AnswerSettings
from assistant.terms import WORDS, stem, term_overlap, terms
from vectorstore.embedder import Embedder
from vectorstore.records import Hit

SEMANTIC_WEIGHT, LEXICAL_WEIGHT = 0.7, 0.3
NAME_BONUS = 0.06  # "who" questions lead with the sentence that names the people
SUBJECT_WORDS = 14  # ...as its subject: a name this early in the sentence, not a passing mention
WHO_CUTOFF = 0.6  # "who" answers may list several people, some less similar to the question
ACT_SIMILARITY = 0.6  # ...or say in other words what the first one did (cosine to the act's clause)
ACT_LEAD, ACT_TAIL = 4, 12  # that clause: words before the act (the doer) and from it on (what was done)
MIN_WORDS, MAX_CHARS = 4, 600  # shorter is furniture or a heading; longer is no longer a sentence
CLAUSE_MIN_WORDS = 20  # a long sentence is also scored clause by clause: its point may be one clause
KIND_WORDS = {None: "answer", "number": "number", "date": "date or time", "name": "name next to the question's words"}
Search = Callable[[str, np.ndarray], Sequence[Hit]]  # (text, its embedding) -> passages like it
# "Who ...?" opens a question; inside one only a lower-case "who" asks ("the man who..."): "Doctor Who" is a title.
_WHO = re.compile(r"^\s*(?i:who|whom|whose)\b|\bwho\b")
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
    score: float = 0.0
    lexical: float = 0.0  # idf-weighted share of the question's terms in the sentence
    grounding: float = 0.0  # ...in the sentence with its context
    people: frozenset = frozenset()
    embedding: np.ndarray | None = None
    also: list = field(default_factory=list)  # duplicates from other passages, cited together


@dataclass(frozen=True)
class Draft:
    """An answer before timing and packaging."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    reason: str = ""  # why it abstained, for the user who wonders
    searched: tuple[str, ...] = ()  # what a second look searched for, when it found part of the answer


def abstain(reason: str) -> Draft:
    """The "not found" answer, saying why."""
    return Draft(NOT_FOUND, (), True, reason)


class ExtractiveAnswerer:
    """Composes a short answer from whole retrieved sentences, each followed by its [n]."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings,
                 unknown_terms: Callable[[Iterable[str]], set[str]] = lambda stems: set()):
        self.embedder = embedder
        self.settings = settings
        self.unknown_terms = unknown_terms  # which stemmed words no indexed document uses

    def answer(self, query: str, query_embedding: np.ndarray, hits: Sequence[Hit],
               document_text, search: Search | None = None) -> Draft:
        """Answer `query` from `hits`; document_text(source) gives a document's cleaned text and
        search(text, embedding) retrieves more passages like a sentence of the answer."""
        candidates = self._candidates(hits, document_text)
        if not candidates:
            return abstain("the retrieved passages hold no whole sentence")
        is_who = bool(_WHO.search(query))
        self._score(query, query_embedding, candidates, is_who)
        best_match = max(c.score for c in candidates)
        kind = expected_type(query)
        # A sentence without the kind of answer asked for (no number for "how many") cannot answer.
        typed = [c for c in candidates if has_type(c.sentence, kind, query)]
        reason = self._weak_evidence(typed, best_match, kind, is_who, focus_word(query))
        if reason:
            return abstain(reason)
        act = who_act(query) if is_who else None
        chosen = self._select(typed, best_match, is_who, act)
        if act and search and act in terms(chosen[0].sentence):
            more, searched = self._more_who_did(query, query_embedding, chosen, act, search, document_text)
            if more:
                return replace(compose(chosen + more), searched=searched)
        return compose(chosen)

    def _candidates(self, hits: Sequence[Hit], document_text) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        out = []
        for hit in hits:
            text = document_text(hit.chunk.source)
            for a, b, before in sentence_spans(text, hit.chunk.start, hit.chunk.end):
                sentence = text[a:b]
                if (hit.chunk.source, a) in seen or len(sentence.split()) < MIN_WORDS or len(sentence) > MAX_CHARS:
                    continue
                seen.add((hit.chunk.source, a))
                start, end = min(a, hit.chunk.start), max(b, hit.chunk.end)
                context = f"{hit.chunk.title}\n{text[before:a]}"
                out.append(Candidate(hit, text[start:end], start, end, sentence, context))
        return out

    def _score(self, query: str, query_embedding: np.ndarray, candidates: list[Candidate], is_who: bool,
               known_surnames: frozenset = frozenset()) -> None:
        sentences = [c.sentence for c in candidates]
        clauses = [(i, part) for i, text in enumerate(sentences) for part in _clauses(text)]
        vectors = self.embedder.embed_cached(sentences + [part for _, part in clauses])
        similarity = vectors @ np.asarray(query_embedding, dtype=np.float32)
        semantic = similarity[:len(sentences)].copy()
        for (i, _), sim in zip(clauses, similarity[len(sentences):]):
            semantic[i] = max(semantic[i], sim)
        lexical = term_overlap(query, sentences)
        grounding = term_overlap(query, [f"{c.context}\n{c.sentence}" for c in candidates])
        surnames = set(known_surnames).union(*(people(t) for t in sentences))
        asked_about = people(query, surnames)
        for c, sem, lex, grounded, vec in zip(candidates, semantic, lexical, grounding, vectors):
            c.embedding = vec
            c.grounding = grounded
            c.people = frozenset(people(c.sentence, surnames) - asked_about)
            c.lexical = lex
            c.score = SEMANTIC_WEIGHT * float(sem) + LEXICAL_WEIGHT * lex
            if is_who and names_subject(c):
                c.score += NAME_BONUS

    def _cutoff(self, best_match: float, is_who: bool) -> float:
        s = self.settings
        return best_match * (min(WHO_CUTOFF, s.relative_cutoff) if is_who else s.relative_cutoff)

    def _weak_evidence(self, typed: list[Candidate], best_match: float, kind: str | None, is_who: bool,
                       focus: str | None) -> str:
        """Why the evidence cannot carry an answer ("" when it can); see docs/answering.md."""
        s = self.settings
        if not typed:
            return f"no retrieved sentence holds the kind of answer asked for ({KIND_WORDS[kind]})"
        lead = max(typed, key=lambda c: c.score)
        if lead.score < s.min_score:
            return f"the closest sentence scores {lead.score:.2f}, below answer.min_score ({s.min_score:.2f})"
        # The cutoff is relative to the best-matching sentence of any kind: when the sentences that
        # match best lack the kind of answer asked for, the documents touch the subject without
        # saying the answer, and a weaker sentence that happens to hold a name is not it.
        if lead.score < self._cutoff(best_match, is_who):
            return (f"the sentences closest to the question hold no {KIND_WORDS[kind]}; the best one that does "
                    f"scores {lead.score:.2f} against {best_match:.2f}")
        # A question about something the documents never name ("Which sanctions...?" when no document
        # says "sanction") is answered only by a sentence that shares much else with it. The overlap
        # counts the sentence's context: "It is bordered by Saudi Arabia" answers where Yemen is.
        if focus and self.unknown_terms([stem(focus)]) and lead.grounding < s.min_overlap:
            return (f"no document mentions '{focus}', and the closest sentence and its context share "
                    f"{lead.grounding:.0%} of the question's content words, below answer.min_overlap "
                    f"({s.min_overlap:.0%})")
        return ""

    def _select(self, typed: list[Candidate], best_match: float, is_who: bool,
                act: str | None = None) -> list[Candidate]:
        """The answer's sentences: the best, those near it, duplicates from other sources cited together."""
        s = self.settings
        ranked = sorted(typed, key=lambda c: -c.score)
        chosen: list[Candidate] = []
        named: set[str] = set()
        lead_acts = False  # the first sentence says the act asked about: the others must say it too
        cutoff = self._cutoff(best_match, is_who)
        for c in ranked:
            if c.score < cutoff:
                break
            twin = next((k for k in chosen if k.sentence == c.sentence or
                         float(k.embedding @ c.embedding) >= s.duplicate_similarity), None)
            if twin is not None:
                if c.hit.chunk.source != twin.hit.chunk.source and len(twin.also) < 2:
                    twin.also.append(c)
                continue
            if len(chosen) == s.max_sentences + is_who:  # one more for a list of people
                continue  # keep scanning: a later sentence may still be a duplicate to cite together
            if is_who and chosen and (not c.people or c.people <= named):
                continue  # past the first, a "who" answer adds sentences only to name more people
            if lead_acts and act not in terms(c.sentence):
                continue  # ...who did what the first one did: "Who denied...?" lists those who denied
            if not chosen:
                lead_acts = bool(act) and act in terms(c.sentence)
            chosen.append(c)
            named |= c.people
        return chosen

    def _more_who_did(self, query: str, query_embedding: np.ndarray, chosen: list[Candidate], act: str,
                      search: Search, document_text) -> tuple[list[Candidate], tuple[str, ...]]:
        """Others who did the act, said in other words: "Putin has also been adamant in dismissing the
        allegations" answers "Who denied involvement?" without its word and is far from the question,
        but close to "Sergey Lavrov has denied Russia's involvement". So: search again with the clause
        around the act in each answer sentence, and keep new sentences that name people and read
        like one of those clauses (the whole sentence would match its topic, not its act)."""
        room = self.settings.max_sentences + 1 - len(chosen)
        # Only where a person did it: "Sergey Lavrov has denied", not "the North won" (sides, teams, years);
        # and only for a list: when the first look found two who did it ("Who scored the first points?"
        # has one answer, and more sentences about scoring would only be noise).
        surnames = known_surnames(chosen)
        clauses = [clause for clause, doer in (act_clause(c.sentence, act) for c in chosen if act in terms(c.sentence))
                   if people(doer, surnames)]
        if room <= 0 or len(clauses) < 2:
            return [], ()
        vectors = self.embedder.embed_cached(clauses)
        seen = {(c.hit.chunk.source, c.sentence) for c in chosen}
        found: list[Candidate] = []
        for clause, vector in zip(clauses, vectors):
            for c in self._candidates(search(clause, vector), document_text):
                if (c.hit.chunk.source, c.sentence) not in seen and not is_title(c.sentence):
                    seen.add((c.hit.chunk.source, c.sentence))
                    found.append(c)
        # Only a sentence that names someone can join the list: embed no others (a cold cache pays per sentence).
        known = surnames | frozenset().union(*(people(c.sentence) for c in found))
        found = [c for c in found if people(c.sentence, known)]
        if not found:
            return [], ()
        self._score(query, query_embedding, found, True, known)
        similar = {id(c): float(np.max(vectors @ c.embedding)) for c in found}
        kept: list[Candidate] = []
        for c in sorted(found, key=lambda c: -similar[id(c)]):
            if similar[id(c)] < ACT_SIMILARITY or len(kept) == room:
                break
            duplicate = any(float(c.embedding @ k.embedding) >= self.settings.duplicate_similarity
                            for k in chosen + kept)
            if names_subject(c) and not duplicate:
                kept.append(c)
        return kept, tuple(clauses)


def act_clause(sentence: str, act: str) -> tuple[str, str]:
    """The words around the act in sentence, and those of them before it: who did it."""
    words = list(WORDS.finditer(sentence))
    at = next(i for i, w in enumerate(words) if stem(w.group()) == act)
    first, last = words[max(0, at - ACT_LEAD)], words[min(len(words), at + ACT_TAIL) - 1]
    return sentence[first.start():last.end()], sentence[first.start():words[at].start()]


def known_surnames(candidates: Iterable[Candidate]) -> frozenset[str]:
    return frozenset().union(*(c.people for c in candidates))


def names_subject(c: Candidate) -> bool:
    """Does the sentence name a person early, as its subject, not in passing?"""
    return any(p in " ".join(c.sentence.split()[:SUBJECT_WORDS]) for p in c.people)


def who_act(question: str) -> str | None:
    """The stemmed word saying what a "who" question asks about: "Who denied involvement?" -> "deni"."""
    match = _WHO.search(question)
    following = terms(question[match.end():]) if match else []
    return following[0] if following else None


def _clauses(sentence: str) -> list[str]:
    if len(sentence.split()) < CLAUSE_MIN_WORDS:
        return []
    parts = [p for p in _CLAUSE.split(sentence) if len(p.split()) >= MIN_WORDS]
    return parts if len(parts) > 1 else []


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
