"""Proper names and people in text, found by capitalisation (no NER model: cheap and offline)."""
from __future__ import annotations

import re

from assistant.text.words import NOT_NAMES

_TOKEN = re.compile(r"[\w'’.-]+")


def _is_cap(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.lower() not in NOT_NAMES


def _runs(text: str) -> list[tuple[list[str], int, int]]:
    """Runs of name-like words, each with the character span it covers in text."""
    runs, run, start, end = [], [], 0, 0
    for match in _TOKEN.finditer(text):
        word = re.sub(r"['’]s$", "", match.group().strip(".'’-"))
        if run and text[end:match.start()].strip():  # a comma or bracket ends a name
            runs.append((run, start, end))
            run = []
        if _is_cap(word):
            if not run:
                start = match.start()
            run.append(word)
            end = match.end()
            continue
        if run:
            runs.append((run, start, end))
        run = []
    if run:
        runs.append((run, start, end))
    return runs


def proper_names(text: str) -> list[str]:
    """Runs of capitalised words that look like names ("Sergey Markov", "WikiLeaks"), in order."""
    return [name for name, _, _ in name_spans(text)]


def name_spans(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each proper name in text, in order."""
    return [(" ".join(run), start, end) for run, start, end in _runs(text)]
