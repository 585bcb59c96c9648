"""Rewrite a follow-up question for retrieval by carrying the salient names of earlier turns."""
from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import MARK
from assistant.text.names import proper_names

_REFERS_BACK = re.compile(
    r"\b(he|she|it|they|him|her|them|his|hers|its|their|theirs|this|that|these|those|there|then|"
    r"the same|the former|the latter|else|also|too|more)\b", re.IGNORECASE)
_CONTENT = re.compile(r"[A-Za-z0-9]{3,}")
SHORT_QUESTION_WORDS = 4  # "And Putin?" or "Why?" lean on the previous turn too


def needs_context(question: str) -> bool:
    """True when the question points back at the conversation (a pronoun, or too short to stand alone)."""
    return bool(_REFERS_BACK.search(question)) or len(_CONTENT.findall(question)) < SHORT_QUESTION_WORDS


def rewrite(question: str, history: Sequence[tuple[str, str]]) -> str:
    """The question plus the names of the latest earlier turn that has some; unchanged if it stands alone."""
    if not history or not needs_context(question):
        return question
    present = {n.lower() for n in proper_names(question)}
    for earlier_question, earlier_answer in reversed(history):
        # The user's own words name the subject best; the answer's names are a fallback.
        names = [n for n in proper_names(earlier_question) if n.lower() not in present]
        if not names:
            names = [n for n in proper_names(_strip_marks(earlier_answer)) if n.lower() not in present][:3]
        if names:
            return f"{question} ({', '.join(dict.fromkeys(names))})"
    return question


def _strip_marks(text: str) -> str:
    return MARK.sub(" ", text or "")
