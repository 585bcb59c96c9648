"""Evals: eval sets and public benchmarks run through the public Assistant API, with reports and a gate.

    from evals import evaluate, write_all
    results = evaluate("evals/sets/news.jsonl", home="~/.local/share/docs-assistant")
    write_all(results, "evals/results/news")
"""
from evals.adapters.base import Benchmark, BenchmarkError
from evals.cases import Case, EvalSetError, load_cases
from evals.command import evaluate, run_command, write_all
from evals.gate import Gate, GateError, check_gate, load_gate
from evals.runner import Run, System, run_cases

__all__ = ["Benchmark", "BenchmarkError", "Case", "EvalSetError", "Gate", "GateError", "Run", "System",
           "check_gate", "evaluate", "load_cases", "load_gate", "run_cases", "run_command", "write_all"]
