"""CI gate: evals/sets/news.jsonl through the runner on the sample corpus must meet evals/gate.json."""
from __future__ import annotations

from pathlib import Path

from evals.aggregate import aggregate
from evals.cases import load_cases
from evals.gate import check_gate, load_gate
from evals.report import is_miss
from evals.runner import System, run_cases

ROOT = Path(__file__).resolve().parents[1]


def test_news_set_meets_the_gate(sample_bot):
    gate = load_gate(ROOT / "evals" / "gate.json")
    cases = load_cases(ROOT / gate.set)
    run = run_cases(cases, [System(gate.system, sample_bot)])
    records = run.records[gate.system]
    metrics = aggregate(records)
    failures = check_gate(gate, metrics)
    misses = [f"  {r['id']}: {'declined' if r['abstained'] else r['answer'][:160]!r}" for r in records if is_miss(r)]
    assert not failures, "\n".join(["Eval gate failed on evals/sets/news.jsonl:", *failures,
                                     "Missed cases (run `assistant eval evals/sets/news.jsonl` for the report):",
                                     *misses])
