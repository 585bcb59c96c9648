"""`Store`, the one class callers use: it puts the store's parts together and keeps the order of their steps.

The parts: `connection` (the client, the collections, the locks), `generation` (the id every change bumps,
the cached generation and committed map), `documents` (commit records and text pages), `chunks` (chunk
writes, reads and search). Column-shaped results never leave the package.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from vectorstore.boundary import check_writable
from vectorstore.records import Chunk, DocumentRecord, Hit
from vectorstore.store.chunks import Chunks
from vectorstore.store.connection import DEFAULT_NAMESPACE, UNRECORDED_EMBEDDING, Connection
from vectorstore.store.documents import Documents
from vectorstore.store.generation import Generations


class Store:
    """Chunks and documents in one namespace of a local store or a Chroma server (open it with `Store.open`)."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._documents = Documents(connection)
        self._chunks = Chunks(connection)
        self._generations = Generations(connection, self._documents)

    @classmethod
    def open(cls, path: Path | None = None, url: str | None = None, namespace: str = DEFAULT_NAMESPACE,
             create: bool = True, label: str | None = None, precision: str = UNRECORDED_EMBEDDING) -> Store:
        """Open the store at path, or on the Chroma server at url, and a namespace in it (created if needed,
        unless not `create`; MissingNamespace if it does not exist). `label` is what messages call it.

        A namespace created here records `precision` (that of the model its vectors are made with); an
        existing one keeps what it recorded: read `store.precision`.
        """
        return cls(Connection.open(path, url, namespace=namespace, create=create, label=label, precision=precision))

    @property
    def precision(self) -> str:
        """The embedding variant this namespace's vectors were made with."""
        return self._connection.precision

    @property
    def missing(self) -> bool:
        """Whether a call found this namespace deleted (by another process) since it was opened."""
        return self._connection.missing

    def namespaces(self) -> list[str]:
        """Every namespace in this store (the local store, or the whole Chroma server), sorted.

        A namespace is listed while its documents collection exists: drop() deletes that first."""
        return self._connection.namespaces()

    def drop(self) -> None:
        """Delete this namespace: its documents collection first (the atomic step: it is no longer listed,
        and no document of it is visible), then its chunks. Hold writer() around it."""
        self._connection.drop()
        self._generations.forget()

    def _catch_up(self, fresh: bool = False) -> None:
        """Reopen a local store that another process wrote to since we last looked.

        Chroma's embedded client keeps its vector index in memory and never reloads it, so without
        this a running `serve` finds another process's new chunks by keyword only (dense_rank None),
        and its own next write could save its stale index over theirs. A fresh client replays what
        is on disk. A Chroma server needs none of this: every client sees the same index.
        Before a search the generation may be the one read within GENERATION_TTL, but only while a
        local store's sqlite files are unchanged, so another process's commit is seen on the next
        question; a writer reads it `fresh`.
        """
        self._follow_files()
        generation = self._generations.current(fresh=fresh)
        if generation == self._generations.known:
            return
        with self._connection.reopen_lock:  # several questions at once: one reopen
            if generation != self._generations.known:
                if self._connection.write_lock is not None:  # a local store
                    self._connection.reopen()
                self._generations.known = generation

    def _follow_files(self, recreate: bool = False) -> None:
        """A local store whose database file was replaced is reopened (and its documents listed again), so a
        running server is never stuck on deleted files; see Connection.follow_files."""
        self._connection.follow_files(recreate, then=self._generations.reopened)

    def check(self) -> None:
        """StoreUnavailable unless the store answers now (for /health): a local store's files are the ones it
        uses (reopened if they were put back) and its folder is writable; a read reaches Chroma, not a cache."""
        if self._connection.location.path is not None:
            self._follow_files()
            check_writable(self._connection.location.path)
        self._generations.current(fresh=True)

    @contextmanager
    def writer(self):
        """Hold the store's write lock for an ingest or remove; StoreBusy if another process or thread holds it.

        One writer at a time: a second ingest would sweep the first one's not yet committed chunks.
        A Chroma server has no such lock: there, run one writer at a time yourself.
        """
        with self._connection.writing() as locked:
            if locked:
                self._follow_files(recreate=True)
                self._catch_up(fresh=True)  # write on top of what the last writer left, never over it
            yield

    # ---- writing -------------------------------------------------------------------
    def write_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray, shas: Sequence[str]) -> None:
        """Upsert chunks (shas[i] = the document version of chunks[i]); invisible until committed."""
        self._chunks.write(chunks, embeddings, shas)

    def commit_documents(self, records: Sequence[DocumentRecord]) -> None:
        """Make document versions visible (one upsert: the atomic step), then drop stale chunks and pages.

        A long text's pages are written first, one per call, named by the version's sha256: like its
        chunks, no reader sees them before the commit record that names that sha256."""
        if not records:
            return
        base = self._generations.base_for_change()
        replaced = [r for r in records if r.source in self.committed()]
        self._documents.commit(records)
        self._generations.bump(base, {r.source: r for r in records})
        self._chunks.drop_older(replaced)  # a new document has no older chunks to drop
        self._documents.drop_older_pages(replaced)

    def delete_source(self, source: str) -> None:
        """Remove a document: its record first (the atomic step), then its chunks."""
        base = self._generations.base_for_change()
        self._documents.delete(source)
        self._generations.bump(base, {source: None})
        self._chunks.delete_source(source)
        self._documents.delete_pages(source)

    def orphans(self) -> list[str]:
        """Ids of the chunks no committed document claims (left by an interrupted run until a sweep)."""
        return self._chunks.orphans(self.committed())

    def sweep(self) -> int:
        """Delete chunks and text pages no committed document claims (left by an interrupted run); the
        number of chunks deleted."""
        orphans = self.orphans()
        self._chunks.delete(orphans)
        self._documents.sweep_pages(self.committed())
        return len(orphans)

    # ---- reading -------------------------------------------------------------------
    def new_question(self) -> None:
        """A question begins. On a Chroma server (or a store this process may not write) the generation is
        read again at its first use, once, so a replica answers its next question from another's commit;
        a local store notices one by its files instead, with no call, and one whose files were deleted
        under us is StoreUnavailable now, not an empty listing ("nothing indexed")."""
        if self._connection.location.path is not None:
            self._follow_files()
        self._generations.new_question()

    def generation(self, fresh: bool = False) -> str:
        """An id that changes whenever a document is committed or removed (read at most every GENERATION_TTL s,
        unless `fresh`)."""
        return self._generations.current(fresh=fresh)

    def committed(self) -> dict[str, str]:
        """source -> sha256 of every visible document (cached per generation)."""
        return self.committed_at()[0]

    def committed_at(self) -> tuple[dict[str, str], str]:
        """committed() and the generation it was listed at (the map is the cached one: read it, do not change it)."""
        return self._generations.committed_at()

    def documents_text(self, sources: Sequence[str]) -> dict[str, DocumentRecord]:
        """Several documents with their cleaned texts, in one call: source -> record."""
        return self._documents.texts(sources)

    def documents(self) -> list[DocumentRecord]:
        """Every indexed document, without its text, sorted by source."""
        return self._documents.listing()[0]

    def document(self, source: str) -> DocumentRecord | None:
        """One document with its cleaned text, or None."""
        return self.documents_text([source]).get(source)

    def count(self) -> int:
        """Number of visible chunks."""
        return sum(r.chunks for r in self.documents())

    def iter_chunks(self, versions: dict[str, str] | None = None) -> Iterator[Chunk]:
        """Every visible chunk, or every chunk of the given document versions (source -> sha256): for the
        lexical index, which reads only the documents that changed."""
        yield from self._chunks.iterate(versions, self.committed())

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Visible chunks by id."""
        return self._chunks.by_id(ids, self.committed)

    def dense_search(self, embedding: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k visible chunks by cosine similarity, optionally only from some sources."""
        self._catch_up()
        committed = self.committed()
        if not committed:
            return []
        return self._chunks.search(embedding, k, sources, committed, self._generations.visible)
