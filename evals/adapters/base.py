"""What every benchmark adapter returns: cases plus a corpus to index in a store of its own."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evals.cases import Case, EvalSetError


class BenchmarkError(EvalSetError):
    """A benchmark directory or file is incomplete or not in the expected format."""


@dataclass(frozen=True)
class Benchmark:
    """A public benchmark read from disk: its cases and a corpus of (source, text, title) items."""

    name: str  # e.g. "scifact", used in cache and result names
    kind: str  # "beir", "squad" or "clapnq"
    cases: tuple[Case, ...]
    corpus: Callable[[], Iterator[tuple[str, str, str]]]
    documents: int
    files: tuple[Path, ...]  # the data files; their bytes key the cached store
    retrieval_only: bool = False
    default_top_k: int | None = None  # passages per question when --top-k is not given


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-blank line; BenchmarkError naming file:line on bad JSON."""
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BenchmarkError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(data, dict):
                raise BenchmarkError(f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
            yield number, data


def require(path: Path, number: int, data: dict, *keys: str) -> list:
    """The values of keys, or BenchmarkError naming file:line and the missing key."""
    missing = [k for k in keys if k not in data]
    if missing:
        raise BenchmarkError(f"{path}:{number}: missing key {', '.join(repr(k) for k in missing)}")
    return [data[k] for k in keys]


def missing_files(directory: Path, names: tuple[str, ...], kind: str) -> None:
    """Raise BenchmarkError saying which of the expected files a benchmark directory lacks."""
    absent = [n for n in names if not (directory / n).is_file()]
    if absent:
        raise BenchmarkError(f"{directory}: {kind} benchmark directory is missing {', '.join(absent)} "
                             f"(expected {', '.join(names)})")
