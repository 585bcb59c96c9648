"""A Store's generation and the caches it keeps true.

The documents collection holds a `__generation__` row whose id changes on every commit and removal. It is
read at most once per GENERATION_TTL seconds (a question reads it once, not at each of its ~10 steps) and
cached per process; a local store's cached id is trusted only while its sqlite files are unchanged (a stat,
not a Chroma call). The map of committed documents (source -> sha256) is listed once per generation; this
process's own commits and removals are applied to the map it holds, so it lists nothing after them.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vectorstore.records import DocumentRecord

if TYPE_CHECKING:
    from vectorstore.store.connection import Connection
    from vectorstore.store.documents import Documents

GENERATION_ID = "__generation__"  # bumped on every change, so caches know they are stale
# The generation id is read from Chroma at most once per this many seconds: a question reads it
# once, not at each of its ~10 steps. A commit by this process (any Store on the same path or
# server) is seen at once; one by another process within this time.
GENERATION_TTL = 5.0

# (store key) -> (generation, monotonic time it was read, disk mark): shared by every Store of this process.
_GENERATIONS: dict[str, tuple[str, float, tuple | None]] = {}
_GENERATIONS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Listing:
    """The committed documents as of one generation; replaced whole, never changed in place (a question in
    another thread may be reading the one before)."""

    committed: dict[str, str]  # source -> sha256
    generation: str  # the one it was listed at
    chunks: dict[str, int]  # source -> its chunks
    visible: int  # chunks of all of them

    @classmethod
    def of(cls, committed: dict[str, str], generation: str, chunks: dict[str, int]) -> Listing:
        return cls(committed, generation, chunks, sum(chunks.values()))


class Generations:
    """The generation of one namespace, as this Store knows it, and the committed map listed at it."""

    ttl = GENERATION_TTL

    def __init__(self, connection: Connection, documents: Documents):
        self._connection = connection
        self._documents = documents
        self._key = connection.key
        # A local store's sqlite file: another process's commit changes it, so a cached generation
        # is trusted only while it and its log are as they were when it was read.
        self._disk = connection.database
        self._listing: Listing | None = None
        # The generation this process's vector index is known to hold: set at open, by our own
        # writes and by a reopen. Any other value on disk was written by another process.
        # Read through this process's generation cache: an older value only costs one needless reopen.
        self.known = self.current()

    def current(self, fresh: bool = False) -> str:
        """An id that changes whenever a document is committed or removed (read at most every `ttl` s,
        unless `fresh`)."""
        mark = self._disk_mark()
        if not fresh:
            with _GENERATIONS_LOCK:
                cached = _GENERATIONS.get(self._key)
            if cached is not None and time.monotonic() - cached[1] < self.ttl and cached[2] == mark:
                return cached[0]
        got = self._connection.docs.get(ids=[GENERATION_ID], include=["metadatas"])
        generation = got["metadatas"][0]["generation"] if got["ids"] else "empty"
        self._remember(generation, mark)
        return generation

    def _disk_mark(self) -> tuple | None:
        """(mtime, size) of a local store's sqlite file and its write-ahead log; None for a server."""
        if self._disk is None:
            return None
        mark = []
        for file in (self._disk, self._disk.with_name(self._disk.name + "-wal")):
            try:
                st = file.stat()
                mark.append((st.st_mtime_ns, st.st_size))
            except OSError:
                mark.append(None)
        return tuple(mark)

    def _remember(self, generation: str, mark: tuple | None = None) -> None:
        """Cache the generation with the disk mark taken *before* it was read (a later write shows as a change)."""
        with _GENERATIONS_LOCK:
            _GENERATIONS[self._key] = (generation, time.monotonic(), mark)

    def forget(self) -> None:
        """Read the generation from Chroma at its next use."""
        with _GENERATIONS_LOCK:
            _GENERATIONS.pop(self._key, None)

    def new_question(self) -> None:
        """A question begins: on a server, read the generation again at its first use (a local store notices
        another process's commit by its files instead)."""
        if self._disk is None:
            self.forget()

    def reopened(self) -> None:
        """The client was replaced: list the documents again, and know the generation its index holds."""
        self._listing = None
        self.known = self.current(fresh=True)

    def committed_at(self) -> tuple[dict[str, str], str]:
        """source -> sha256 of every visible document, and the generation it was listed at (the map is the
        cached one: read it, do not change it)."""
        # The first look lists the documents without reading the generation first: the listing holds it.
        listing = self._listing
        if listing is None or self.current() != listing.generation:
            mark = self._disk_mark()
            records, generation = self._documents.listing()
            self._remember(generation, mark)
            listing = Listing.of({r.source: r.sha256 for r in records}, generation,
                                 {r.source: r.chunks for r in records})
            self._listing = listing
        return listing.committed, listing.generation

    @property
    def visible(self) -> int:
        """Chunks of the committed documents, as of the last listing."""
        return self._listing.visible if self._listing is not None else 0

    def base_for_change(self) -> Listing | None:
        """The committed map this process holds, if it is the store's current one (read fresh): our own
        change is then applied to it in place, and the next question lists nothing. One writer at a time
        (the write lock of a local store) makes that exact; anything else and the documents are listed again."""
        self.committed_at()
        listing = self._listing
        return listing if listing is not None and self.current(fresh=True) == listing.generation else None

    def bump(self, base: Listing | None = None, changes: dict[str, DocumentRecord | None] | None = None) -> None:
        """Write a new generation; `changes` (source -> its new record, None: removed) applied to `base`."""
        self.forget()
        generation = uuid.uuid4().hex
        self._connection.docs.upsert(ids=[GENERATION_ID], documents=[""], embeddings=[[1.0]],
                                     metadatas=[{"generation": generation, "at": time.time()}])
        self.known = generation
        self._listing = None
        if base is not None and changes is not None:
            committed, counts = dict(base.committed), dict(base.chunks)
            for source, record in changes.items():
                if record is None:
                    committed.pop(source, None)
                    counts.pop(source, None)
                else:
                    committed[source], counts[source] = record.sha256, record.chunks
            self._listing = Listing.of(committed, generation, counts)
        self._remember(generation, self._disk_mark())  # our own write: its mark is ours
