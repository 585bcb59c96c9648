"""Progress bars with ETA on stderr: indexing a benchmark corpus, then asking the cases."""
from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from evals.runner import CaseProgress
from ingest.progress import IngestProgress


def _bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True)


class RichCaseProgress(CaseProgress):
    """One bar over the cases."""

    def __init__(self, console: Console, label: str = "asking"):
        self.bar = _bar(console)
        self.label = label
        self.task = None

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def start(self, total: int) -> None:
        self.task = self.bar.add_task(self.label, total=total)

    def advance(self, case_id: str) -> None:
        self.bar.advance(self.task)


class RichCorpusProgress(IngestProgress):
    """One bar over the documents of a benchmark corpus being indexed."""

    def __init__(self, console: Console, total: int, label: str = "indexing"):
        self.bar = _bar(console)
        self.task = self.bar.add_task(label, total=total)

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def file_done(self, result) -> None:
        self.bar.advance(self.task)
