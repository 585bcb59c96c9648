"""How an ingest run reports progress; the CLI and UI subclass it, the default is silent."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_listener: ContextVar[Callable[[str], None] | None] = ContextVar("read_progress", default=None)


class IngestProgress:
    """Callbacks for a long ingest; every method is optional to override."""

    def files(self, total: int) -> None:
        """The run will look at `total` files."""

    def reading(self, source: str, step: str) -> None:
        """A file being read says how far it is, e.g. step "OCR page 3/12" (called from the thread that reads)."""

    def file_started(self, source: str, chunks: int) -> None:
        """A file was read and queued to be embedded in `chunks` chunks (files embed in batches)."""

    def embedded(self, n: int) -> None:
        """`n` more chunks were embedded."""

    def file_done(self, result) -> None:
        """A file finished (a FileResult)."""


@contextmanager
def reporting(listener: Callable[[str], None] | None) -> Iterator[None]:
    """While inside, a reader's report(step) reaches listener (in this thread or context)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report(step: str) -> None:
    """A reader says how far it is in the file it reads ("OCR page 3/12"); nothing if no one listens."""
    listener = _listener.get()
    if listener is not None:
        listener(step)
