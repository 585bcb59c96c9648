"""The outcome of an ingest run, per file and in total."""
from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("added", "updated", "unchanged", "removed", "failed")


@dataclass(frozen=True)
class FileResult:
    """What happened to one source."""

    source: str
    status: str  # one of STATUSES
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True)
class IngestReport:
    """Per-file results and totals; to_dict() is the `ingest --json` contract."""

    results: tuple[FileResult, ...] = ()
    seconds: float = 0.0
    chunks: int = 0  # chunks embedded in this run
    swept: int = field(default=0)  # orphan chunks of an earlier interrupted run removed
    skipped: tuple[str, ...] = ()  # files in the given folders of a type that is not ingested

    def sources(self, status: str) -> list[str]:
        """Sources with the given status."""
        return [r.source for r in self.results if r.status == status]

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def to_dict(self) -> dict:
        data = {status: self.sources(status) for status in STATUSES if status != "failed"}
        data["failed"] = [{"source": r.source, "error": r.error} for r in self.failed]
        data["skipped"] = list(self.skipped)
        data["chunks"] = self.chunks
        data["seconds"] = round(self.seconds, 3)
        return data
