"""Aggregate per-case records into a run's metrics (definitions: docs/evals.md)."""
from __future__ import annotations

from collections.abc import Sequence

from evals.metrics import mean, percentile
from evals.scoring import RETRIEVAL_KS

STAGES = ("retrieve", "answer", "total")
RETRIEVAL = (*RETRIEVAL_KS, "mrr@10", "ndcg@10")
QUALITY = ("answer_accuracy", "answer_f1", "answer_em", "short_em", "short_f1", "answered_em", "answered_f1",
           "answered_short_em", "answered_short_f1", "short_shown", "citation_precision", "citation_validity",
           "faithfulness", "faithfulness_before_verification", "stand_in", "abstention_precision", "abstention_recall",
           "false_abstention", "multi_turn_accuracy")
# Shown in tables in this order; share metrics are in [0, 1], higher is better unless listed in LOWER_IS_BETTER.
ORDER = (*QUALITY, *RETRIEVAL, "answer_words", *(f"latency_{s}_{p}" for s in STAGES for p in ("p50", "p95")))
LOWER_IS_BETTER = frozenset({"false_abstention", "answer_words", "stand_in",
                             *(f"latency_{s}_{p}" for s in STAGES for p in ("p50", "p95"))})
COUNTS = ("cases", "answerable", "unanswerable", "multi_turn")


def aggregate(records: Sequence[dict]) -> dict:
    """Metrics of one system over its case records; a metric no case applies to is None."""
    qa = [r for r in records if r["kind"] != "retrieval"]
    answerable = [r for r in qa if r["kind"] == "answerable"]
    unanswerable = [r for r in qa if r["kind"] == "unanswerable"]
    answered = [r for r in records if "valid" in r]
    abstained = [r for r in qa if r["abstained"]]
    multi = [r for r in answerable if r.get("history")]
    cited = [r for r in answered if "citations_total" in r]
    total_citations = sum(r["citations_total"] for r in cited)
    metrics: dict = {
        "cases": len(records), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "multi_turn": len([r for r in records if r.get("history")]),
        "answer_accuracy": mean(float(r["correct"]) for r in answerable),
        "answer_f1": mean(r["f1"] for r in answerable),
        "citation_precision": (sum(r["citations_gold"] for r in cited) / total_citations
                               if total_citations else None),
        "citation_validity": mean(float(r["valid"]) for r in answered),
        "abstention_precision": (sum(r["kind"] == "unanswerable" for r in abstained) / len(abstained)
                                 if abstained else None),
        "abstention_recall": mean(float(r["abstained"]) for r in unanswerable),
        "false_abstention": mean(float(r["abstained"]) for r in answerable),
        "multi_turn_accuracy": mean(float(r["correct"]) for r in multi),
        "answer_words": mean(r["words"] for r in answered),
        "stand_in": mean(float(r["stood_in"]) for r in answered if "stood_in" in r),
        **faithfulness(answered),
        **exact_answers(answerable),
    }
    for name in RETRIEVAL:
        metrics[name] = mean(r[name] for r in records if name in r)
    for stage in STAGES:
        times = [r["timings_ms"][stage] for r in records if stage in r.get("timings_ms", {})]
        metrics[f"latency_{stage}_p50"] = percentile(times, 50)
        metrics[f"latency_{stage}_p95"] = percentile(times, 95)
    return metrics


def by_tag(records: Sequence[dict]) -> dict[str, dict]:
    """The metrics of each tag's cases alone (eval sets whose cases have "tags"), tags in sorted order."""
    tags = sorted({tag for r in records for tag in r.get("tags", ())})
    return {tag: aggregate([r for r in records if tag in r.get("tags", ())]) for tag in tags}


def exact_answers(answerable: Sequence[dict]) -> dict:
    """SQuAD exact match and F1 of the whole answer and of the short answer: over every answerable case
    (declined = 0) and over those answered (`answered_*`); the short ones are None for a system that
    never gave a short answer (the LLM and top-passage answerers)."""
    answered = [r for r in answerable if not r["abstained"]]
    shown = [r for r in answered if r.get("short")]
    out = {"answer_em": mean(r["em"] for r in answerable), "answered_em": mean(r["em"] for r in answered),
           "answered_f1": mean(r["f1"] for r in answered),
           "short_shown": len(shown) / len(answered) if answered else None}
    for name in ("short_em", "short_f1"):
        out[name] = mean(r[name] for r in answerable) if shown else None
        out[f"answered_{name}"] = mean(r[name] for r in answered) if shown else None
    return out


def faithfulness(answered: Sequence[dict]) -> dict:
    """Shown sentences their cited passages support, after and before verification removed any."""
    checked = [r for r in answered if "claims_shown" in r]
    shown = sum(r["claims_shown"] for r in checked)
    supported = sum(r["claims_supported"] for r in checked)
    generated = shown + sum(r["claims_removed"] for r in checked)
    return {"faithfulness": supported / shown if shown else None,
            "faithfulness_before_verification": supported / generated if generated else None}


def is_share(name: str) -> bool:
    """Metrics that are shares in [0, 1] (drawn on one chart, shown as 0.000)."""
    return name in QUALITY or name in RETRIEVAL
