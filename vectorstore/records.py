"""The records that cross the store's boundary: plain frozen dataclasses, never Chroma's dicts."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, fields


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
    page: int | None = None  # the page (slide, sheet) it starts on, 1-based; None: the document has no pages
    page_breaks: tuple[int, ...] = ()  # where pages page+1, page+2, ... start inside it (document offsets)
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
    text: str = ""  # the cleaned text, so a citation can be shown in its document
    page_starts: tuple[int, ...] = ()  # where each page starts in text (see ingest's RawText.pages)
    page_kind: str = "page"  # what one page is called: "page", "slide", "sheet"
    ocr_pages: tuple[int, ...] = ()  # numbers of the pages whose text was read by OCR

    @property
    def page_count(self) -> int:
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
