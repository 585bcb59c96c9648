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


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of a passage, and their score (start + end logit)."""

    start: int
    end: int
    score: float


def spans(windows: Sequence[Window], start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray],
          keep: Callable[[int, int], bool] = lambda start, end: True, limit: int = 5,
          max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[list[Span], float]:
    """The passage's best distinct spans (best first, at most `limit`) that `keep(start, end)` accepts, and
    its no-answer score."""
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
        if (a, b) in seen:
            continue
        seen.add((a, b))
        if keep(a, b):
            out.append(Span(a, b, score))
            if len(out) == limit:
                break
    return out, null
