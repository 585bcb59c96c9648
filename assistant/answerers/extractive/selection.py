"""Which sentences answer, or why none can: the answer-type checks, the selection, the composed text."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from assistant.answer import Citation
from assistant.answerers.base import AnswerResult
from assistant.answerers.extractive.candidates import Candidate
from assistant.answerers.extractive.question import KIND_WORDS, Question
from assistant.settings import AnswerSettings
from assistant.text.terms import stem, terms

WHO_CUTOFF = 0.6  # "who" answers may list several people, some less similar to the question


def cutoff(settings: AnswerSettings, best_match: float, is_who: bool) -> float:
    """The score a sentence needs to join the answer, relative to the best-matching sentence."""
    return best_match * (min(WHO_CUTOFF, settings.relative_cutoff) if is_who else settings.relative_cutoff)


def missing_answer(settings: AnswerSettings, question: Question, typed: list[Candidate], best_match: float,
                   unknown_terms: Callable[[Iterable[str]], set[str]]) -> str:
    """Why the sentences found cannot hold the answer ("" when they may); see docs/answering.md.

    These checks look at what kind of answer the sentences hold, not at how well they score: whether
    a sentence scoring well is likely right is the answerability model's call.
    """
    if not typed:
        return f"no retrieved sentence holds the kind of answer asked for ({KIND_WORDS[question.kind]})"
    lead = max(typed, key=lambda c: c.score)
    # The cutoff is relative to the best-matching sentence of any kind: when the sentences that
    # match best lack the kind of answer asked for, the documents touch the subject without
    # saying the answer, and a weaker sentence that happens to hold a name is not it.
    if lead.score < cutoff(settings, best_match, question.is_who):
        return (f"the sentences closest to the question hold no {KIND_WORDS[question.kind]}; the best one that "
                f"does scores {lead.score:.2f} against {best_match:.2f}")
    # A question about something the documents never name ("Which sanctions...?" when no document
    # says "sanction") is answered only by a sentence that shares much else with it. The overlap
    # counts the sentence's context: "It is bordered by Saudi Arabia" answers where Yemen is.
    focus = question.focus
    if focus and unknown_terms([stem(focus)]) and lead.grounding < settings.min_overlap:
        return (f"no document mentions '{focus}', and the closest sentence and its context share "
                f"{lead.grounding:.0%} of the question's content words, below answer.min_overlap "
                f"({settings.min_overlap:.0%})")
    return ""


def select(settings: AnswerSettings, question: Question, typed: list[Candidate], best_match: float) -> list[Candidate]:
    """The answer's sentences: the best (always), those near it, duplicates from other sources cited together."""
    s, is_who, act = settings, question.is_who, question.act
    ranked = sorted(typed, key=lambda c: -c.score)
    chosen: list[Candidate] = []
    named: set[str] = set()
    lead_acts = False  # the first sentence says the act asked about: the others must say it too
    floor = cutoff(s, best_match, is_who)
    for c in ranked:
        if chosen and c.score < floor:
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


def compose(chosen: Sequence[Candidate], details: tuple[str, ...] = ()) -> tuple[list[str], AnswerResult]:
    """The answer's pieces (each sentence with its [n] marks, numbered 1..N in order) and its result."""
    citations: list[Citation] = []
    pieces = []
    # A chosen sentence already quoted as another's lead-in is not quoted twice.
    quoted = [id(k) for k in chosen for c in chosen
              if k is not c and k.hit.chunk.source == c.hit.chunk.source and k.shown in c.shown]
    for c in (c for c in chosen if id(c) not in quoted):
        marks = ""
        for member in (c, *c.also):
            n = len(citations) + 1
            chunk = member.hit.chunk
            citations.append(Citation(n=n, source=chunk.source, title=chunk.title, text=member.passage,
                                      sentence=member.shown, start=member.start, end=member.end,
                                      score=round(member.score, 4), chunk_id=chunk.id))
            marks += f"[{n}]"
        # A lead-in carries the marks too: every sentence shown names its passage.
        lead_in = c.shown[:len(c.shown) - len(c.sentence)].rstrip()
        said = f"{lead_in} {marks} {c.sentence} {marks}" if lead_in else f"{c.sentence} {marks}"
        pieces.append(("" if not pieces else " ") + said)
    return pieces, AnswerResult("".join(pieces), tuple(citations), details=details)
