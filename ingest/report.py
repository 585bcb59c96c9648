"""The outcome of an ingest run, per file and in total."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

STATUSES = ("added", "updated", "unchanged", "removed", "failed")


@dataclass(frozen=True)
class FileResult:
    """What happened to one source."""

    source: str
    status: str  # one of STATUSES
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class IngestReport:
    """Per-file results and totals; to_dict() is the `ingest --json` contract."""

    results: tuple[FileResult, ...] = ()
    # The rest in the order of the JSON, after a list of sources for each status:
    skipped: Annotated[tuple[str, ...], Field(description="Files in the folders not ingested: not of a supported "
                                                          "type.")] = ()
    chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0
    swept: int = 0  # orphan chunks of an earlier interrupted run removed

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
