"""A Store's chunks: written with their embeddings, read back and searched by meaning.

A chunk carries the sha256 of its document's version and is visible only while that document's commit
record names the same sha256: every read here is given the committed map (source -> sha256) to filter by.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from vectorstore.errors import StoreUnavailable
from vectorstore.records import Chunk, DocumentRecord, Hit
from vectorstore.store.columns import from_meta, to_meta
from vectorstore.store.connection import PAGE, Connection

SOURCES_PER_CALL = 200  # documents whose chunks one filtered read asks for


def _chunk_meta(chunk: Chunk, sha256: str) -> dict:
    # Always every key: Chroma's upsert keeps a key it is not given. Page 0: the document has no pages.
    return {**to_meta(chunk, skip=("id", "text")), "sha256": sha256}


def _visible(meta: dict | None, committed: dict[str, str]) -> bool:
    """Is this chunk part of a committed document? A Chroma server can return a result whose metadata
    is None while another process deletes that chunk (seen under bench/soak_server.py): not visible."""
    return meta is not None and committed.get(meta["source"]) == meta["sha256"]


def _chunk_from(cid: str, text: str, meta: dict) -> Chunk:
    # A chunk written before pages were recorded has no page keys: no page.
    return from_meta(Chunk, meta, id=cid, text=text)


def _where_sources(sources: Sequence[str]) -> dict:
    return {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}


class Chunks:
    """Chunks in a namespace's chunks collection."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def write(self, chunks: Sequence[Chunk], embeddings: np.ndarray, shas: Sequence[str]) -> None:
        """Upsert chunks (shas[i] = the document version of chunks[i]), a PAGE at a time."""
        for begin in range(0, len(chunks), PAGE):
            part = chunks[begin:begin + PAGE]
            self._connection.chunks.upsert(
                ids=[c.id for c in part], documents=[c.text for c in part], embeddings=embeddings[begin:begin + PAGE],
                metadatas=[_chunk_meta(c, sha) for c, sha in zip(part, shas[begin:begin + PAGE])])

    def drop_older(self, replaced: Sequence[DocumentRecord]) -> None:
        """Delete the chunks of these documents' other versions."""
        for record in replaced:
            self._connection.chunks.delete(
                where={"$and": [{"source": record.source}, {"sha256": {"$ne": record.sha256}}]})

    def delete_source(self, source: str) -> None:
        self._connection.chunks.delete(where={"source": source})

    def orphans(self, committed: dict[str, str]) -> list[str]:
        """Ids of the chunks no committed document claims."""
        return [cid for cid, meta in self._iter_meta() if not _visible(meta, committed)]

    def delete(self, ids: Sequence[str]) -> None:
        for begin in range(0, len(ids), PAGE):
            self._connection.chunks.delete(ids=ids[begin:begin + PAGE])

    def _iter_meta(self) -> Iterator[tuple[str, dict]]:
        for offset in range(0, self._connection.chunks.count(), PAGE):
            got = self._connection.chunks.get(include=["metadatas"], limit=PAGE, offset=offset)
            yield from zip(got["ids"], got["metadatas"])

    def iterate(self, versions: dict[str, str] | None, committed: dict[str, str]) -> Iterator[Chunk]:
        """Every visible chunk, or every chunk of the given document versions (source -> sha256). A few documents
        are asked for by source (one call for up to SOURCES_PER_CALL of them), many by reading every chunk once."""
        wanted = committed if versions is None else versions
        if versions is None or len(versions) > max(len(committed) // 4, SOURCES_PER_CALL):
            yield from self._pages(None, wanted)
            return
        sources = list(versions)
        for begin in range(0, len(sources), SOURCES_PER_CALL):
            yield from self._pages(_where_sources(sources[begin:begin + SOURCES_PER_CALL]), wanted)

    def _pages(self, where: dict | None, wanted: dict[str, str]) -> Iterator[Chunk]:
        offset = 0
        while True:
            got = self._connection.chunks.get(where=where, include=["metadatas", "documents"], limit=PAGE,
                                              offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if _visible(meta, wanted):
                    yield _chunk_from(cid, text, meta)
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    def by_id(self, ids: Sequence[str], committed: Callable[[], dict[str, str]]) -> dict[str, Chunk]:
        """Visible chunks by id (`committed()` is asked after they are read)."""
        if not ids:
            return {}
        got = self._connection.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        visible = committed()
        return {cid: _chunk_from(cid, text, meta)
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
                if _visible(meta, visible)}

    def search(self, embedding: np.ndarray, k: int, sources: Sequence[str] | None, committed: dict[str, str],
               visible: int) -> list[Hit]:
        """Top-k chunks of the committed documents by cosine similarity, optionally only from some sources
        (`visible`: how many chunks they have)."""
        # Ask for a few extra: uncommitted chunks of an interrupted run are filtered out below. The
        # visible count comes with the committed map (no extra call); Chroma returns fewer if it has fewer.
        n = max(1, min(k + 8, visible + 8))
        got = self._query(dict(query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=n,
                               where=_where_sources(sources) if sources else None,
                               include=["metadatas", "documents", "distances"]))
        hits = []
        for cid, text, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                         got["distances"][0]):
            if not _visible(meta, committed):
                continue
            similarity = 1.0 - float(dist)
            hits.append(Hit(chunk=_chunk_from(cid, text, meta), score=similarity,
                            dense_rank=len(hits) + 1, dense_score=similarity))
            if len(hits) == k:
                break
        return hits

    def _query(self, query: dict) -> dict:
        from chromadb.errors import InternalError  # loaded already: the store is open

        try:
            return self._connection.chunks.query(**query)
        except InternalError:
            # A Chroma server can fail a query that meets a chunk another process is deleting ("Error
            # finding id", seen under bench/soak_server.py); asked again, it searches the index as it is now.
            try:
                return self._connection.chunks.query(**query)
            except InternalError as exc:
                raise StoreUnavailable(f"The Chroma server failed a search ({exc}): try again") from exc
