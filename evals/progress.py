"""Progress with ETA on stderr: indexing a benchmark corpus, then asking the cases.

On a terminal, rich bars; in a log (not a terminal), a line every 5% so long runs stay visible.
"""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from evals.runner import CaseProgress
from ingest.progress import IngestProgress

LOG_STEPS = 20  # lines per run when the output is a log


class _Tracker:
    """A bar on a terminal, else periodic 'label: n/total, elapsed, ETA' lines."""

    def __init__(self, console: Console, label: str):
        self.console = console
        self.label = label
        self.live = console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True)
        self.task = None
        self.total = 0
        self.done = 0
        self.began = time.monotonic()

    def __enter__(self):
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.bar.stop()

    def start(self, total: int) -> None:
        self.total, self.done, self.began = total, 0, time.monotonic()
        self.task = self.bar.add_task(self.label, total=total)

    def advance(self) -> None:
        self.done += 1
        self.bar.advance(self.task)
        if not self.live and self.total and (self.done % max(1, self.total // LOG_STEPS) == 0
                                             or self.done == self.total):
            elapsed = time.monotonic() - self.began
            eta = elapsed / self.done * (self.total - self.done)
            self.console.print(f"{self.label}: {self.done}/{self.total}, {elapsed:.0f} s, ETA {eta:.0f} s")


class RichCaseProgress(CaseProgress):
    """Progress over the cases."""

    def __init__(self, console: Console, label: str = "asking"):
        self.tracker = _Tracker(console, label)

    def __enter__(self):
        self.tracker.__enter__()
        return self

    def __exit__(self, *exc):
        self.tracker.__exit__(*exc)

    def start(self, total: int) -> None:
        self.tracker.start(total)

    def advance(self, case_id: str) -> None:
        self.tracker.advance()


class RichCorpusProgress(IngestProgress):
    """Progress over the documents of a benchmark corpus being indexed."""

    def __init__(self, console: Console, total: int, label: str = "indexing"):
        self.tracker = _Tracker(console, label)
        self.tracker.start(total)

    def __enter__(self):
        self.tracker.__enter__()
        return self

    def __exit__(self, *exc):
        self.tracker.__exit__(*exc)

    def file_done(self, result) -> None:
        self.tracker.advance()
