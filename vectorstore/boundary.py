"""The one place chromadb's errors are read, whatever the client (a local store or a Chroma server).

A failure of the store itself (its files deleted, read-only, corrupt or full; the server gone) becomes
StoreUnavailable, one line naming the store; a namespace deleted under us, MissingNamespace. Anything else
(a bug, a bad argument) is raised as it is: only what says the store is broken is translated.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vectorstore.errors import MissingNamespace, StoreError, StoreUnavailable, unreachable

# sqlite's own words (chromadb passes them on) for a store whose files are gone, read-only, corrupt or full.
BROKEN = ("attempt to write a readonly database", "no such table", "disk I/O error", "database disk image is malformed",
          "unable to open database file", "file is not a database", "database or disk is full")
DATABASE = "chroma.sqlite3"  # a local store's database file, in its folder


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """exc and the exceptions it came from."""
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def lost_connection(exc: BaseException) -> bool:
    """Is this a connection failure (e.g. the Chroma server stopped after we connected)?"""
    import httpx

    return any(isinstance(seen, (httpx.TransportError, ConnectionError)) for seen in _chain(exc))


def broken(exc: BaseException) -> str | None:
    """Why the store itself failed, if exc (or an exception it came from) says so: an OS error on its files, or
    one of sqlite's BROKEN errors in chromadb's or sqlite's own exception. None for anything else."""
    import sqlite3

    from chromadb.errors import ChromaError

    for seen in _chain(exc):
        if isinstance(seen, OSError):
            return (seen.strerror or type(seen).__name__).lower()
        if isinstance(seen, (ChromaError, sqlite3.Error)):
            text = str(seen).lower()
            reason = next((words for words in BROKEN if words.lower() in text), None)
            if reason:
                return reason
    return None


def check_writable(path: Path) -> None:
    """StoreUnavailable unless a file can be made in the store folder (made if missing)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{uuid.uuid4().hex}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else type(exc).__name__
        raise StoreUnavailable(f"The store directory {path} is not writable ({reason}): "
                               "choose another with --home or ASSISTANT_HOME") from exc


class Location:
    """Where a store lives, a Chroma server's URL or a local folder, and what its failures are called.

    A local store remembers which database file it opened (device and inode): a folder deleted under it
    is `gone`, one put back or made anew by another process is `replaced`."""

    def __init__(self, url: str | None = None, path: Path | None = None):
        self.url, self.path = url, path
        self.opened: tuple[int, int] | None = None  # set by the store each time it attaches a client

    def identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = (self.path / DATABASE).stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def state(self) -> str:
        """"server", "same", "gone" (no database file) or "replaced" (another one than was opened)."""
        if self.path is None:
            return "server"
        now = self.identity()
        return "gone" if now is None else "same" if now == self.opened else "replaced"

    def gone(self) -> StoreUnavailable:
        return StoreUnavailable(f"The store at {self.path} was deleted or replaced while in use; restore it, "
                                "or ingest again to make a new one")

    def failure(self, exc: BaseException) -> StoreUnavailable | None:
        """The StoreUnavailable exc means, or None when it is not a failure of the store itself."""
        if self.url and lost_connection(exc):
            return unreachable(self.url)
        reason = broken(exc)
        if reason is None:
            return None
        if self.url:
            return StoreUnavailable(f"The Chroma server at {self.url} failed: {reason}")
        if self.state() != "same":
            return self.gone()
        return StoreUnavailable(f"The store at {self.path} failed: {reason}")

    @contextmanager
    def guard(self):
        """Run chromadb calls: a failure of the store itself is raised as StoreUnavailable."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            failure = self.failure(exc)
            if failure is None:
                raise
            raise failure from exc


class Guarded:
    """A Chroma collection whose calls go through `Location.guard`, and whose "does not exist" (another process
    deleted it) is MissingNamespace."""

    def __init__(self, collection, label: str, location: Location):
        self._collection, self._label, self._location = collection, label, location
        self.missing = False

    def __getattr__(self, attr):
        value = getattr(self._collection, attr)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            from chromadb.errors import NotFoundError  # loaded already: the store is open

            with self._location.guard():
                try:
                    return value(*args, **kwargs)
                except NotFoundError as exc:
                    self.missing = True
                    raise MissingNamespace(f"{self._label} no longer exists: it was deleted after it was opened") \
                        from exc

        return call
