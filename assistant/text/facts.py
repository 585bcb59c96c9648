"""The checkable facts in a text: numbers, dates and names.

The extractive answerer asks whether a sentence holds the kind of answer a question wants (a number
for "how many"); the LLM answerer's verification asks whether every number, date and name of a
generated sentence occurs in the passage it cites. Both read them here.
"""
from __future__ import annotations

import re
from bisect import bisect_left

from assistant.text.names import name_spans
from assistant.text.terms import WORDS, stem, terms
from assistant.text.words import MONTHS, NOT_PERSON, NUMBER_WORDS, TIME_WORDS, WEEKDAYS

# A name answers a "who/name of" question only next to what the question asks about ("campaign
# chairman John Podesta", "Lavrov has denied"): a name elsewhere in the sentence is a passing mention.
NAME_WINDOW = 8  # words between the name and the nearest question term
# A number or date answers "how many/when" only near what was asked, too ("one concession" 30 words
# from "win" does not say how many votes were won); looser, since "In 1912, after years of ..., the
# league was founded" puts the date at the head of its clause.
FACT_WINDOW = 15

NUMBER = re.compile(r"\d[\d,.]*\d|\d|\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
DATE = re.compile(r"\b(1[89]\d\d|20\d\d|" + "|".join(MONTHS + WEEKDAYS + TIME_WORDS) + r")\b", re.IGNORECASE)


def has_type(sentence: str, kind: str | None, question: str) -> bool:
    """Does sentence hold an answer of this kind ('number', 'date', 'name', None: any) that the question
    does not already contain, next to what the question asks about?"""
    if kind is None:
        return True
    if kind in ("number", "date"):
        pattern = NUMBER if kind == "number" else DATE
        asked = {m.group().lower() for m in pattern.finditer(question)}
        spans = [(m.start(), m.end()) for m in pattern.finditer(sentence) if m.group().lower() not in asked]
        return bool(_near_terms(sentence, spans, question, FACT_WINDOW))
    return bool(names_near_terms(sentence, question))


def names_near_terms(sentence: str, question: str, window: int = NAME_WINDOW) -> list[str]:
    """Names in sentence that the question does not contain, within `window` words of a question term."""
    asked = question.lower()
    names = [(name, start, end) for name, start, end in name_spans(sentence)
             if name.lower() not in asked and not (" " not in name and name.lower() in NOT_PERSON)]
    near = _near_terms(sentence, [(start, end) for _, start, end in names], question, window)
    return [name for (name, start, end) in names if (start, end) in near]


def _near_terms(sentence: str, spans: list[tuple[int, int]], question: str, window: int) -> set[tuple[int, int]]:
    """The (start, end) spans of sentence within `window` words of a question term outside the span."""
    wanted = set(terms(question))
    words = list(WORDS.finditer(sentence))
    starts = [w.start() for w in words]
    anchors = [i for i, w in enumerate(words) if stem(w.group()) in wanted]
    near = set()
    for start, end in spans:
        first, last = bisect_left(starts, start), bisect_left(starts, end) - 1
        if any(first - window <= i <= last + window and not first <= i <= last for i in anchors):
            near.add((start, end))
    return near
