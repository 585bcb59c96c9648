"""A Store's document records: one commit record per document, and the text pages of a long one.

Both live in the documents collection beside the `__generation__` row. A commit record's id is its source;
it holds the title, sha256, chunk count, mtime and the cleaned text (or, for a text longer than TEXT_PAGE,
how many pages it is kept in). A page's id and metadata name its document and the version's sha256, so it
is seen only through the commit record that names that sha256.
"""
from __future__ import annotations

from collections.abc import Sequence

from vectorstore.errors import StoreError
from vectorstore.records import DocumentRecord
from vectorstore.store.columns import from_meta, to_meta
from vectorstore.store.connection import PAGE, Connection
from vectorstore.store.generation import GENERATION_ID

# Characters of a document's cleaned text per record: a longer text is stored in pages, written one per
# call. Chroma holds ~150 bytes a character while it writes one (a 50 MB text's commit: +560 MB in one
# record, +144 MB in pages of 1M, +83 MB of 250k, +43 MB of 100k), and each call costs ~0.1-0.2 s.
TEXT_PAGE = 250_000
PAGE_OF = "page_of"  # a text page's metadata key naming its document (commit records never have it)


def _record_meta(record: DocumentRecord, pages: int) -> dict:
    # "pages" is always written: Chroma's upsert keeps a metadata key it is not given, so a text that was
    # paged must say 0 once it is short. A record without the key (stores made before pages) holds its text.
    return {**to_meta(record, skip=("text",)), "pages": pages}


def _record_from(text: str | None, meta: dict) -> DocumentRecord:
    return from_meta(DocumentRecord, meta, text=text or "")


def _page_id(source: str, sha256: str, page: int) -> str:
    # Never a source: sources are absolute paths or callers' names, and none is a commit record's id here.
    return f"__text__/{sha256}/{page}/{source}"


def _page_count(text: str) -> int:
    """How many TEXT_PAGE pages a text is stored in: 0 for one short enough to stay in its record."""
    return 0 if len(text) <= TEXT_PAGE else -(-len(text) // TEXT_PAGE)


class Documents:
    """Commit records and text pages in a namespace's documents collection."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def listing(self) -> tuple[list[DocumentRecord], str]:
        """Every document record (without text) and the generation, a page per call (one for most stores)."""
        records, generation, offset = [], "empty", 0
        while True:
            got = self._connection.docs.get(include=["metadatas"], limit=PAGE, offset=offset)
            for i, meta in zip(got["ids"], got["metadatas"]):
                if i == GENERATION_ID:
                    generation = meta["generation"]
                elif PAGE_OF not in meta:  # a text page is part of its document's record
                    records.append(_record_from(None, meta))
            if len(got["ids"]) < PAGE:
                return sorted(records, key=lambda r: r.source), generation
            offset += PAGE

    def texts(self, sources: Sequence[str]) -> dict[str, DocumentRecord]:
        """Several documents with their cleaned texts, in one call: source -> record."""
        if not sources:
            return {}
        got = self._connection.docs.get(ids=list(sources), include=["metadatas", "documents"])
        return {i: _record_from(self._paged_text(text, meta), meta)
                for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def _paged_text(self, text: str | None, meta: dict) -> str | None:
        """A commit record's text: its own, or its pages' joined (one more call, for a long text only)."""
        if not meta.get("pages"):
            return text
        got = self._connection.docs.get(where={"$and": [{PAGE_OF: meta["source"]}, {"sha256": meta["sha256"]}]},
                                        include=["metadatas", "documents"])
        pages = sorted(zip((m["page"] for m in got["metadatas"]), got["documents"]))
        if len(pages) != meta["pages"]:  # never, unless the store was changed behind our back
            raise StoreError(f"{meta['source']}: {len(pages)} of its {meta['pages']} text pages are in the store; "
                             "ingest it again")
        return "".join(page for _, page in pages)

    def commit(self, records: Sequence[DocumentRecord]) -> None:
        """Upsert the commit records (one call: the atomic step), after a long text's pages, one per call."""
        pages = {r.source: _page_count(r.text) for r in records}
        for record in records:
            for n in range(pages[record.source]):  # a slice at a time: never a second copy of the whole text
                self._connection.docs.upsert(
                    ids=[_page_id(record.source, record.sha256, n)],
                    documents=[record.text[n * TEXT_PAGE:(n + 1) * TEXT_PAGE]], embeddings=[[1.0]],
                    metadatas=[{PAGE_OF: record.source, "sha256": record.sha256, "page": n}])
        self._connection.docs.upsert(
            ids=[r.source for r in records], documents=["" if pages[r.source] else r.text for r in records],
            embeddings=[[1.0]] * len(records), metadatas=[_record_meta(r, pages[r.source]) for r in records])

    def drop_older_pages(self, replaced: Sequence[DocumentRecord]) -> None:
        """Delete the pages of these documents' older versions, if they had any (what this misses, sweep takes)."""
        if replaced:
            self._connection.docs.delete(where={"$and": [{PAGE_OF: {"$in": [r.source for r in replaced]}},
                                                         {"sha256": {"$nin": [r.sha256 for r in replaced]}}]})

    def delete(self, source: str) -> None:
        """Delete a document's commit record (its pages: delete_pages)."""
        self._connection.docs.delete(ids=[source])

    def delete_pages(self, source: str) -> None:
        self._connection.docs.delete(where={PAGE_OF: source})

    def sweep_pages(self, committed: dict[str, str]) -> None:
        """Delete the text pages no committed document (source -> sha256) claims."""
        got = self._connection.docs.get(where={"page": {"$gte": 0}}, include=["metadatas"])
        pages = [i for i, meta in zip(got["ids"], got["metadatas"]) if committed.get(meta[PAGE_OF]) != meta["sha256"]]
        if pages:
            self._connection.docs.delete(ids=pages)
