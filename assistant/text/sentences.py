"""Whole sentences around a passage, with their offsets in the document text."""
from __future__ import annotations

import re
from functools import lru_cache

from assistant.text.names import proper_names
from assistant.text.words import BACK_REFERENCES
from ingest.punkt import import_punkt

# How far outside a passage we look for the rest of a sentence it cuts.
MARGIN = 400
_LINE = re.compile(r"[^\n]+")
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_QUOTE_OPENERS = "\"“‘'"


# Untrained punkt would end a sentence after "U.S." or "Mr.": teach it the common abbreviations.
ABBREVIATIONS = ("u.s", "u.k", "u.n", "e.u", "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col",
                 "lt", "sgt", "st", "jr", "sr", "inc", "corp", "co", "ltd", "vs", "etc", "e.g", "i.e", "no",
                 "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec", "fig", "al", "approx")


@lru_cache(maxsize=1)
def _punkt():
    punkt = import_punkt()
    PunktParameters, PunktSentenceTokenizer = punkt.PunktParameters, punkt.PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, int]]:
    """(start, end, previous_start) of each sentence of text that overlaps text[start:end].

    Never cut mid-sentence; `previous_start` is where the sentence before it in the same paragraph
    starts (its own start for a paragraph's first), so text[previous_start:start] is its lead-in.
    """
    end = len(text) if end is None else end
    lo, hi = max(0, start - MARGIN), min(len(text), end + MARGIN)
    window = text[lo:hi]
    spans = []
    for line in _LINE.finditer(window):  # punkt does not split at line breaks: headings would merge
        previous = None
        for s, e in _punkt().span_tokenize(line.group()):
            a, b = lo + line.start() + s, lo + line.start() + e
            if b > start and a < end:
                spans.append((a, b, a if previous is None else previous))
            previous = a
    return spans


def leans_on_previous(sentence: str) -> bool:
    """Does the sentence need the one before to be understood? It opens with a back-reference ("It
    appoints...", "This was...") or is a quote that names nobody (its speaker is named nearby)."""
    text = sentence.lstrip()
    if text[:1] in _QUOTE_OPENERS:
        return not proper_names(text)
    first = _FIRST_WORD.match(text)
    return bool(first) and first.group().lower() in BACK_REFERENCES
