"""A generated answer read as claims: its sentences, each with the [n] marks it ends with.

A model writes "Lavrov denied it [1]." or "Lavrov denied it. [1]" or "- Lavrov denied it [1, 2]";
each becomes Claim("Lavrov denied it.", (1,)) or (1, 2). `ClaimReader` does the same on a stream of
tokens, handing out each sentence once it is complete: when the text after it has begun a new one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.sentences import sentence_spans

# [1], [1, 2], [1][2], [Passage 1]: what small models write for "cite the passage number".
_MARKS = re.compile(r"\s*\[(?:passages?\s*)?(\d+(?:\s*[,;]\s*(?:passages?\s*)?\d+)*)\]", re.IGNORECASE)
_LEADING_MARKS = re.compile(r"^(?:\s*\[(?:passages?\s*)?\d+(?:\s*[,;]\s*\d+)*\])+", re.IGNORECASE)
# Marks followed by a capitalised word end a sentence that has no full stop (a headline, a list item).
_MARKS_END = re.compile(r"(?<=\])\s+(?=[A-Z\"“‘'])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


@dataclass(frozen=True)
class Claim:
    """One generated sentence without its marks, and the passage numbers it cites, as written."""

    text: str
    marks: tuple[int, ...]


def read_claims(text: str) -> list[Claim]:
    """Every sentence of a finished reply as a claim (empty ones dropped)."""
    claims = []
    for sentence in _sentences(text):
        marks = tuple(dict.fromkeys(int(n) for group in _MARKS.findall(sentence) for n in re.findall(r"\d+", group)))
        words = _SPACE_BEFORE_PUNCT.sub(r"\1", _MARKS.sub(" ", sentence))
        words = " ".join(_BULLET.sub("", words).split())
        if any(ch.isalnum() for ch in words):
            claims.append(Claim(words, marks))
    return claims


def _sentences(text: str) -> list[str]:
    """Sentences of text; marks a model put after the full stop belong to the sentence before."""
    out: list[str] = []
    for a, b, _ in sentence_spans(text):
        sentence = text[a:b]
        lead = _LEADING_MARKS.match(sentence)
        if lead and out:
            out[-1] += lead.group()
            sentence = sentence[lead.end():]
        out += [part for part in _MARKS_END.split(sentence) if part]
    return out


class ClaimReader:
    """Reads a reply as it streams in: feed(delta) returns the claims completed by it, finish() the rest."""

    def __init__(self):
        self.text = ""  # what is not yet handed out as claims

    def feed(self, delta: str) -> list[Claim]:
        self.text += delta
        spans = sentence_spans(self.text)
        if len(spans) < 2:
            return []
        last = self.text[spans[-1][0]:]
        lead = _LEADING_MARKS.match(last)
        rest = last[lead.end():] if lead else last
        if not any(ch.isalpha() for ch in rest):  # "[1" or "[1] " may still be this sentence's marks
            if len(spans) < 3:
                return []
            cut = spans[-2][0]
        else:
            cut = spans[-1][0] + (lead.end() if lead else 0)
        done, self.text = self.text[:cut], self.text[cut:]
        return read_claims(done)

    def finish(self) -> list[Claim]:
        done, self.text = self.text, ""
        return read_claims(done)
