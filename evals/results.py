"""The results.json document of a run: what ran, how, and every system's metrics and case records."""
from __future__ import annotations

import random
import subprocess
from collections.abc import Sequence
from pathlib import Path

from evals.aggregate import aggregate, by_tag
from evals.cases import Case
from evals.compare import SCHEMA
from evals.runner import Run, System


def sample(cases: Sequence[Case], limit: int | None, seed: int) -> list[Case]:
    """A seeded random sample of `limit` cases, kept in file order (all cases when limit is None)."""
    if not limit or limit >= len(cases):
        return list(cases)
    chosen = sorted(random.Random(seed).sample(range(len(cases)), limit))
    return [cases[i] for i in chosen]


def git_commit(cwd: Path | None = None) -> str | None:
    """Short commit of the working tree the code runs from, if it is a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=cwd or Path(__file__).resolve().parents[1])
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def build_results(run: Run, systems: Sequence[System], *, name: str, kind: str, target: str, command: str,
                  started_at: str, limit: int | None = None, seed: int | None = None,
                  store: dict | None = None) -> dict:
    """Everything about a run, JSON-ready; `--compare` reads this back."""
    first = run.records[systems[0].name]
    return {
        "schema": SCHEMA, "name": name, "kind": kind, "target": target, "command": command,
        "started_at": started_at, "seconds": round(run.seconds, 2), "interrupted": run.interrupted,
        "planned": run.planned, "completed": len(first), "limit": limit, "seed": seed,
        "git_commit": git_commit(), "store": store or {},
        "systems": {s.name: {"description": s.description, "settings": s.settings, "top_k": s.top_k,
                             "metrics": aggregate(run.records[s.name]), "by_tag": by_tag(run.records[s.name]),
                             "cases": run.records[s.name]}
                    for s in systems},
    }
