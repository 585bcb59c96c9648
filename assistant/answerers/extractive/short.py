"""The short answer: the exact phrase a question asks for, cut from the answer's chosen sentences.

"How many teachers work there?" gets "63,519" above the cited sentence "It employs 63,519
full-time teachers." The phrase is always text of a chosen sentence (a list of people joins
several), so the citation under it supports it. Each kind of question looks for its own kind of
phrase in the best sentence (the next ones only when the best holds none):

- who / whom / whose / "name of": a proper name; a "who" question whose sentences each name
  someone doing what it asks lists them all ("A, B and C");
- when / what year: a date expression ("October 5, 2015", "the late 1990s", "the 19th century");
- how many / how much: the number with its currency, scale and percent ("$5.2 million", "40%");
  how long / old / far / ...: the number with its unit ("three years");
- where: a capitalised place, preferably after "in", "at", "near"...;
- which / what + noun: a capitalised name or title.

Two rules pick among several phrases of the right kind: words of the question are trimmed off a
phrase's ends (it asks about them, so they are not the answer: "the Denver Broncos" is no answer to
"Who did the Denver Broncos beat?"), and the phrase nearest the question's words in the sentence
wins. None when no phrase of the kind is found, or the question asks for something no rule
extracts (why, how, "what is X"): then no short answer is shown.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from assistant.answerers.extractive.question import Question
from assistant.text.facts import NUMBER
from assistant.text.names import name_spans
from assistant.text.terms import WORDS, is_stop_word, stem, terms
from assistant.text.words import (MONTHS, NOT_PERSON, NUMBER_SCALES, ORDINAL_WORDS, PLACE_PREPOSITIONS, SEASONS,
                                  VAGUE_AMOUNTS, WEEKDAYS)

_MEASURE_Q = re.compile(r"\bhow\s+(long|old|far|tall|high|large|big|deep|wide|heavy|fast|often|much)\b", re.I)
_WHERE_Q = re.compile(r"^\s*where\b|\b(in|at|from) what (place|city|country|region|state|town|area|location)\b",
                      re.I)
_WHICH_Q = re.compile(r"\b(which|what)\s+(?!is\b|was\b|are\b|were\b|does\b|did\b|do\b|has\b|had\b)\w", re.I)

_MONTH = r"(?:" + "|".join(m.capitalize() for m in MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d{3}|20\d\d|\d{1,3}\s?(?:BC|AD|BCE|CE)\b)"
_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)|" + "|".join(ORDINAL_WORDS) + ")"
_DATE = re.compile(
    r"\b(?:(?:early|mid|late)[\s-]+)?(?:"
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}|{_MONTH},?\s+{_YEAR}|"
    rf"{_MONTH}\s+{_DAY}\b|{_DAY}\s+(?:of\s+)?{_MONTH}|"
    rf"(?:{'|'.join(SEASONS)})\s+(?:of\s+)?{_YEAR}|"
    rf"{_YEAR}\s*(?:–|-|to)\s*(?:1\d{{3}}|20\d\d|\d\d)\b|(?:1\d|20)\d0s|{_YEAR}|"
    rf"{_ORDINAL}[\s-]+(?:century|centuries|millennium)|{_MONTH}|"
    rf"(?:{'|'.join(w.capitalize() for w in WEEKDAYS)}))(?!\w)", re.I)
_SCALE = r"(?:[\s-](?:" + "|".join(NUMBER_SCALES) + r")s?)?"
_AMOUNT_AROUND = re.compile(r"([$£€¥]\s?)?$")
_AMOUNT_AFTER = re.compile(_SCALE + r"(\s?%|\s(?:percent|per cent)\b)?", re.I)
_UNIT = re.compile(r"[\s-]((?:square |cubic )?[a-z]+\.?)")


def short_answer(question: Question, sentences: Sequence[str]) -> str | None:
    """The phrase that answers `question` in `sentences` (the chosen ones, best first), or None."""
    if question.kind == "name":
        return _people(question, sentences)
    if question.kind == "date":
        return _first(question, sentences, _dates)
    if question.kind == "number" or _MEASURE_Q.search(question.text):
        unit = bool(_MEASURE_Q.search(question.text)) and question.kind != "number"
        return _first(question, sentences, lambda s: _numbers(s, unit))
    if _WHERE_Q.search(question.text):
        return _first(question, sentences, _places)
    if _WHICH_Q.search(question.text):
        return _first(question, sentences, _names)
    return None


def _first(question: Question, sentences: Sequence[str], spans) -> str | None:
    """The best phrase of the first sentence that holds one."""
    for sentence in sentences:
        found = _best(question, sentence, spans(sentence))
        if found:
            return found
    return None


def _people(question: Question, sentences: Sequence[str]) -> str | None:
    """The name that answers; for a "who" list (each sentence says the act asked about), every sentence's."""
    first = _best(question, sentences[0], _names(sentences[0])) if sentences else None
    if not first:
        return _first(question, sentences[1:], _names)
    if not (question.is_who and question.act and question.act in terms(sentences[0])):
        return first
    found = [first]
    for sentence in sentences[1:]:
        name = _best(question, sentence, _names(sentence)) if question.act in terms(sentence) else None
        if name and name not in found:
            found.append(name)
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def _best(question: Question, sentence: str, spans: list[tuple[int, int]]) -> str | None:
    """Of the spans, trimmed of the question's words, the one nearest the question's words."""
    asked = set(question.terms)
    words = list(WORDS.finditer(sentence))
    starts = [w.start() for w in words]
    anchors = [i for i, w in enumerate(words) if stem(w.group()) in asked]
    best, best_key = None, None
    for start, end in spans:
        first, last = bisect_left(starts, start), bisect_right(starts, end - 1) - 1
        while first <= last and _is_asked(words[first].group(), asked):
            first += 1
        while last >= first and _is_asked(words[last].group(), asked):
            last -= 1
        if first > last:
            continue
        if (first, last) != (bisect_left(starts, start), bisect_right(starts, end - 1) - 1):
            start, end = words[first].start(), words[last].end()
        distance = min((first - i if i < first else i - last for i in anchors if not first <= i <= last),
                       default=len(words))
        if best_key is None or distance < best_key:
            best, best_key = sentence[start:end].strip(" ,;:"), distance
    return best or None


def _is_asked(word: str, asked: set[str]) -> bool:
    return is_stop_word(word) or stem(word) in asked


def _names(sentence: str) -> list[tuple[int, int]]:
    """Proper names, leading titles dropped ("President Barack Obama" -> "Barack Obama")."""
    out = []
    for name, start, end in name_spans(sentence):
        words = name.split()
        while len(words) > 1 and words[0].lower() in NOT_PERSON:
            start = sentence.index(words[1], start)
            words = words[1:]
        if len(words) == 1 and words[0].lower() in NOT_PERSON:
            continue
        out.append((start, end))
    return out


def _places(sentence: str) -> list[tuple[int, int]]:
    """Proper names after a place preposition ("born in Warsaw"); any proper name when none is."""
    names = _names(sentence)
    placed = [(a, b) for a, b in names if _word_before(sentence, a) in PLACE_PREPOSITIONS]
    return placed or names


def _word_before(sentence: str, at: int) -> str:
    before = list(WORDS.finditer(sentence[:at]))
    return before[-1].group().lower() if before else ""


def _dates(sentence: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DATE.finditer(sentence)]


def _numbers(sentence: str, unit: bool) -> list[tuple[int, int]]:
    """Numbers with their currency sign, scale and percent ("$5.2 million", "40%"); with `unit`, the word
    after ("three years"). Years and vague counts ("several") are no amounts."""
    out = []
    for m in NUMBER.finditer(sentence):
        if m.group().lower() in VAGUE_AMOUNTS or re.fullmatch(r"1[5-9]\d\d|20\d\d", m.group()):
            continue
        start, end = m.span()
        sign = _AMOUNT_AROUND.search(sentence[:start])
        start -= len(sign.group()) if sign else 0
        end += len(_AMOUNT_AFTER.match(sentence, end).group())
        after = _UNIT.match(sentence, end) if unit else None
        if after and not is_stop_word(after.group(1)):
            end = after.end()
        out.append((start, end))
    return out
