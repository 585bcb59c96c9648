"""Whether to answer: a logistic regression over the reader's scores and retrieval's, fitted on held-out data.

The extractive answerer drafts its answer from the reader's best span, then asks this model how likely
that answer is to be right, and declines below `[answer] min_confidence` (one setting, one decision).
The weights are fitted by `bench/fit_answerability.py` on data the reader never trained on: the
validation articles of the SQuAD training pool (answerable and crafted-unanswerable questions) and half
of CLAP NQ dev, and shipped beside this file as `answerability.json`; docs/answering.md describes the
data, the split and the calibration.

Every feature is a number the reader or retrieval computes anyway: nothing here names a thing from any
corpus, and no word list.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.text.names import proper_names
from assistant.text.terms import terms
from vectorstore.records import Hit

if TYPE_CHECKING:
    from assistant.answerers.extractive.compose import Found
    from assistant.reader import Reading

WEIGHTS = Path(__file__).with_name("answerability.json")
FLOOR = -20.0  # a margin the reader could not give (no span in any other passage) counts as this

# name -> what it measures (also how the why-panel names what weighs most against an answer); the order
# is the order of the weights.
FEATURES = {
    "margin": "how much the reader prefers its best phrase to “no answer” in that passage",
    "span_score": "the reader's score for its best phrase",
    "no_answer": "the reader's “no answer” score for that passage",
    "runner_up": "how much the reader prefers a phrase in any other passage",
    "answering": "the share of passages the reader would answer from",
    "same_phrase": "the share of passages whose best phrase is the same",
    "passage_rank": "the rank of its passage among those retrieved",
    "agree": "whether dense and keyword retrieval agree on the first passage",
    "similarity": "how close its passage is to the question (embedding similarity)",
    "keyword_found": "whether keyword retrieval found its passage",
    "phrase_words": "the length of the phrase, in words",
    "cosine": "how close the sentence that holds the phrase is to the question (embedding similarity)",
    "sentence_overlap": "the share of the question's words in that sentence",
    "passage_overlap": "the share of the question's words in its passage and title",
    "missing_names": "the question's proper names missing from its passage",
    "missing_numbers": "the question's numbers and years missing from its passage",
}
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


@dataclass(frozen=True)
class Answerability:
    """Standardise, weigh, squash: P(the drafted answer is right)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> Answerability:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data["features"] != list(FEATURES):
            raise ValueError(f"{path} was fitted on other features; run bench/fit_answerability.py again")
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]),
                   float(data["intercept"]))

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def weakest(self, x: np.ndarray) -> str:
        """The feature that pulls this answer's probability down the most, described."""
        pull = (x - self.mean) / self.scale * self.coef
        return list(FEATURES.values())[int(np.argmin(pull))]


@lru_cache(maxsize=1)
def shipped() -> Answerability:
    """The weights shipped with the package, read once."""
    return Answerability.load()


def features(found: Sequence[Found], readings: Sequence[Reading], hits: Sequence[Hit],
             phrases: Sequence[str | None], question: str, sentence: str, passage: str,
             cosine: float) -> np.ndarray:
    """The feature vector (in FEATURES order) of an answer led by found[0] (spans best first); phrases[i] is
    the text of passage i's best span (None: it has none); `sentence` holds found[0], `passage` is its
    passage with the document title, `cosine` the sentence's embedding similarity to the question."""
    best = found[0]
    reading = readings[best.rank]
    short = phrases[best.rank] or ""
    others = [r.margin for i, r in enumerate(readings) if i != best.rank and r.spans]
    said = [p.casefold() for p in phrases if p is not None]
    top = hits[0] if hits else best.hit
    hit = best.hit
    return np.array([
        max(best.margin, FLOOR),
        reading.spans[0].score,
        reading.null,
        max(max(others), FLOOR) if others else FLOOR,
        sum(r.margin > 0 for r in readings) / max(1, len(readings)),
        said.count(short.casefold()) / max(1, len(said)),
        float(best.rank),
        float(top.dense_rank == 1 and top.bm25_rank == 1),
        float(hit.dense_score) if hit.dense_score is not None else 0.0,
        float(hit.bm25_rank is not None),
        math.log1p(len(short.split())),
        cosine,
        _share_in(terms(question), set(terms(sentence))),
        _share_in(terms(question), set(terms(passage))),
        _missing(proper_names(question), passage),
        _missing([m.group() for m in _NUMBER.finditer(question)], passage),
    ], dtype=np.float64)


def _share_in(words: list[str], bag: set[str]) -> float:
    return sum(w in bag for w in words) / len(words) if words else 1.0


def _missing(items: list[str], passage: str) -> float:
    """The share of items that the passage does not contain (case-insensitive); 0 when there are none."""
    lowered = passage.lower()
    return sum(i.lower() not in lowered for i in items) / len(items) if items else 0.0
