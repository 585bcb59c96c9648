"""Proper names in text, found by capitalisation (no NER model: cheap and offline)."""
from __future__ import annotations

import re

# Capitalised words that start questions or sentences but name nobody.
_NOT_NAMES = {
    "a", "an", "the", "this", "that", "these", "those", "what", "who", "whom", "whose", "when", "where", "why",
    "how", "which", "did", "does", "do", "is", "are", "was", "were", "has", "have", "had", "can", "could",
    "will", "would", "should", "and", "but", "or", "if", "in", "on", "at", "of", "for", "to", "by", "with",
    "he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "its", "our", "my", "your", "there",
    "after", "before", "since", "as", "so", "then", "also", "however", "meanwhile", "many", "some", "asked",
    "mr", "mrs", "ms", "dr", "tell", "give", "name", "list", "according", "said", "says", "now", "not",
}
_WORD = re.compile(r"[A-Z][\w'’.-]*[\w]|[A-Z]")


def proper_names(text: str) -> list[str]:
    """Runs of capitalised words that look like names ("Sergey Markov", "WikiLeaks"), in order."""
    names, run = [], []
    for match in re.finditer(r"[\w'’.-]+", text):
        word = match.group().strip(".'’-")
        if word and word[0].isupper() and word.lower() not in _NOT_NAMES and _WORD.fullmatch(word):
            run.append(word)
            continue
        if run:
            names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    return names
