"""The short answer: the exact phrase a question asks for, cut from the answer's chosen sentences.

"How many teachers work there?" gets "63,519" above the cited sentence "It employs 63,519
full-time teachers." The phrase is always text of a chosen sentence (a list of people joins
several), so the citation under it supports it. Each kind of question looks for its own kind of
phrase in the best sentence (the next ones only when the best holds none):

- who / whom / whose / "name of": a proper name; a "who" question whose sentences each name
  someone doing what it asks lists them all ("A, B and C"), as does a plural question ("Who were
  the commentators?") the names listed together in one sentence;
- when / what year: a date expression ("October 5, 2015", "the late 1990s", "the 19th century");
- how many / how much: the number with its currency, scale and percent ("$5.2 million", "40%");
  how long / old / far / ...: the number with its unit ("three years");
- where: a capitalised place, preferably after "in", "at", "near"...;
- which / what + noun: a capitalised name or title, names joined by "of" kept whole.

Among several phrases of the right kind, words of the question are trimmed off a phrase's ends
(it asks about them, so they are not the answer: "the Denver Broncos" is no answer to "Who did the
Denver Broncos beat?"); then `_best` ranks them (see there), the nearest to the question's words
winning in the end. None when no phrase of the kind is found, or when the question asks for
something no rule extracts (why, how, "what is X?", "what did X do?"): then no short answer is shown.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from assistant.answerers.extractive.question import Question
from assistant.text.facts import NAME_WINDOW, NUMBER
from assistant.text.names import name_spans, people
from assistant.text.terms import WORDS, is_stop_word, stem, terms
from assistant.text.words import (MONTHS, NOT_PERSON, NUMBER_SCALES, ORDINAL_WORDS, PLACE_PREPOSITIONS, SEASONS,
                                  VAGUE_AMOUNTS, WEEKDAYS)

_MEASURE_Q = re.compile(r"\bhow\s+(long|old|far|tall|high|large|big|deep|wide|heavy|fast|often)\b", re.I)
_WHERE_Q = re.compile(r"^\s*where\b|\b(in|at|from) what (place|city|country|region|state|town|area|location)\b",
                      re.I)
_WHICH_Q = re.compile(r"\b(?:which|what)\s+(?!is\b|was\b|are\b|were\b|does\b|did\b|do\b|has\b|had\b)(\w+)", re.I)
_YEAR_Q = re.compile(r"\b(?:which|what)\s+year\b", re.I)
_AGENT = re.compile(r"\bby\s+(?:[\w'’-]+\s+){0,4}$", re.I)  # "designed by the Spanish architect "
_PLURAL_Q = re.compile(r"\b(?:were|are|two|three|four|five|both)\b", re.I)
_LIST_GLUE = re.compile(r",?\s+and\s+|,\s+")
_NOT_NOUN = re.compile(r"[a-z](?:ly|ing|ed)$")  # "Similarly, ...", "Considering ...": capitalised to open a sentence
_POSSESSOR = re.compile(r".*['’]s\s+")
# "Omar Haddad, the lawyer of minister Rita Cole, denied": Rita Cole only describes the name before it
_APPOSITION = re.compile(r",\s+(?:the|a|an)\s+[^,]*")
_OWNER = re.compile(r"['’]s?$")  # "Norway's share": the owner of what the sentence is about
_NATIONALITY = re.compile(r"[A-Z][a-z]{4,}ian|[A-Z][a-z]+(?:ese|ish)|[A-Z][a-z]{4,}an")
_YEAR_ONLY = re.compile(r"\b(?:1\d{3}|20\d\d)\b")

_MONTH = r"(?:" + "|".join(m.capitalize() for m in MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d{3}|20\d\d|\d{1,3}\s?(?:BC|AD|BCE|CE)\b)"
_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)|" + "|".join(ORDINAL_WORDS) + ")"
_DATE = re.compile(
    r"\b(?:(?:early|mid|late)[\s-]+)?(?:"
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}|{_MONTH},?\s+{_YEAR}|"
    rf"{_MONTH}\s+{_DAY}\b|{_DAY}\s+(?:of\s+)?{_MONTH}|"
    rf"(?:{'|'.join(SEASONS)})\s+(?:of\s+)?{_YEAR}|"
    rf"between\s+(?:{_MONTH}\s+)?(?:{_YEAR}\s+)?and\s+(?:{_MONTH}\s+)?{_YEAR}|"
    rf"{_YEAR}\s*(?:–|-|to)\s*(?:1\d{{3}}|20\d\d|\d\d)\b|(?:1\d|20)\d0s|{_YEAR}|"
    rf"{_ORDINAL}[\s-]+(?:century|centuries|millennium)|{_MONTH}|"
    rf"(?:{'|'.join(w.capitalize() for w in WEEKDAYS)}))(?!\w)", re.I)
_SCALE = r"(?:[\s-](?:" + "|".join(NUMBER_SCALES) + r")s?)?"
_AMOUNT_BEFORE = re.compile(r"(?:[$£€¥]\s?|\b(?:tens|hundreds|dozens|thousands|millions) of\s+)$", re.I)
_AMOUNT_AFTER = re.compile(_SCALE + r"(\s?%|\s(?:percent|per cent)\b)?", re.I)
_UNIT = re.compile(r"[\s-]((?:square |cubic )?[a-z]+\.?)")


def short_answer(question: Question, sentences: Sequence[str]) -> str | None:
    """The phrase that answers `question` in `sentences` (the chosen ones, best first), or None."""
    plural = bool(_PLURAL_Q.search(question.text))
    year = bool(_YEAR_Q.search(question.text))
    if question.kind == "name":
        return _people(question, sentences, _listed(_entities) if plural else _entities)
    if question.kind == "date" or year:
        return _first(question, sentences, _years if year else _dates)
    if question.kind == "number":
        return _first(question, sentences, lambda s: _numbers(s, unit=False))
    if _MEASURE_Q.search(question.text):
        return _first(question, sentences, lambda s: _numbers(s, unit=True))
    if _WHERE_Q.search(question.text):
        return _first(question, sentences, _places)
    if _WHICH_Q.search(question.text):
        return _first(question, sentences, _listed(_entities) if plural else _entities)
    return None


def _first(question: Question, sentences: Sequence[str], spans, window: int | None = None) -> str | None:
    """The best phrase of the first sentence that holds one."""
    for sentence in sentences:
        found = _best(question, sentence, spans(sentence), window)
        if found:
            return found
    return None


def _people(question: Question, sentences: Sequence[str], names) -> str | None:
    """The name that answers, next to the question's words (a name farther off is a passing mention).

    A "who" question whose first sentence says the act it asks about ("Who resigned...?", "Maria
    Lopez resigned...") is answered by a list: the person of each chosen sentence that says the act,
    joined. A first name that is no person's ("Chebyshev", an organisation) is answered alone.
    """
    def name_in(sentence: str) -> str | None:
        return _best(question, sentence, names(sentence), window=NAME_WINDOW)

    if not (sentences and question.is_who and question.act and question.act in terms(sentences[0])):
        return _first(question, sentences, names, window=NAME_WINDOW)
    found: list[str] = []
    for sentence in sentences:
        name = name_in(sentence) if question.act in terms(sentence) else None
        if name and not found and not people(name):
            return name
        if name and name not in found and people(name):
            found.append(name)
    if not found:
        return None
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def _best(question: Question, sentence: str, spans: list[tuple[int, int]], window: int | None = None) -> str | None:
    """Of the spans, trimmed of the question's words, the one nearest the question's words (and no
    farther than `window` words from one, when given).

    The word a which/what question asks for stays ("Which court...?" -> "Court of Justice"). Spans
    that held none of the question's words come first (one that did is mostly the thing asked
    about), and a lone capitalised word opening the sentence comes last: it may be any word. Among
    the rest, the doer of a passive comes first ("designed by the architect X": X), then the nearest.
    A possessive ("Norway's share") answers only a "whose" question.
    """
    which = _WHICH_Q.search(question.text)
    whose = re.search(r"\bwhose\b", question.text, re.I)
    asked = set(question.terms) - ({stem(which.group(1))} if which else set())
    words = list(WORDS.finditer(sentence))
    starts = [w.start() for w in words]
    anchors = [i for i, w in enumerate(words) if stem(w.group()) in asked]
    best, best_key = None, None
    for start, end in spans:
        a, b = bisect_left(starts, start), bisect_right(starts, end - 1) - 1
        first, last = a, b
        while first <= last and _is_asked(words[first].group(), asked):
            first += 1
        while last >= first and _is_asked(words[last].group(), asked):
            last -= 1
        if first > last:
            continue
        if (first, last) != (a, b):
            start, end = words[first].start(), words[last].end()
        distance = min((first - i if i < first else i - last for i in anchors if not first <= i <= last),
                       default=len(words))
        if window is not None and distance > window:
            continue
        agent = bool(_AGENT.search(sentence[:start])) and any(i < first for i in anchors)
        key = (first == last == 0, any(stem(w.group()) in asked for w in words[a:b + 1]), not agent, distance)
        phrase = _clean(sentence[start:end])
        if _OWNER.search(phrase) and not whose:
            continue
        if len(phrase) > 1 and (best_key is None or key < best_key):  # "U" is what trimming left of "U.S."
            best, best_key = phrase, key
    return best or None


def _clean(phrase: str) -> str:
    """The phrase without the punctuation around it; a full stop stays in an abbreviation ("U.S.")."""
    phrase = phrase.strip(" ,;:")
    return phrase[:-1] if phrase.endswith(".") and phrase.count(".") == 1 else phrase


def _is_asked(word: str, asked: set[str]) -> bool:
    """Is the word one of the question's (stemmed) terms, or a function word, to trim off a phrase?"""
    return is_stop_word(word) or stem(word) in asked


def _names(sentence: str) -> list[tuple[int, int]]:
    """Proper names, leading titles dropped ("Brazilian President Luiz Lula" -> "Luiz Lula").

    A lone capitalised word one word before another name modifies it ("Spanish architect Enric
    Miralles"), as does one that reads as a nationality before a lower-case word ("the Danish
    government"), and a possessor ("BBC's Laura Finch" -> "Laura Finch"): none is a
    name of its own; nor is a name inside an apposition that describes the name before it ("Ann
    Lee, the daughter of John Lee, won": John Lee did not win). Single letters ("U" of "U.S.") are
    no names either, nor an adverb or participle opening the sentence ("Similarly", "Considering").
    """
    spans = name_spans(sentence)
    out = []
    for k, (name, start, end) in enumerate(spans):
        owner = _POSSESSOR.match(sentence, start, end)
        if owner and owner.end() < end:
            start = owner.end()
        words = sentence[start:end].split()
        while len(words) > 1 and (words[0].lower() in NOT_PERSON or _NATIONALITY.fullmatch(words[0])):
            start = sentence.index(words[1], start)
            words = words[1:]
        if len(words) == 1 and (words[0].lower() in NOT_PERSON or len(words[0]) == 1):
            continue
        between = sentence[end:spans[k + 1][1]].split() if k + 1 < len(spans) else []
        if len(words) == 1 and len(between) == 1 and between[0].isalpha() and not is_stop_word(between[0]):
            continue
        if len(words) == 1 and _NATIONALITY.fullmatch(words[0]) and re.match(r"\s+[a-z]", sentence[end:]):
            continue
        if len(words) == 1 and not sentence[:start].strip(" \"'“‘(") and _NOT_NOUN.search(words[0]):
            continue
        if k and _APPOSITION.fullmatch(sentence[spans[k - 1][2]:spans[k][1]]) and sentence[end:].startswith(","):
            continue
        out.append((start, end))
    return out


def _listed(spans_of):
    """`spans_of`, with names listed together ("A, B and C") as one span: what a plural question
    ("Who were the commentators?", "Which two artists...?") asks for."""
    def spans(sentence: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for start, end in spans_of(sentence):
            if out and _LIST_GLUE.fullmatch(sentence[out[-1][1]:start]):
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out
    return spans


def _entities(sentence: str) -> list[tuple[int, int]]:
    """Proper names, those joined by "of" as one ("Edict of Potsdam", "Court of Justice")."""
    out: list[tuple[int, int]] = []
    for start, end in _names(sentence):
        if out and re.fullmatch(r"\s+of\s+(?:the\s+)?", sentence[out[-1][1]:start]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _places(sentence: str) -> list[tuple[int, int]]:
    """Proper names after a place preposition ("born in Warsaw"); any proper name when none is."""
    names = _entities(sentence)
    placed = [(a, b) for a, b in names if _word_before(sentence, a) in PLACE_PREPOSITIONS]
    return placed or names


def _word_before(sentence: str, at: int) -> str:
    before = list(WORDS.finditer(sentence[:at]))
    return before[-1].group().lower() if before else ""


def _dates(sentence: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DATE.finditer(sentence)]


def _years(sentence: str) -> list[tuple[int, int]]:
    """The years of the date expressions: "What year...?" is answered "2005", not "26 March 2005"."""
    return [(a + m.start(), a + m.end()) for a, b in _dates(sentence) for m in _YEAR_ONLY.finditer(sentence[a:b])]


def _numbers(sentence: str, unit: bool) -> list[tuple[int, int]]:
    """Numbers with their currency sign, scale and percent ("$5.2 million", "40%"); with `unit`, the word
    after ("three years"). Years and vague counts ("several") are no amounts."""
    out = []
    for m in NUMBER.finditer(sentence):
        if m.group().lower() in VAGUE_AMOUNTS or _YEAR_ONLY.fullmatch(m.group()):
            continue
        start, end = m.span()
        before = _AMOUNT_BEFORE.search(sentence[:start])
        start -= len(before.group()) if before else 0
        end += len(_AMOUNT_AFTER.match(sentence, end).group())
        after = _UNIT.match(sentence, end) if unit else None
        if after and not is_stop_word(after.group(1)):
            end = after.end()
        out.append((start, end))
    return out
