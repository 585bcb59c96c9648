"""The who-list's second look: others who did the act asked about, said in other words."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from assistant.answerers.extractive.candidates import Candidate, collect, names_subject, score
from assistant.answerers.extractive.question import Question
from assistant.text.names import is_title, people
from assistant.text.terms import WORDS, stem, terms
from vectorstore.embedder import Embedder
from vectorstore.records import Hit

ACT_SIMILARITY = 0.6  # a sentence saying in other words what the first ones did (cosine to the act's clause)
ACT_LEAD, ACT_TAIL = 4, 12  # that clause: words before the act (the doer) and from it on (what was done)


def more_who_did(embedder: Embedder, question: Question, query_embedding: np.ndarray, chosen: list[Candidate],
                 room: int, duplicate_similarity: float, search: Callable[[str], Sequence[Hit]],
                 document_text: Callable[[str], str]) -> tuple[list[Candidate], tuple[str, ...]]:
    """Others who did the act, said in other words, and the clauses searched for.

    "Putin has also been adamant in dismissing the allegations" answers "Who denied involvement?"
    without its word and is far from the question, but close to "Sergey Lavrov has denied Russia's
    involvement". So: search again with the clause around the act in each answer sentence, and keep
    new sentences that name people and read like one of those clauses (the whole sentence would
    match its topic, not its act). At most `room` sentences are added.
    """
    act = question.act
    # Only where a person did it: "Sergey Lavrov has denied", not "the North won" (sides, teams, years);
    # and only for a list: when the first look found two who did it ("Who scored the first points?"
    # has one answer, and more sentences about scoring would only be noise).
    surnames = known_surnames(chosen)
    clauses = [clause for clause, doer in (act_clause(c.sentence, act) for c in chosen if act in terms(c.sentence))
               if people(doer, surnames)]
    if room <= 0 or len(clauses) < 2:
        return [], ()
    vectors = embedder.embed_cached(clauses)
    seen = {(c.hit.chunk.source, c.sentence) for c in chosen}
    found: list[Candidate] = []
    for clause in clauses:
        for c in collect(search(clause), document_text):
            if (c.hit.chunk.source, c.sentence) not in seen and not is_title(c.sentence):
                seen.add((c.hit.chunk.source, c.sentence))
                found.append(c)
    # Only a sentence that names someone can join the list: embed no others (a cold cache pays per sentence).
    known = surnames | frozenset().union(*(people(c.sentence) for c in found))
    found = [c for c in found if people(c.sentence, known)]
    if not found:
        return [], ()
    score(embedder, question, query_embedding, found, known)
    similar = {id(c): float(np.max(vectors @ c.embedding)) for c in found}
    kept: list[Candidate] = []
    for c in sorted(found, key=lambda c: -similar[id(c)]):
        if similar[id(c)] < ACT_SIMILARITY or len(kept) == room:
            break
        duplicate = any(float(c.embedding @ k.embedding) >= duplicate_similarity for k in chosen + kept)
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
