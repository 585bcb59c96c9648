"""The Chroma store: chunks with embeddings, plus one commit record per document.

A document becomes visible only when its record in the `documents` collection names
the sha256 its chunks carry. Chunks are written first and the record last, so a crash
mid-document leaves chunks no reader sees and the next sync sweeps them away.

A cleaned text longer than TEXT_PAGE characters is kept in page records beside its commit
record, written before it and named by the same sha256, so they too are seen only once
committed: one Chroma upsert of a 50 MB text held ~560 MB more, pages of TEXT_PAGE ~80 MB.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vectorstore.boundary import Guarded, Location, check_writable
from vectorstore.errors import MissingNamespace, StoreBusy, StoreError, StoreUnavailable, unreachable
from vectorstore.records import Chunk, DocumentRecord, Hit

DEFAULT_NAMESPACE = "assistant"  # the collections assistant_chunks and assistant_documents
CHUNKS = "chunks"
DOCUMENTS = "documents"
GENERATION_ID = "__generation__"  # bumped on every change, so caches know they are stale
# The chunk collection's metadata key naming the embedding variant its vectors were made with
# (recorded when the store is created; a store made before it was recorded is fp32).
EMBEDDING_KEY = "embedding_precision"
UNRECORDED_EMBEDDING = "fp32"
PAGE = 2000  # rows per Chroma call: below sqlite's variable limit
# Characters of a document's cleaned text per record: a longer text is stored in pages, written one per
# call. Chroma holds ~150 bytes a character while it writes one (a 50 MB text's commit: +560 MB in one
# record, +144 MB in pages of 1M, +83 MB of 250k, +43 MB of 100k), and each call costs ~0.1-0.2 s.
TEXT_PAGE = 250_000
PAGE_OF = "page_of"  # a text page's metadata key naming its document (commit records never have it)
SOURCES_PER_CALL = 200  # documents whose chunks one filtered read asks for
# The generation id is read from Chroma at most once per this many seconds: a question reads it
# once, not at each of its ~10 steps. A commit by this process (any Store on the same path or
# server) is seen at once; one by another process within this time.
GENERATION_TTL = 5.0

# (store key) -> (generation, monotonic time it was read): shared by every Store of this process.
_GENERATIONS: dict[str, tuple[str, float, tuple | None]] = {}
_GENERATIONS_LOCK = threading.Lock()


def _client_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def open_client(path: Path | None = None, url: str | None = None):
    """A Chroma client: HttpClient for a server URL, else a PersistentClient at path."""
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import chromadb

    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url if "://" in url else f"http://{url}")
        try:
            client = chromadb.HttpClient(host=parsed.hostname or "localhost", port=parsed.port or 8000,
                                         ssl=parsed.scheme == "https", settings=_client_settings())
            client.heartbeat()
        except Exception as exc:  # chromadb raises several types for a dead server
            raise unreachable(url) from exc
        return client
    assert path is not None
    path = Path(path)
    check_writable(path)
    try:
        return chromadb.PersistentClient(path=str(path), settings=_client_settings())
    except Exception as exc:
        raise StoreUnavailable(f"Cannot open the store at {path}: {exc}") from exc


def peek_embedding(path: Path, namespace: str = DEFAULT_NAMESPACE) -> str | None:
    """The embedding variant a local store records, read from its sqlite file without opening Chroma;
    None when there is no store yet or it cannot be read this way.

    Only a hint (to start loading the right model while chromadb imports): `Store.open` reads the
    record through Chroma and that is the one that counts.
    """
    import sqlite3

    db = Path(path) / "chroma.sqlite3"
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        found = conn.execute("SELECT c.id, m.str_value FROM collections c LEFT JOIN collection_metadata m "
                             "ON m.collection_id = c.id AND m.key = ? WHERE c.name = ?",
                             (EMBEDDING_KEY, f"{namespace}_{CHUNKS}")).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if found is None:
        return None
    return found[1] or UNRECORDED_EMBEDDING


def _reopened(client):
    """A new client on the same local store, with a vector index read afresh from disk."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    # chromadb shares one System (and its in-memory index) per path within a process; a new client
    # would get the same stale one. Take it out of the cache so the new client builds its own. The old
    # one is not stopped: a question in another thread may still be using it; it goes with its last user.
    identifier = client._identifier
    SharedSystemClient._identifier_to_system.pop(identifier, None)
    SharedSystemClient._decrement_refcount(identifier)
    return chromadb.PersistentClient(path=identifier, settings=_client_settings())


def _chunk_meta(chunk: Chunk, sha256: str) -> dict:
    return {"doc_id": chunk.doc_id, "source": chunk.source, "title": chunk.title,
            "chunk_index": chunk.chunk_index, "start": chunk.start, "end": chunk.end,
            "sha256": sha256, **_page_meta(chunk)}


def _page_meta(chunk: Chunk) -> dict:
    # Always every key: Chroma's upsert keeps a key it is not given. Page 0: the document has no pages.
    return {"page": chunk.page or 0, "page_breaks": _ints_out(chunk.page_breaks), "page_kind": chunk.page_kind,
            "ocr": chunk.ocr}


def _ints_out(numbers: Sequence[int]) -> str:
    # Chroma metadata holds no lists: numbers as one space-separated string.
    return " ".join(map(str, numbers))


def _ints_in(text: str | None) -> tuple[int, ...]:
    return tuple(map(int, text.split())) if text else ()


def _record_meta(record: DocumentRecord, pages: int) -> dict:
    # "pages" is always written: Chroma's upsert keeps a metadata key it is not given, so a text that was
    # paged must say 0 once it is short. A record without the key (stores made before pages) holds its text.
    return {"doc_id": record.doc_id, "source": record.source, "title": record.title, "sha256": record.sha256,
            "chunks": record.chunks, "mtime": record.mtime, "indexed_at": record.indexed_at, "pages": pages,
            "page_starts": _ints_out(record.page_starts), "page_kind": record.page_kind,
            "ocr_pages": _ints_out(record.ocr_pages)}


def _page_id(source: str, sha256: str, page: int) -> str:
    # Never a source: sources are absolute paths or callers' names, and none is a commit record's id here.
    return f"__text__/{sha256}/{page}/{source}"


def _page_count(text: str) -> int:
    """How many TEXT_PAGE pages a text is stored in: 0 for one short enough to stay in its record."""
    return 0 if len(text) <= TEXT_PAGE else -(-len(text) // TEXT_PAGE)


@dataclass(frozen=True)
class _Listing:
    """The committed documents as of one generation; replaced whole, never changed in place (a question in
    another thread may be reading the one before)."""

    committed: dict[str, str]  # source -> sha256
    generation: str  # the one it was listed at
    chunks: dict[str, int]  # source -> its chunks
    visible: int  # chunks of all of them

    @classmethod
    def of(cls, committed: dict[str, str], generation: str, chunks: dict[str, int]) -> _Listing:
        return cls(committed, generation, chunks, sum(chunks.values()))


def _visible(meta: dict | None, committed: dict[str, str]) -> bool:
    """Is this chunk part of a committed document? A Chroma server can return a result whose metadata
    is None while another process deletes that chunk (seen under bench/soak_server.py): not visible."""
    return meta is not None and committed.get(meta["source"]) == meta["sha256"]


def _chunk_from(cid: str, text: str, meta: dict) -> Chunk:
    # A chunk written before pages were recorded has no page keys: no page.
    return Chunk(id=cid, doc_id=meta["doc_id"], source=meta["source"], title=meta["title"],
                 chunk_index=int(meta["chunk_index"]), start=int(meta["start"]),
                 end=int(meta["end"]), text=text, page=int(meta.get("page") or 0) or None,
                 page_breaks=_ints_in(meta.get("page_breaks")), page_kind=meta.get("page_kind") or "page",
                 ocr=bool(meta.get("ocr")))


def _record_from(text: str | None, meta: dict) -> DocumentRecord:
    return DocumentRecord(doc_id=meta["doc_id"], source=meta["source"], title=meta["title"],
                          sha256=meta["sha256"], chunks=int(meta["chunks"]),
                          mtime=float(meta["mtime"]), indexed_at=float(meta["indexed_at"]),
                          text=text or "", page_starts=_ints_in(meta.get("page_starts")),
                          page_kind=meta.get("page_kind") or "page", ocr_pages=_ints_in(meta.get("ocr_pages")))


class Store:
    """Chunks and documents in Chroma; column-shaped results never leave this class.

    A namespace names the pair of collections (`{namespace}_chunks`, `{namespace}_documents`); several
    namespaces share one local store or Chroma server. `create=False` opens only one that exists
    (MissingNamespace otherwise); `label` is what messages call it.
    """

    generation_ttl = GENERATION_TTL

    def __init__(self, client, namespace: str = DEFAULT_NAMESPACE, key: str | None = None,
                 write_lock: Path | None = None, create: bool = True, label: str | None = None,
                 precision: str = UNRECORDED_EMBEDDING, url: str | None = None):
        self._namespace = namespace
        self._create = create
        self._label = label or f"The namespace {namespace!r}"
        self.precision = precision  # what a new namespace records; _attach sets what this one holds
        self._key = f"{key or id(client)}|{namespace}"
        self._write_lock = write_lock
        # A local store's sqlite files: another process's commit changes them, so a cached generation
        # is trusted only while they are as they were when it was read (a stat, not a Chroma call).
        self._disk = Path(key) / "chroma.sqlite3" if write_lock is not None and key else None
        self._reopen_lock = threading.Lock()
        # Every Chroma call goes through it: a failure of the store itself is StoreUnavailable, whatever the client.
        self._location = Location(url=url) if url else Location(path=Path(key) if key else None)
        self._attach(client)
        self._listing: _Listing | None = None
        # The generation this process's vector index is known to hold: set at open, by our own
        # writes and by a reopen. Any other value on disk was written by another process.
        # Read through this process's generation cache: an older value only costs one needless reopen.
        self._known_generation = self.generation()

    def _attach(self, client) -> None:
        from chromadb.errors import NotFoundError

        self._client = client
        chunks, docs = f"{self._namespace}_{CHUNKS}", f"{self._namespace}_{DOCUMENTS}"
        try:
            with self._location.guard():
                made = self._collections(client, chunks, docs)
        except NotFoundError as exc:
            raise MissingNamespace(f"{self._label} does not exist") from exc
        except StoreError:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"Cannot open the Chroma collections: {exc}") from exc
        self._chunks, self._docs = (Guarded(collection, self._label, self._location) for collection in made)
        self._location.opened = self._location.identity()
        self.precision = (made[0].metadata or {}).get(EMBEDDING_KEY, UNRECORDED_EMBEDDING)

    def _collections(self, client, chunks: str, docs: str) -> tuple:
        if self._create:  # the chunks first, as drop() deletes them last: a listed namespace has both
            # The metadata is recorded only when the collection is created: an existing one keeps its own.
            metadata = {"hnsw:space": "cosine", EMBEDDING_KEY: self.precision}
            return (client.get_or_create_collection(chunks, embedding_function=None, metadata=metadata),
                    client.get_or_create_collection(docs, embedding_function=None))
        return (client.get_collection(chunks, embedding_function=None),
                client.get_collection(docs, embedding_function=None))

    @property
    def missing(self) -> bool:
        """Whether a call found this namespace deleted (by another process) since it was opened."""
        return self._chunks.missing or self._docs.missing

    def namespaces(self) -> list[str]:
        """Every namespace in this store (the local store, or the whole Chroma server), sorted.

        A namespace is listed while its documents collection exists: drop() deletes that first."""
        suffix = f"_{DOCUMENTS}"
        with self._location.guard():
            names = [collection.name for collection in self._client.list_collections()]
        return sorted(name[:-len(suffix)] for name in names if name.endswith(suffix))

    def drop(self) -> None:
        """Delete this namespace: its documents collection first (the atomic step: it is no longer listed,
        and no document of it is visible), then its chunks. Hold writer() around it."""
        from chromadb.errors import NotFoundError

        for name in (DOCUMENTS, CHUNKS):
            try:
                with self._location.guard():
                    self._client.delete_collection(f"{self._namespace}_{name}")
            except NotFoundError:  # a drop that was interrupted, or another process's
                pass
        with _GENERATIONS_LOCK:
            _GENERATIONS.pop(self._key, None)

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
        generation = self.generation(fresh=fresh)
        if generation == self._known_generation:
            return
        with self._reopen_lock:  # several questions at once: one reopen
            if generation != self._known_generation:
                if self._write_lock is not None:  # a local store
                    self._attach(_reopened(self._client))
                self._known_generation = generation

    def _follow_files(self, recreate: bool = False) -> None:
        """A local store whose database file was replaced (put back, or made anew by another process) is reopened,
        so a running server is never stuck on deleted files; one whose folder is gone is StoreUnavailable, or
        with `recreate` (a writer: an ingest) made anew, as a new process would."""
        state = self._location.state()
        if state in ("server", "same"):
            return
        if state == "gone" and not recreate:
            raise self._location.gone()
        with self._reopen_lock:  # several questions at once: one reopen
            if self._location.state() in ("gone", "replaced"):
                check_writable(self._location.path)
                self._attach(_reopened(self._client))
                self._listing = None
                self._known_generation = self.generation(fresh=True)

    def check(self) -> None:
        """StoreUnavailable unless the store answers now (for /health): a local store's files are the ones it
        uses (reopened if they were put back) and its folder is writable; a read reaches Chroma, not a cache."""
        if self._location.path is not None:
            self._follow_files()
            check_writable(self._location.path)
        self.generation(fresh=True)

    @classmethod
    def open(cls, path: Path | None = None, url: str | None = None, namespace: str = DEFAULT_NAMESPACE,
             create: bool = True, label: str | None = None, precision: str = UNRECORDED_EMBEDDING) -> Store:
        """Open the store at path, or on the Chroma server at url, and a namespace in it (created if needed,
        unless not `create`).

        A namespace created here records `precision` (that of the model its vectors are made with); an
        existing one keeps what it recorded: read `store.precision`.
        """
        names = dict(namespace=namespace, create=create, label=label, precision=precision)
        if url:
            return cls(open_client(url=url), key=url, url=url, **names)
        path = Path(path)
        key = path.expanduser().resolve().as_posix()
        from filelock import FileLock

        # Two processes creating a new home at once race on Chroma's sqlite schema ("table collections
        # already exists", "database is locked"): whoever comes second waits until the first has made it.
        lock = FileLock(path.with_name(path.name + ".open.lock"), thread_local=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError:  # a home we may not write: open_client says so in one line
            return cls(open_client(path=path), key=key, **names)
        try:
            return cls(open_client(path=path), key=key, write_lock=path.with_name(path.name + ".write.lock"),
                       **names)
        finally:
            lock.release()

    @contextmanager
    def writer(self):
        """Hold the store's write lock for an ingest or remove; StoreBusy if another process or thread holds it.

        One writer at a time: a second ingest would sweep the first one's not yet committed chunks.
        A Chroma server has no such lock: there, run one writer at a time yourself.
        """
        if self._write_lock is None:
            yield
            return
        from filelock import FileLock, Timeout

        # One lock object per file in this process, re-entrant within a thread (an upload holds it around
        # its sweep and its ingest); another thread or process gets StoreBusy.
        lock = FileLock(self._write_lock, is_singleton=True)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            raise StoreBusy(f"Another ingest or remove is writing to the store at {self._write_lock.parent}: "
                            "try again when it has finished") from None
        try:
            self._follow_files(recreate=True)
            self._catch_up(fresh=True)  # write on top of what the last writer left, never over it
            yield
        finally:
            lock.release()

    # ---- writing -------------------------------------------------------------------
    def write_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray, shas: Sequence[str]) -> None:
        """Upsert chunks (shas[i] = the document version of chunks[i]); invisible until committed."""
        for begin in range(0, len(chunks), PAGE):
            part = chunks[begin:begin + PAGE]
            self._chunks.upsert(ids=[c.id for c in part], documents=[c.text for c in part],
                                embeddings=embeddings[begin:begin + PAGE],
                                metadatas=[_chunk_meta(c, sha) for c, sha in zip(part, shas[begin:begin + PAGE])])

    def commit_documents(self, records: Sequence[DocumentRecord]) -> None:
        """Make document versions visible (one upsert: the atomic step), then drop stale chunks and pages.

        A long text's pages are written first, one per call, named by the version's sha256: like its
        chunks, no reader sees them before the commit record that names that sha256."""
        if not records:
            return
        base = self._base_for_change()
        replaced = [r for r in records if r.source in self.committed()]
        pages = {r.source: _page_count(r.text) for r in records}
        for record in records:
            for n in range(pages[record.source]):  # a slice at a time: never a second copy of the whole text
                self._docs.upsert(ids=[_page_id(record.source, record.sha256, n)],
                                  documents=[record.text[n * TEXT_PAGE:(n + 1) * TEXT_PAGE]], embeddings=[[1.0]],
                                  metadatas=[{PAGE_OF: record.source, "sha256": record.sha256, "page": n}])
        self._docs.upsert(ids=[r.source for r in records],
                          documents=["" if pages[r.source] else r.text for r in records],
                          embeddings=[[1.0]] * len(records), metadatas=[_record_meta(r, pages[r.source]) for r in records])
        self._bump_generation(base, {r.source: r for r in records})
        for record in replaced:  # a new document has no older chunks to drop
            self._chunks.delete(where={"$and": [{"source": record.source}, {"sha256": {"$ne": record.sha256}}]})
        if replaced:  # the older versions' pages, if they had any (what this misses, sweep() takes)
            self._docs.delete(where={"$and": [{PAGE_OF: {"$in": [r.source for r in replaced]}},
                                              {"sha256": {"$nin": [r.sha256 for r in replaced]}}]})

    def delete_source(self, source: str) -> None:
        """Remove a document: its record first (the atomic step), then its chunks."""
        base = self._base_for_change()
        self._docs.delete(ids=[source])
        self._bump_generation(base, {source: None})
        self._chunks.delete(where={"source": source})
        self._docs.delete(where={PAGE_OF: source})

    def orphans(self) -> list[str]:
        """Ids of the chunks no committed document claims (left by an interrupted run until a sweep)."""
        committed = self.committed()
        return [cid for cid, meta in self._iter_chunk_meta() if not _visible(meta, committed)]

    def sweep(self) -> int:
        """Delete chunks and text pages no committed document claims (left by an interrupted run); the
        number of chunks deleted."""
        orphans = self.orphans()
        for begin in range(0, len(orphans), PAGE):
            self._chunks.delete(ids=orphans[begin:begin + PAGE])
        committed = self.committed()
        got = self._docs.get(where={"page": {"$gte": 0}}, include=["metadatas"])
        pages = [i for i, meta in zip(got["ids"], got["metadatas"]) if committed.get(meta[PAGE_OF]) != meta["sha256"]]
        if pages:
            self._docs.delete(ids=pages)
        return len(orphans)

    def _base_for_change(self) -> _Listing | None:
        """The committed map this process holds, if it is the store's current one (read fresh): our own
        change is then applied to it in place, and the next question lists nothing. One writer at a time
        (the write lock of a local store) makes that exact; anything else and the documents are listed again."""
        self.committed()
        listing = self._listing
        return listing if listing is not None and self.generation(fresh=True) == listing.generation else None

    def _bump_generation(self, base: _Listing | None = None,
                         changes: dict[str, DocumentRecord | None] | None = None) -> None:
        with _GENERATIONS_LOCK:
            _GENERATIONS.pop(self._key, None)
        generation = uuid.uuid4().hex
        self._docs.upsert(ids=[GENERATION_ID], documents=[""], embeddings=[[1.0]],
                          metadatas=[{"generation": generation, "at": time.time()}])
        self._known_generation = generation
        self._listing = None
        if base is not None and changes is not None:
            committed, counts = dict(base.committed), dict(base.chunks)
            for source, record in changes.items():
                if record is None:
                    committed.pop(source, None)
                    counts.pop(source, None)
                else:
                    committed[source], counts[source] = record.sha256, record.chunks
            self._listing = _Listing.of(committed, generation, counts)
        self._remember(generation, self._disk_mark())  # our own write: its mark is ours

    # ---- reading -------------------------------------------------------------------
    def new_question(self) -> None:
        """A question begins. On a Chroma server (or a store this process may not write) the generation is
        read again at its first use, once, so a replica answers its next question from another's commit;
        a local store notices one by its files instead (`_disk_mark`), with no call, and one whose files were
        deleted under us is StoreUnavailable now, not an empty listing ("nothing indexed")."""
        if self._location.path is not None:
            self._follow_files()
        if self._disk is None:
            with _GENERATIONS_LOCK:
                _GENERATIONS.pop(self._key, None)

    def generation(self, fresh: bool = False) -> str:
        """An id that changes whenever a document is committed or removed (read at most every GENERATION_TTL s,
        unless `fresh`)."""
        mark = self._disk_mark()
        if not fresh:
            with _GENERATIONS_LOCK:
                cached = _GENERATIONS.get(self._key)
            if cached is not None and time.monotonic() - cached[1] < self.generation_ttl and cached[2] == mark:
                return cached[0]
        got = self._docs.get(ids=[GENERATION_ID], include=["metadatas"])
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

    def committed(self) -> dict[str, str]:
        """source -> sha256 of every visible document (cached per generation)."""
        return self.committed_at()[0]

    def committed_at(self) -> tuple[dict[str, str], str]:
        """committed() and the generation it was listed at (the map is the cached one: read it, do not change it)."""
        # The first look lists the documents without reading the generation first: the listing holds it.
        listing = self._listing
        if listing is None or self.generation() != listing.generation:
            mark = self._disk_mark()
            records, generation = self._list_documents()
            self._remember(generation, mark)
            listing = _Listing.of({r.source: r.sha256 for r in records}, generation,
                                  {r.source: r.chunks for r in records})
            self._listing = listing
        return listing.committed, listing.generation

    @property
    def _visible_chunks(self) -> int:
        """Chunks of the committed documents, as of the last listing."""
        return self._listing.visible if self._listing is not None else 0

    def _remember(self, generation: str, mark: tuple | None = None) -> None:
        """Cache the generation with the disk mark taken *before* it was read (a later write shows as a change)."""
        with _GENERATIONS_LOCK:
            _GENERATIONS[self._key] = (generation, time.monotonic(), mark)

    def _list_documents(self) -> tuple[list[DocumentRecord], str]:
        """Every document record (without text) and the generation, a page per call (one for most stores)."""
        records, generation, offset = [], "empty", 0
        while True:
            got = self._docs.get(include=["metadatas"], limit=PAGE, offset=offset)
            for i, meta in zip(got["ids"], got["metadatas"]):
                if i == GENERATION_ID:
                    generation = meta["generation"]
                elif PAGE_OF not in meta:  # a text page is part of its document's record
                    records.append(_record_from(None, meta))
            if len(got["ids"]) < PAGE:
                return sorted(records, key=lambda r: r.source), generation
            offset += PAGE

    def documents_text(self, sources: Sequence[str]) -> dict[str, DocumentRecord]:
        """Several documents with their cleaned texts, in one call: source -> record."""
        if not sources:
            return {}
        got = self._docs.get(ids=list(sources), include=["metadatas", "documents"])
        return {i: _record_from(self._paged_text(text, meta), meta)
                for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def documents(self) -> list[DocumentRecord]:
        """Every indexed document, without its text, sorted by source."""
        return self._list_documents()[0]

    def document(self, source: str) -> DocumentRecord | None:
        """One document with its cleaned text, or None."""
        return self.documents_text([source]).get(source)

    def _paged_text(self, text: str | None, meta: dict) -> str | None:
        """A commit record's text: its own, or its pages' joined (one more call, for a long text only)."""
        if not meta.get("pages"):
            return text
        got = self._docs.get(where={"$and": [{PAGE_OF: meta["source"]}, {"sha256": meta["sha256"]}]},
                             include=["metadatas", "documents"])
        pages = sorted(zip((m["page"] for m in got["metadatas"]), got["documents"]))
        if len(pages) != meta["pages"]:  # never, unless the store was changed behind our back
            raise StoreError(f"{meta['source']}: {len(pages)} of its {meta['pages']} text pages are in the store; "
                             "ingest it again")
        return "".join(page for _, page in pages)

    def count(self) -> int:
        """Number of visible chunks."""
        return sum(r.chunks for r in self.documents())

    def _iter_chunk_meta(self) -> Iterator[tuple[str, dict]]:
        for offset in range(0, self._chunks.count(), PAGE):
            got = self._chunks.get(include=["metadatas"], limit=PAGE, offset=offset)
            yield from zip(got["ids"], got["metadatas"])

    def iter_chunks(self, versions: dict[str, str] | None = None) -> Iterator[Chunk]:
        """Every visible chunk, or every chunk of the given document versions (source -> sha256): for the
        lexical index, which reads only the documents that changed. A few documents are asked for by
        source (one call for up to SOURCES_PER_CALL of them), many by reading every chunk once."""
        wanted = self.committed() if versions is None else versions
        if versions is None or len(versions) > max(len(self.committed()) // 4, SOURCES_PER_CALL):
            yield from self._chunk_pages(None, wanted)
            return
        sources = list(versions)
        for begin in range(0, len(sources), SOURCES_PER_CALL):
            part = sources[begin:begin + SOURCES_PER_CALL]
            yield from self._chunk_pages({"source": part[0]} if len(part) == 1 else {"source": {"$in": part}}, wanted)

    def _chunk_pages(self, where: dict | None, wanted: dict[str, str]) -> Iterator[Chunk]:
        offset = 0
        while True:
            got = self._chunks.get(where=where, include=["metadatas", "documents"], limit=PAGE, offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if _visible(meta, wanted):
                    yield _chunk_from(cid, text, meta)
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Visible chunks by id."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["metadatas", "documents"])
        committed = self.committed()
        return {cid: _chunk_from(cid, text, meta)
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
                if _visible(meta, committed)}

    def dense_search(self, embedding: np.ndarray, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        """Top-k visible chunks by cosine similarity, optionally only from some sources."""
        self._catch_up()
        committed = self.committed()
        if not committed:
            return []
        where = None
        if sources:
            where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        # Ask for a few extra: uncommitted chunks of an interrupted run are filtered out below. The
        # visible count comes with the committed map (no extra call); Chroma returns fewer if it has fewer.
        n = max(1, min(k + 8, self._visible_chunks + 8))
        query = dict(query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=n, where=where,
                     include=["metadatas", "documents", "distances"])
        from chromadb.errors import InternalError  # loaded already: the store is open

        try:
            got = self._chunks.query(**query)
        except InternalError:
            # A Chroma server can fail a query that meets a chunk another process is deleting ("Error
            # finding id", seen under bench/soak_server.py); asked again, it searches the index as it is now.
            try:
                got = self._chunks.query(**query)
            except InternalError as exc:
                raise StoreUnavailable(f"The Chroma server failed a search ({exc}): try again") from exc
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
