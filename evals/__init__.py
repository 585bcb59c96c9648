"""Evals: eval sets and public benchmarks run through the public Assistant API, with reports and a gate.

    from evals import evaluate, write_all
    results = evaluate("evals/sets/news.jsonl", home="~/.local/share/docs-assistant")
    write_all(results, "evals/results/news")

The names below load on first use, not on `import evals`: `assistant eval` is registered from evals/cli.py
by every run of the CLI, which must stay light.
"""
from __future__ import annotations

from importlib import import_module

_HOMES = {"evals.adapters.base": ("Benchmark", "BenchmarkError"),
          "evals.cases": ("Case", "EvalSetError", "load_cases"),
          "evals.command": ("evaluate", "run_command", "write_all"),
          "evals.gate": ("Gate", "GateError", "check_gate", "load_gate"),
          "evals.runner": ("Run", "System", "run_cases")}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str):
    if name in _HOME_OF:
        return getattr(import_module(_HOME_OF[name]), name)
    raise AttributeError(f"module 'evals' has no attribute {name!r}")
