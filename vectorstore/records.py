"""The records that cross the store's boundary: plain frozen dataclasses, never Chroma's dicts."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, fields
from typing import Annotated

from pydantic import Field


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
    page: Annotated[int | None, Field(description="The page (slide, sheet) the passage starts on, from 1; null when "
                                                  "its document has none.")] = None
    page_breaks: Annotated[tuple[int, ...], Field(description="Offsets where the pages after `page` start inside the "
                                                              "passage.")] = ()
    page_kind: str = "page"  # what its document's pages are: "page", "slide", "sheet"
    ocr: bool = False  # some of its text was read by OCR

    def page_at(self, offset: int) -> int | None:
        """The page of a document offset inside this chunk (its first page for one before it)."""
        return None if self.page is None else self.page + bisect_right(self.page_breaks, offset)


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
    text: Annotated[str, Field(description="The cleaned text citation offsets point into.")] = ""
    page_starts: Annotated[tuple[int, ...], Field(description="Where each page starts in `text`: page n is "
                                                              "text[page_starts[n-1]:page_starts[n]].")] = ()
    page_kind: str = "page"  # what one page is called: "page", "slide", "sheet"
    ocr_pages: Annotated[tuple[int, ...], Field(description="The numbers of the pages read by OCR.")] = ()

    @property
    def page_count(self) -> int:
        """Its pages (slides, sheets); 0 when the format has none."""
        return len(self.page_starts)

    def page_at(self, offset: int) -> int | None:
        """The page that holds a text offset; None when the document has no pages."""
        # Page n starts at page_starts[n-1], the first at 0; a page without text starts where the next one
        # does, so the one found is the page that has the text.
        return max(bisect_right(self.page_starts, offset), 1) if self.page_starts else None

    def to_dict(self, with_text: bool = False) -> dict:
        """Its fields and page_count; the text and where its pages start only `with_text`."""
        # JSON's shape: lists, as a reply parsed back gives them.
        data = {**asdict(self), "page_count": self.page_count, "ocr_pages": list(self.ocr_pages),
                "page_starts": list(self.page_starts)}
        if not with_text:
            data.pop("text")
            data.pop("page_starts")
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
        return {**asdict(self.chunk), "page_breaks": list(self.chunk.page_breaks), "score": self.score, "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank, "dense_score": self.dense_score,
                "bm25_score": self.bm25_score}

    @classmethod
    def from_dict(cls, data: dict) -> Hit:
        """The Hit to_dict() gave (a saved answer's)."""
        chunk = {f.name: data[f.name] for f in fields(Chunk) if f.name in data}
        chunk["page_breaks"] = tuple(chunk.get("page_breaks") or ())
        return cls(Chunk(**chunk), data["score"], data.get("dense_rank"), data.get("bm25_rank"),
                   data.get("dense_score"), data.get("bm25_score"))
