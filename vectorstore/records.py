"""The records that cross the store's boundary: plain frozen dataclasses, never Chroma's dicts."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Chunk:
    """One passage of a document, ready to embed and store."""

    id: str
    doc_id: str
    source: str
    title: str
    chunk_index: int
    start: int  # offsets into the document's cleaned text: clean_text[start:end] == text
    end: int
    text: str


@dataclass(frozen=True)
class DocumentRecord:
    """What the store holds about one indexed document (its commit record)."""

    doc_id: str
    source: str
    title: str
    sha256: str
    chunks: int
    mtime: float
    indexed_at: float
    text: str = ""  # the cleaned text, so a citation can be shown in its document

    def to_dict(self, with_text: bool = False) -> dict:
        data = asdict(self)
        if not with_text:
            data.pop("text")
        return data


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with how it scored."""

    chunk: Chunk
    score: float  # the fused score (or the dense similarity for a dense-only search)
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    bm25_rank: int | None = None
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_dict(self) -> dict:
        return {**asdict(self.chunk), "score": self.score, "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank, "dense_score": self.dense_score,
                "bm25_score": self.bm25_score}
