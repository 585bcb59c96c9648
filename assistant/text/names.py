"""Proper names and people in text, found by capitalisation (no NER model: cheap and offline)."""
from __future__ import annotations

import re

from assistant.text.words import NOT_NAMES, NOT_PERSON

_TOKEN = re.compile(r"[\w'’.-]+")


def _is_cap(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.lower() not in NOT_NAMES


def _runs(text: str, breaks: set[str]) -> list[tuple[list[str], int, int]]:
    """Runs of name-like words, each with the character span it covers in text."""
    runs, run, start, end = [], [], 0, 0
    for match in _TOKEN.finditer(text):
        word = re.sub(r"['’]s$", "", match.group().strip(".'’-"))
        if run and text[end:match.start()].strip():  # a comma or bracket ends a name
            runs.append((run, start, end))
            run = []
        if _is_cap(word) and word.lower() not in breaks:
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
    return [(" ".join(run), start, end) for run, start, end in _runs(text, set())]


def people(text: str, known_surnames: set[str] = frozenset()) -> set[str]:
    """Surnames of people named: two-or-three-word capitalised names, or a known surname alone."""
    found = set()
    for run, _, _ in _runs(text, NOT_PERSON):
        if 2 <= len(run) <= 3 and all(w[1:].islower() or "-" in w for w in run if len(w) > 1):
            found.add(run[-1])
        elif len(run) == 1 and run[0] in known_surnames:
            found.add(run[0])
    return found


def is_title(text: str) -> bool:
    """A headline in title case ("Kremlin Denies Interfering In US Elections"): its capitals name nobody."""
    words = [w for w in _TOKEN.findall(text) if w[0].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)
