"""How an ingest run reports progress; the CLI and UI subclass it, the default is silent."""
from __future__ import annotations


class IngestProgress:
    """Callbacks for a long ingest; every method is optional to override."""

    def files(self, total: int) -> None:
        """The run will look at `total` files."""

    def file_started(self, source: str, chunks: int) -> None:
        """A file was read and queued to be embedded in `chunks` chunks (files embed in batches)."""

    def embedded(self, n: int) -> None:
        """`n` more chunks were embedded."""

    def file_done(self, result) -> None:
        """A file finished (a FileResult)."""
