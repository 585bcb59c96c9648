"""Public benchmark adapters: BEIR, SQuAD v1.1 JSON, CLAP NQ. `detect` picks one for a path."""
from __future__ import annotations

import json
from pathlib import Path

from evals.adapters import beir, clapnq, squad
from evals.adapters.base import Benchmark, BenchmarkError

__all__ = ["Benchmark", "BenchmarkError", "detect"]


def detect(target: Path) -> Benchmark | None:
    """The benchmark at target, or None when target is an eval-set JSONL file."""
    target = Path(target)
    if not target.exists():
        raise BenchmarkError(f"{target}: no such file or directory")
    if target.is_dir():
        if beir.looks_like(target):
            return beir.load(target)
        if clapnq.looks_like(target):
            return clapnq.load(target)
        if squad.looks_like(target):
            return squad.load(target)
        raise BenchmarkError(f"{target}: not a benchmark directory: expected BEIR ({', '.join(beir.FILES)}), "
                             "a SQuAD .json file, or CLAP NQ (clapnq_*_answerable.jsonl and "
                             "clapnq_*_unanswerable.jsonl)")
    if target.name == "corpus.jsonl" or target.name == "queries.jsonl":
        return beir.load(target.parent)
    if target.suffix == ".json":
        return squad.load(target)
    if target.suffix == ".jsonl" and (clapnq.looks_like(target) or _first_keys(target) >= {"input", "passages"}):
        return clapnq.load(target)
    return None


def _first_keys(path: Path) -> set[str]:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line in fh:
                if line.strip():
                    data = json.loads(line)
                    return set(data) if isinstance(data, dict) else set()
    except (OSError, ValueError):
        pass  # the eval-set loader reports what is wrong, with the line number
    return set()
