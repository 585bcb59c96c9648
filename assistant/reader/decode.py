"""From the reader's logits to spans: the best answer spans of a passage and its no-answer score.

The reader scores every input position twice: as an answer's first token and as its last. A span's
score is start + end logit; the no-answer score is the same sum at [CLS] (position 0), the lowest
over a passage's windows (the window that reads the passage best decides, as SQuAD 2.0 readers do).
The margin, best span minus no-answer, is what says whether the passage answers the question.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.reader.windows import MAX_ANSWER_TOKENS, Window

TOP_POSITIONS = 20  # the start and end positions tried per window, best first


_PAIRS = {"'": "'", '"': '"', "“": "”", "‘": "’", "(": ")", "[": "]", "«": "»"}
_TRAILING = ".,;:!?"


def tidy(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without a quote or bracket it opens or closes alone, nor trailing punctuation: the reader
    reads `'proportional` where the passage says 'proportional'."""
    while start < end:
        a, b = text[start], text[end - 1]
        last = (text[start:end].rsplit(None, 1) or [""])[-1]
        if b.isspace() or (b in _TRAILING and not (b == "." and "." in last[:-1])):  # "D.C." keeps its dot
            end -= 1
        elif a.isspace():
            start += 1
        elif a in _PAIRS and _PAIRS[a] not in text[start + 1:end]:
            start += 1
        elif b in _PAIRS.values() and not any(o in text[start:end - 1] for o, c in _PAIRS.items() if c == b):
            end -= 1
        else:
            break
    return start, end


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of a passage, and their score (start + end logit)."""

    start: int
    end: int
    score: float


def spans(windows: Sequence[Window], start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray],
          keep: Callable[[int, int], bool] = lambda start, end: True, limit: int = 5,
          max_answer_tokens: int = MAX_ANSWER_TOKENS, text: str | None = None) -> tuple[list[Span], float]:
    """The passage's best distinct spans (best first, at most `limit`) that `keep(start, end)` accepts, and
    its no-answer score; given the passage `text`, each span is tidied first (see `tidy`)."""
    null = min(float(s[0] + e[0]) for s, e in zip(start_logits, end_logits))
    scored: list[tuple[float, int, int]] = []  # (score, start char, end char) of every allowed span
    for window, s, e in zip(windows, start_logits, end_logits):
        lo, hi = window.first, window.first + len(window.offsets)  # passage positions
        if lo >= hi:
            continue
        s, e = np.asarray(s[lo:hi]), np.asarray(e[lo:hi])
        for i in np.argsort(-s)[:TOP_POSITIONS]:
            for j in np.argsort(-e)[:TOP_POSITIONS]:
                if i <= j < i + max_answer_tokens:
                    scored.append((float(s[i] + e[j]), *window.char_span(lo + int(i), lo + int(j))))
    scored.sort(key=lambda t: -t[0])
    out: list[Span] = []
    seen: set[tuple[int, int]] = set()
    for score, a, b in scored:  # best first: `keep` is asked only until `limit` spans are found
        if text is not None:
            a, b = tidy(text, a, b)
        if a >= b or (a, b) in seen:
            continue
        seen.add((a, b))
        if keep(a, b):
            out.append(Span(a, b, score))
            if len(out) == limit:
                break
    return out, null
