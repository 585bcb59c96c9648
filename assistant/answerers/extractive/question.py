"""What a question asks, worked out once per question: its terms, the kind of answer it wants, and
for a "who" question the act it asks about."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.terms import WORDS, is_stop_word, terms

# "Who ...?" opens a question; inside one only a lower-case "who" asks ("the man who..."): "Doctor Who" is a title.
_WHO = re.compile(r"^\s*(?i:who|whom|whose)\b|\bwho\b")
_NUMBER_Q = re.compile(r"^\s*(how (many|much)|what (number|percentage|share|amount))\b", re.IGNORECASE)
_DATE_Q = re.compile(r"^\s*(when|(on|in|at)? ?what (date|year|day|month)|which (date|year|day|month))\b",
                     re.IGNORECASE)
_NAME_Q = re.compile(r"^\s*(who|whom)\b|\bwhose\b|\bname of\b|\bwhat is the name\b|\bwhat'?s the name\b",
                     re.IGNORECASE)
# "Who is Sergey Markov?" asks what he is, not for a name: any sentence about him may answer.
_DEFINITION_Q = re.compile(r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+[A-Z]")
_WHICH_Q = re.compile(r"^\s*(which|what)\s+(.+)", re.IGNORECASE)
KIND_WORDS = {None: "answer", "number": "number", "date": "date or time", "name": "name next to the question's words"}


@dataclass(frozen=True)
class Question:
    """A question analysed: `kind` is the answer type it wants, `act` what a "who" question asks about."""

    text: str
    terms: tuple[str, ...]
    kind: str | None  # 'number', 'date', 'name', or None when any sentence could answer
    is_who: bool
    act: str | None  # "Who denied involvement?" -> "deni"
    focus: str | None  # "Which sanctions did..." -> "sanctions"

    @classmethod
    def of(cls, text: str) -> Question:
        is_who = bool(_WHO.search(text))
        return cls(text, tuple(terms(text)), expected_type(text), is_who, who_act(text) if is_who else None,
                   focus_word(text))


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


def focus_word(question: str) -> str | None:
    """The word a which/what question asks about: "Which sanctions did..." -> "sanctions"."""
    match = _WHICH_Q.search(question)
    if not match:
        return None
    return next((w.group() for w in WORDS.finditer(match.group(2)) if not is_stop_word(w.group())), None)


def who_act(question: str) -> str | None:
    """The stemmed word saying what a "who" question asks about: "Who denied involvement?" -> "deni"."""
    match = _WHO.search(question)
    following = terms(question[match.end():]) if match else []
    return following[0] if following else None
