"""Whether the drafted answer is right: a logistic regression over what the answerer already measured.

The extractive answerer drafts an answer from its best sentence, then asks this model how likely that
draft is to be right, and declines below `[answer] min_confidence`. The weights are fitted by
`bench/fit_answerability.py` on public data (SQuAD v1.1 dev questions outside the reported sample,
each also paired with its article's other passages as a near miss, and half of CLAP NQ dev) and
shipped beside this file as `answerability.json`; docs/answering.md describes the data, the split
and the calibration.

Every feature is a number the answerer computes anyway, or a cheap look at the question: nothing here
names a thing from any corpus.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answerers.extractive.candidates import Candidate
from assistant.answerers.extractive.question import Question
from assistant.text.facts import NUMBER
from assistant.text.names import proper_names
from assistant.text.terms import stem
from vectorstore.records import Hit

WEIGHTS = Path(__file__).with_name("answerability.json")
LOW_SCORE = 0.55  # the hand-set floor of earlier versions: now one signal among others

# name -> what it measures (also how a declined answer names what weighs most against it); the order
# is the order of the weights.
FEATURES = {
    "score": "the best sentence's score (0.7 x cosine + 0.3 x term overlap)",
    "cosine": "its cosine similarity to the question",
    "overlap": "the share of the question's terms it holds (idf-weighted)",
    "grounding": "the share of the question's terms it and its context hold",
    "gap": "how far it scores below the best sentence of any kind",
    "ratio": "its score as a share of the best sentence's of any kind",
    "low_score": "a score below 0.55 (nothing close to the question)",
    "focus_unknown": "whether the index uses the word a which/what question asks about",
    "typed": "whether some sentence holds the kind of answer asked for",
    "missing_names": "the question's proper names missing from its passage",
    "missing_numbers": "the question's numbers and years missing from its passage",
    "passage_rank": "the rank of its passage among those retrieved",
    "agree": "whether dense and BM25 retrieval agree on the first passage",
    "runner_up": "how close the best sentence of another passage comes",
    "kind_number": "the kind of question (how many/much)",
    "kind_date": "the kind of question (when)",
    "kind_name": "the kind of question (who, or a name)",
}


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


def features(question: Question, lead: Candidate, candidates: Sequence[Candidate], best_match: float,
             typed: bool, hits: Sequence[Hit], unknown_terms: Callable[[Iterable[str]], set[str]]) -> np.ndarray:
    """The feature vector (in FEATURES order) of an answer led by `lead`."""
    passage = f"{lead.hit.chunk.title}\n{lead.passage}"
    names = proper_names(question.text)
    numbers = {m.group().lower() for m in NUMBER.finditer(question.text) if m.group()[0].isdigit()}
    lowered = passage.lower()
    others = [c.score for c in candidates if c.hit.chunk.id != lead.hit.chunk.id]
    top = hits[0] if hits else lead.hit
    rank = next((i for i, h in enumerate(hits) if h.chunk.id == lead.hit.chunk.id), len(hits))
    return np.array([
        lead.score,
        lead.cosine,
        lead.lexical,
        lead.grounding,
        best_match - lead.score,
        lead.score / best_match if best_match > 0 else 0.0,
        float(lead.score < LOW_SCORE),
        float(bool(question.focus and unknown_terms([stem(question.focus)]))),
        float(typed),
        _share({n for n in names if n.lower() not in lowered}, names),
        _share({n for n in numbers if n not in lowered}, numbers),
        float(rank),
        float(top.dense_rank == 1 and top.bm25_rank == 1),
        (max(others) / lead.score) if others and lead.score > 0 else 0.0,
        float(question.kind == "number"),
        float(question.kind == "date"),
        float(question.kind == "name"),
    ], dtype=np.float64)


def _share(part: Iterable, whole: Iterable) -> float:
    whole = set(whole)
    return len(set(part) & whole) / len(whole) if whole else 0.0
