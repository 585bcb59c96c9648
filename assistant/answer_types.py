"""What kind of answer a question wants (a number, a date, a name) and whether a sentence has one.

A sentence that matches a "how many" question word for word but holds no number does not answer
it: checking the answer type is the cheapest guard against confident wrong answers.
"""
from __future__ import annotations

import re
from bisect import bisect_left

from assistant.names import NOT_PERSON, name_spans
from assistant.terms import WORDS, is_stop_word, stem, terms

# A name answers a "who/name of" question only next to what the question asks about ("campaign
# chairman John Podesta", "Lavrov has denied"): a name elsewhere in the sentence is a passing mention.
NAME_WINDOW = 8  # words between the name and the nearest question term

_NUMBER_Q = re.compile(r"^\s*(how (many|much)|what (number|percentage|share|amount))\b", re.IGNORECASE)
_DATE_Q = re.compile(r"^\s*(when|(on|in|at)? ?what (date|year|day|month)|which (date|year|day|month))\b",
                     re.IGNORECASE)
_NAME_Q = re.compile(r"^\s*(who|whom)\b|\bwhose\b|\bname of\b|\bwhat is the name\b|\bwhat'?s the name\b",
                     re.IGNORECASE)

_NUMBER = re.compile(r"\d[\d,.]*\d|\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
                     r"thousands?|millions?|billions?|half|several|many|few)\b", re.IGNORECASE)
_DATE = re.compile(r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
                   r"november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|monday|tuesday|"
                   r"wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|ago|earlier|later|"
                   r"recently|recent|last (week|month|year)|next (week|month|year)|(this|that) (week|month|year)|"
                   r"morning|evening|night|since|before|after|during|until)\b", re.IGNORECASE)


# "Who is Sergey Markov?" asks what he is, not for a name: any sentence about him may answer.
_DEFINITION_Q = re.compile(r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+[A-Z]")


def expected_type(question: str) -> str | None:
    """'number', 'date', 'name', or None when any sentence could answer."""
    if _DEFINITION_Q.search(question):
        return None
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    if _NAME_Q.search(question):
        return "name"
    return None


_WHICH_Q = re.compile(r"^\s*(which|what)\s+(.+)", re.IGNORECASE)


def focus_word(question: str) -> str | None:
    """The word a which/what question asks about: "Which sanctions did..." -> "sanctions"."""
    match = _WHICH_Q.search(question)
    if not match:
        return None
    return next((w.group() for w in WORDS.finditer(match.group(2)) if not is_stop_word(w.group())), None)


def has_type(sentence: str, kind: str | None, question: str) -> bool:
    """Does sentence hold an answer of this kind that the question does not already contain?"""
    if kind is None:
        return True
    if kind == "number":
        asked = {m.group().lower() for m in _NUMBER.finditer(question)}
        return any(m.group().lower() not in asked for m in _NUMBER.finditer(sentence))
    if kind == "date":
        asked = {m.group().lower() for m in _DATE.finditer(question)}
        return any(m.group().lower() not in asked for m in _DATE.finditer(sentence))
    return bool(names_near_terms(sentence, question))


def names_near_terms(sentence: str, question: str, window: int = NAME_WINDOW) -> list[str]:
    """Names in sentence that the question does not contain, within `window` words of a question term."""
    wanted = set(terms(question))
    words = list(WORDS.finditer(sentence))
    starts = [w.start() for w in words]
    anchors = [i for i, w in enumerate(words) if stem(w.group()) in wanted]
    asked = question.lower()
    found = []
    for name, start, end in name_spans(sentence):
        if name.lower() in asked or (" " not in name and name.lower() in NOT_PERSON):
            continue
        first, last = bisect_left(starts, start), bisect_left(starts, end) - 1
        if any(first - window <= i <= last + window and not first <= i <= last for i in anchors):
            found.append(name)
    return found
