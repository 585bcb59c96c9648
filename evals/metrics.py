"""Metric primitives: SQuAD normalisation, answer match and F1, ranked-retrieval scores, percentiles.

Every formula here is written out in docs/evals.md.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from assistant.answer import MARK

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | set("‘’“”–—…«»")


def strip_marks(text: str) -> str:
    """Answer text without its [n] citation marks."""
    return MARK.sub(" ", text or "")


def normalize(text: str) -> str:
    """SQuAD v1.1 normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in (text or "").lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(answer_text: str, acceptable: Iterable[str]) -> bool:
    """True when some acceptable answer, normalised, occurs in the normalised answer (on word bounds)."""
    haystack = f" {normalize(strip_marks(answer_text))} "
    return any(f" {needle} " in haystack for needle in (normalize(a) for a in acceptable) if needle)


def exact_match(answer_text: str, acceptable: Iterable[str]) -> float:
    """SQuAD exact match: 1.0 when the normalised answer (marks dropped) equals some normalised acceptable answer."""
    predicted = normalize(strip_marks(answer_text))
    return float(any(predicted == normalize(gold) for gold in acceptable))


def token_f1(answer_text: str, acceptable: Iterable[str]) -> float:
    """SQuAD token F1 of the answer against its best-matching acceptable answer."""
    predicted = normalize(strip_marks(answer_text)).split()
    best = 0.0
    for gold in acceptable:
        gold_tokens = normalize(gold).split()
        common = sum((Counter(predicted) & Counter(gold_tokens)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold_tokens)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def word_count(answer_text: str) -> int:
    """Words in the answer, citation marks excluded."""
    return len(strip_marks(answer_text).split())


def source_matches(source: str, gold: str) -> bool:
    """An indexed source matches a gold name when equal or when it ends with '/' + name."""
    return source == gold or source.endswith("/" + gold.lstrip("/"))


def gold_grade(source: str, grades: Mapping[str, int]) -> int:
    """Relevance grade of an indexed source (0 when it is no gold source)."""
    if source in grades:
        return grades[source]
    return max((g for name, g in grades.items() if source_matches(source, name)), default=0)


def ranked_documents(sources: Iterable[str]) -> list[str]:
    """Distinct sources in rank order: a document ranks where its best chunk ranks."""
    return list(dict.fromkeys(sources))


def hit_at(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """1 if a gold document is among the first k, else 0."""
    return float(any(gold_grade(s, grades) > 0 for s in ranked[:k]))


def recall_at(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """Share of the gold documents found among the first k."""
    relevant = [g for g in grades.values() if g > 0]
    if not relevant:
        return 0.0
    found = {name for name, g in grades.items() if g > 0 and any(source_matches(s, name) for s in ranked[:k])}
    return len(found) / len(relevant)


def mrr_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first gold document within the first k, else 0."""
    for rank, source in enumerate(ranked[:k], start=1):
        if gold_grade(source, grades) > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (trec_eval / BEIR): sum rel_i / log2(i + 1), over the ideal ordering."""
    dcg = sum(gold_grade(s, grades) / math.log2(i + 1) for i, s in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that exist; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
