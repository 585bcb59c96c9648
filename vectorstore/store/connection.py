"""A Store's way to Chroma: the client, a namespace's two collections, and the locks around them.

A local store is a folder (a PersistentClient, one writer at a time by a file lock) and a Chroma server a
URL (an HttpClient, no lock). Every collection call goes through vectorstore.boundary, so a failure of the
store itself is StoreUnavailable whatever the client. The collections are replaced when the client is
(another process changed a local store, or its files were put back): read `chunks` and `docs` at each call.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from vectorstore.boundary import Guarded, Location, check_writable
from vectorstore.errors import MissingNamespace, StoreBusy, StoreError, StoreUnavailable, unreachable

DEFAULT_NAMESPACE = "assistant"  # the collections assistant_chunks and assistant_documents
CHUNKS = "chunks"
DOCUMENTS = "documents"
# The chunk collection's metadata key naming the embedding variant its vectors were made with
# (recorded when the store is created; a store made before it was recorded is fp32).
EMBEDDING_KEY = "embedding_precision"
UNRECORDED_EMBEDDING = "fp32"
PAGE = 2000  # rows per Chroma call: below sqlite's variable limit


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


class Connection:
    """A namespace's pair of collections (`{namespace}_chunks`, `{namespace}_documents`) on one client.

    Several namespaces share one local store or Chroma server. `create=False` opens only one that exists
    (MissingNamespace otherwise); `label` is what messages call it.
    """

    def __init__(self, client, namespace: str = DEFAULT_NAMESPACE, key: str | None = None,
                 write_lock: Path | None = None, create: bool = True, label: str | None = None,
                 precision: str = UNRECORDED_EMBEDDING, url: str | None = None):
        self._namespace = namespace
        self._create = create
        self._label = label or f"The namespace {namespace!r}"
        self.precision = precision  # what a new namespace records; attach() sets what this one holds
        self.key = f"{key or id(client)}|{namespace}"  # names this namespace's store among the process's
        self.write_lock = write_lock  # a local store's lock file; None on a server (or a home we may not write)
        # A local store's sqlite file: another process's commit changes it (see generation.py).
        self.database = Path(key) / "chroma.sqlite3" if write_lock is not None and key else None
        self.reopen_lock = threading.Lock()  # held while the client is replaced: several questions, one reopen
        # Every Chroma call goes through it: a failure of the store itself is StoreUnavailable, whatever the client.
        self.location = Location(url=url) if url else Location(path=Path(key) if key else None)
        self.attach(client)

    @classmethod
    def open(cls, path: Path | None = None, url: str | None = None, **names) -> Connection:
        """Connect to the store at path, or on the Chroma server at url (`names`: the namespace's, as __init__)."""
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

    def attach(self, client) -> None:
        """Use this client, and its collections, from now on."""
        from chromadb.errors import NotFoundError

        self._client = client
        chunks, docs = f"{self._namespace}_{CHUNKS}", f"{self._namespace}_{DOCUMENTS}"
        try:
            with self.location.guard():
                made = self._collections(client, chunks, docs)
        except NotFoundError as exc:
            raise MissingNamespace(f"{self._label} does not exist") from exc
        except StoreError:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"Cannot open the Chroma collections: {exc}") from exc
        self.chunks, self.docs = (Guarded(collection, self._label, self.location) for collection in made)
        self.location.opened = self.location.identity()
        self.precision = (made[0].metadata or {}).get(EMBEDDING_KEY, UNRECORDED_EMBEDDING)

    def _collections(self, client, chunks: str, docs: str) -> tuple:
        if self._create:  # the chunks first, as drop() deletes them last: a listed namespace has both
            # The metadata is recorded only when the collection is created: an existing one keeps its own.
            metadata = {"hnsw:space": "cosine", EMBEDDING_KEY: self.precision}
            return (client.get_or_create_collection(chunks, embedding_function=None, metadata=metadata),
                    client.get_or_create_collection(docs, embedding_function=None))
        return (client.get_collection(chunks, embedding_function=None),
                client.get_collection(docs, embedding_function=None))

    def reopen(self) -> None:
        """A new client on this local store, whose vector index is read afresh from disk (hold reopen_lock)."""
        self.attach(_reopened(self._client))

    @property
    def missing(self) -> bool:
        """Whether a call found this namespace deleted (by another process) since it was opened."""
        return self.chunks.missing or self.docs.missing

    def namespaces(self) -> list[str]:
        """Every namespace on this client, sorted: listed while its documents collection exists."""
        suffix = f"_{DOCUMENTS}"
        with self.location.guard():
            names = [collection.name for collection in self._client.list_collections()]
        return sorted(name[:-len(suffix)] for name in names if name.endswith(suffix))

    def drop(self) -> None:
        """Delete this namespace's collections: documents first (the atomic step), then chunks."""
        from chromadb.errors import NotFoundError

        for name in (DOCUMENTS, CHUNKS):
            try:
                with self.location.guard():
                    self._client.delete_collection(f"{self._namespace}_{name}")
            except NotFoundError:  # a drop that was interrupted, or another process's
                pass

    def follow_files(self, recreate: bool, then) -> None:
        """Reopen a local store whose database file was replaced (put back, or made anew by another process),
        and call `then()` after it, under reopen_lock; one whose folder is gone is StoreUnavailable, or with
        `recreate` (a writer: an ingest) made anew, as a new process would."""
        state = self.location.state()
        if state in ("server", "same"):
            return
        if state == "gone" and not recreate:
            raise self.location.gone()
        with self.reopen_lock:  # several questions at once: one reopen
            if self.location.state() in ("gone", "replaced"):
                check_writable(self.location.path)
                self.reopen()
                then()

    @contextmanager
    def writing(self):
        """Hold the write lock of a local store (yields True) or nothing on a server (False); StoreBusy if another
        process or thread holds it."""
        if self.write_lock is None:
            yield False
            return
        from filelock import FileLock, Timeout

        # One lock object per file in this process, re-entrant within a thread (an upload holds it around
        # its sweep and its ingest); another thread or process gets StoreBusy.
        lock = FileLock(self.write_lock, is_singleton=True)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            raise StoreBusy(f"Another ingest or remove is writing to the store at {self.write_lock.parent}: "
                            "try again when it has finished") from None
        try:
            yield True
        finally:
            lock.release()
