"""Content terms of questions and sentences: lower-cased, stop words out, Snowball-stemmed."""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from assistant.text.words import QUESTION_WORDS
from vectorstore.lexical import english_stemmer, query_stopwords

WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return frozenset(query_stopwords()) | QUESTION_WORDS


def is_stop_word(word: str) -> bool:
    """Does this word frame a question rather than say what it is about?"""
    return word.lower() in _stop_words()


def stem(word: str) -> str:
    """The Snowball stem of one lower-cased word."""
    return english_stemmer().stemWord(word.lower())


def terms(text: str) -> list[str]:
    """Content words of text, lower-cased and stemmed."""
    stop = _stop_words()
    return english_stemmer().stemWords([w for w in (m.group().lower() for m in WORDS.finditer(text)) if w not in stop])


def term_overlap(query: str, sentences: Sequence[str]) -> list[float]:
    """Share of the query's content terms in each sentence, weighted by idf over the sentences."""
    tokens = [terms(t) for t in (query, *sentences)]
    terms_ = set(tokens[0])
    if not terms_:
        return [0.0] * len(sentences)
    bags = [set(t) for t in tokens[1:]]
    n = len(bags)
    idf = {t: math.log(1 + n / (1 + sum(t in b for b in bags))) for t in terms_}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms_ & b) / total for b in bags]
