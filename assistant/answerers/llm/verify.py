"""Verification: does the passage a generated sentence cites say what the sentence claims?

A claim is supported by a cited passage when
- some sentence of the passage is close to it: cosine(claim, sentence) >= `min_support`, and
- every checkable fact of the claim (names, numbers, months and weekdays) occurs in the passages
  that support it, or in the question it answers.
A claim with no usable mark (none, or only numbers past the last passage) is checked against every
passage and cited with those that support it. Docs: docs/answering.md, "Verification".
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answerers.llm.claims import Claim
from assistant.text.names import name_spans
from assistant.text.sentences import sentence_spans
from assistant.text.terms import WORDS, is_stop_word, stem
from assistant.text.words import MONTHS, WEEKDAYS
from vectorstore.records import Hit

MAX_SUPPORT = 2  # passages cited for one claim at most: the best, and another only if it is as close
SUPPORT_MARGIN = 0.05  # ...within this much of the best
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_SPELLED = {w: str(i) for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                             "nine", "ten", "eleven", "twelve"))}
_CALENDAR = re.compile(r"\b(" + "|".join(MONTHS + WEEKDAYS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """Passage `n` as the model saw it: a retrieved hit inside its document's text."""

    n: int
    hit: Hit
    document: str  # the whole cleaned text the hit's offsets point into

    @property
    def text(self) -> str:
        return self.document[self.hit.chunk.start:self.hit.chunk.end]


@dataclass(frozen=True)
class Support:
    """The sentence of a passage that best supports a claim, at `similarity`."""

    passage: Passage
    start: int  # the sentence's offsets in passage.document
    end: int
    similarity: float


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    support: tuple[Support, ...]  # empty when unsupported
    reason: str = ""  # why it is unsupported

    @property
    def supported(self) -> bool:
        return bool(self.support)


class Verifier:
    """Checks claims against numbered passages with sentence embeddings (`embed(texts)` -> unit rows)."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], min_support: float):
        self.embed = embed
        self.min_support = min_support

    def verify(self, claim: Claim, passages: Sequence[Passage], question: str = "") -> Verdict:
        cited = [p for p in passages if p.n in claim.marks]
        pool = cited or list(passages)
        if not pool:
            return Verdict(claim, (), "there were no passages to cite")
        best = self._best_sentences(claim.text, pool)
        close = sorted((s for s in best if s.similarity >= self.min_support), key=lambda s: -s.similarity)
        if not close:
            top = max(best, key=lambda s: s.similarity)
            where = (f"the cited passage {_numbers(cited)}" if cited
                     else "no passage (it cited none)" if not claim.marks
                     else f"no passage (it cited {_numbers_of(claim.marks)}, past the last one)")
            return Verdict(claim, (), f"{where} says this: its closest sentence is at {top.similarity:.2f}, "
                                      f"below llm.min_support ({self.min_support:.2f})")
        close = [s for s in close[:MAX_SUPPORT] if s.similarity >= close[0].similarity - SUPPORT_MARGIN]
        evidence = " ".join(s.passage.text for s in close) + " " + question
        missing = missing_facts(claim.text, evidence)
        if missing:
            shown = ", ".join(f"'{m}'" for m in missing)
            return Verdict(claim, (), f"{_numbers([s.passage for s in close])} does not mention {shown}")
        return Verdict(claim, tuple(close))

    def _best_sentences(self, claim: str, pool: Sequence[Passage]) -> list[Support]:
        spans = [(p, a, b) for p in pool
                 for a, b, _ in sentence_spans(p.document, p.hit.chunk.start, p.hit.chunk.end)]
        vectors = self.embed([claim] + [p.document[a:b] for p, a, b in spans])
        similarity = vectors[1:] @ vectors[0]
        best: dict[int, Support] = {}
        for (p, a, b), sim in zip(spans, similarity):
            if p.n not in best or sim > best[p.n].similarity:
                best[p.n] = Support(p, a, b, float(sim))
        return list(best.values())


def missing_facts(claim: str, evidence: str) -> list[str]:
    """The claim's names, numbers, months and weekdays that the evidence does not contain."""
    stems = {stem(w.group()) for w in WORDS.finditer(evidence)}
    numbers = {_number(m.group()) for m in _DIGITS.finditer(evidence)}
    numbers |= {_SPELLED[w.group().lower()] for w in WORDS.finditer(evidence) if w.group().lower() in _SPELLED}
    missing = []
    for name, _, _ in name_spans(claim):
        words = [w.group() for w in WORDS.finditer(name) if not w.group().isdigit() and not is_stop_word(w.group())]
        if any(stem(word) not in stems for word in words):
            missing.append(name)
    for m in _DIGITS.finditer(claim):
        if _number(m.group()) not in numbers:
            missing.append(m.group())
    for w in WORDS.finditer(claim):
        word = w.group().lower()
        if word in _SPELLED and _SPELLED[word] not in numbers and word not in ("one", "zero"):
            missing.append(w.group())
    for m in _CALENDAR.finditer(claim):
        if stem(m.group()) not in stems and m.group() not in missing:
            missing.append(m.group())
    return list(dict.fromkeys(missing))


def _number(text: str) -> str:
    """'1,000' and '1000' are one number; so are '3.50' and '3.5'."""
    digits = text.replace(",", "")
    return digits.rstrip("0").rstrip(".") if "." in digits else digits


def _numbers(passages: Sequence[Passage]) -> str:
    return _numbers_of([p.n for p in passages])


def _numbers_of(ns: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in ns)
