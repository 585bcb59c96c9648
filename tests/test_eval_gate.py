"""CI gate: every eval set of evals/gate.json, through the runner on its corpus, must meet its gate.

news.jsonl is asked of the sample articles; realdocs.jsonl of the real-documents corpus, which
evals/realdocs/build.py makes from Debian packages (conftest.py: once a session, under the session's temp dir)."""
from __future__ import annotations

from pathlib import Path

import pytest

from evals.aggregate import aggregate, by_tag
from evals.cases import load_cases
from evals.gate import check_gate, load_gates
from evals.report import is_miss
from evals.runner import System, run_cases

ROOT = Path(__file__).resolve().parents[1]
GATES = load_gates(ROOT / "evals" / "gate.json")
CORPUS_FIXTURES = {"data/sample": "sample_assistant", "evals.realdocs.build": "realdocs_bot"}


def test_every_gate_names_a_corpus_the_tests_can_build():
    assert [g.set for g in GATES] == ["evals/sets/news.jsonl", "evals/sets/realdocs.jsonl"]
    assert all(g.corpus in CORPUS_FIXTURES for g in GATES)


@pytest.mark.parametrize("gate", GATES, ids=[Path(g.set).stem for g in GATES])
def test_eval_set_meets_its_gate(gate, request):
    assistant = request.getfixturevalue(CORPUS_FIXTURES[gate.corpus])
    run = run_cases(load_cases(ROOT / gate.set), [System(gate.system, assistant)])
    records = run.records[gate.system]
    failures = check_gate(gate, aggregate(records), by_tag(records))
    misses = [f"  {r['id']}: {'declined' if r['abstained'] else r['answer'][:160]!r}" for r in records if is_miss(r)]
    assert not failures, "\n".join([f"Eval gate failed on {gate.set}:", *failures,
                                     f"Missed cases (run `assistant eval {gate.set}` for the report):", *misses])
