"""Keep folders and the index in sync as files change: `assistant ingest DIR --watch`, `serve/chat --watch DIR`.

watchfiles (the watcher uvicorn uses; inotify on Linux) reports the paths that changed. A changed path is
read only once its size and modification time have stayed the same for `[ingest] watch_settle` seconds,
so a file still being written is never indexed half; and as ingest hashes the bytes it read, a file that
changes during the read is simply seen changed again. The paths that changed while others settled are
synced together, in one ingest under one write lock: a burst of 1,000 new files is one sync, not 1,000.
Deleted or moved-away paths (files or whole folders) lose their documents; a rename is both. Hidden and
unsupported files are skipped as a plain ingest skips them. A bad file fails alone (one line), a busy
store is tried again, and a stop (Ctrl-C, SIGTERM, a server shutting down) comes between two documents:
each document is committed whole or not at all (vectorstore/store/).
"""
from __future__ import annotations

import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.core import Assistant
from assistant.errors import WatchError
from ingest.errors import IngestError
from ingest.files import not_found, printable, source_for, supported, under
from ingest.progress import IngestProgress
from ingest.report import IngestReport
from vectorstore.errors import StoreError

TICK_MS = 250  # how often the settling paths are looked at again while nothing else happens
STEP_MS = 50  # watchfiles' wait for further events before it reports a group of them
HOLD = 10  # settle times a settled path waits for others still changing before it is synced without them
RETRY = 2.0  # seconds before a sync the store refused (busy, down) is tried again
SKIP = "skip"  # the look of a path that is no concern of the index: an unsupported file
GONE = "gone"

Say = Callable[[str], None]


def say_on_stderr(line: str) -> None:
    """One time-stamped log line on stderr."""
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


class _Stopped(BaseException):
    """Raised between two documents of a sync when the watcher is asked to stop (like KeyboardInterrupt,
    nothing in the ingest catches it)."""


class _StopCheck(IngestProgress):
    def __init__(self, stop: threading.Event):
        self.stop = stop

    def embedded(self, n: int) -> None:
        if self.stop.is_set():
            raise _Stopped

    file_done = embedded


class Watcher:
    """Syncs folders into an assistant's knowledge base, then keeps them in sync until stopped."""

    def __init__(self, assistant: Assistant, folders: Iterable[str | os.PathLike], say: Say = say_on_stderr):
        self.assistant = assistant
        self.folders = [_folder(f) for f in folders]
        self.settle = assistant.settings.ingest.watch_settle
        self.say = say
        self.stopping = threading.Event()
        self.syncs = 0  # syncs that changed the index
        self._home = Path(assistant.settings.home).expanduser().resolve()
        self._pending: dict[Path, tuple[object, float]] = {}  # path -> (its look, since when it looks so)
        self._retry_at = 0.0
        self._last_error = ""

    def stop(self) -> None:
        """Stop (from another thread): at once when idle, between two documents during a sync."""
        self.stopping.set()

    def run(self) -> None:
        """Sync the folders (removing what vanished from them), then every change, until stop()."""
        import watchfiles

        events = watchfiles.watch(*self.folders, watch_filter=self._wanted, step=STEP_MS, rust_timeout=TICK_MS,
                                  yield_on_timeout=True, stop_event=self.stopping)
        try:
            # The first look comes once the watch is set up: what changes from then on is seen.
            self._note(next(events, set()))
            if self.stopping.is_set():
                return
            self.assistant.embedder.model  # loaded now, not by the first change
            self.say(f"watching {', '.join(printable(str(f)) for f in self.folders)}")
            self._sync(self.folders)
            for changes in events:
                self._note(changes)
                ready = self._ready()
                if ready:
                    self._sync(ready)
        except _Stopped:
            pass
        finally:
            events.close()

    # ---- which paths are ready --------------------------------------------------------
    def _wanted(self, change, path: str) -> bool:
        """Not hidden (below the watched folder), not in the assistant's home: as a plain ingest sees it."""
        where = Path(path)
        if where == self._home or self._home in where.parents:
            return False
        root = next((f for f in self.folders if f == where or f in where.parents), None)
        return root is None or not any(part.startswith(".") for part in where.relative_to(root).parts)

    def _note(self, changes: set[tuple[object, str]]) -> None:
        now = time.monotonic()
        for _, path in changes:
            self._pending[Path(path)] = (None, now)  # looked at afresh: a new event restarts its settling

    def _ready(self) -> list[Path]:
        """The paths to sync now: the settled ones once none is still changing (or they waited HOLD settles)."""
        now = time.monotonic()
        if now < self._retry_at:
            return []
        ready, changing, oldest = [], False, now
        for path, (seen, since) in list(self._pending.items()):
            look = _look(path)
            if look == SKIP:
                del self._pending[path]
            elif look != seen:
                self._pending[path] = (look, now)
                changing = True
            elif now - since >= self.settle:
                ready.append(path)
                oldest = min(oldest, since)
            else:
                changing = True
        if not ready or (changing and now - oldest < HOLD * self.settle):
            return []
        for path in ready:
            del self._pending[path]
        return sorted(ready)

    # ---- syncing -----------------------------------------------------------------------
    def _sync(self, paths: list[Path], alone: bool = False) -> None:
        """One ingest of the paths: files and folders read, gone ones removed; never raises for a bad path."""
        gone = [p for p in paths if not os.path.lexists(p)]
        if gone and len(gone) == len(paths) and not self._indexed_under(gone):
            return  # only unsupported or never-indexed files went away: nothing to do
        there = [p for p in paths if p not in gone]
        try:
            report = self.assistant.ingest(there, prune=True, gone=gone, allow_empty=True,
                                           progress=_StopCheck(self.stopping))
        except StoreError as exc:  # busy (another ingest) or down: the same paths again in a moment
            self._later(paths, str(exc))
            return
        except IngestError as exc:  # the batch as a whole was refused: a path vanished or cannot be read
            if alone or len(paths) == 1:
                self.say(f"skipped: {exc}")
                return
            for path in paths:  # each alone, so only the bad one is left out
                self._sync([path], alone=True)
            return
        self._last_error = ""
        self._log(report)

    def _later(self, paths: list[Path], error: str) -> None:
        if error != self._last_error:
            self.say(f"not synced yet: {error}")
        self._last_error = error
        self._retry_at = time.monotonic() + RETRY
        for path in paths:
            self._pending.setdefault(path, (None, time.monotonic()))

    def _indexed_under(self, paths: list[Path]) -> bool:
        sources = [source_for(p) for p in paths]
        return any(under(s, p) for s in self.assistant.store.committed() for p in sources)

    def _log(self, report: IngestReport) -> None:
        for failed in report.failed:
            self.say(f"failed: {failed.error}")
        counts = [(len(report.sources(s)), s) for s in ("added", "updated", "removed")]
        if any(n for n, _ in counts):
            self.syncs += 1
            done = ", ".join(f"{n} {status}" for n, status in counts if n)
            self.say(f"synced: {done} in {report.seconds:.1f} s")


def _folder(given: str | os.PathLike) -> Path:
    path = Path(given).expanduser()
    if not path.exists():
        raise not_found(given)
    if not path.is_dir():
        raise WatchError(f"--watch keeps folders in sync: {printable(str(given))} is not a folder (give its folder)")
    return path.resolve()


def _look(path: Path) -> object:
    """What a path looks like now: GONE, SKIP (an unsupported file), or its size, mtime and inode."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return GONE
    except OSError as exc:  # e.g. permission denied: the sync reports it
        return ("unreadable", exc.errno)
    if stat.S_ISREG(info.st_mode) and not supported(path):
        return SKIP
    return (info.st_size, info.st_mtime_ns, info.st_ino, stat.S_IFMT(info.st_mode))


def watch_until_interrupted(watcher: Watcher) -> None:
    """Run the watcher in this (main) thread until Ctrl-C or SIGTERM; both raise KeyboardInterrupt."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        watcher.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def watching(assistant: Assistant, folders: Iterable[str | os.PathLike] | None,
             say: Say = say_on_stderr) -> Iterator[Watcher | None]:
    """Keep `folders` in sync in a background thread while the block runs (a server); nothing if None or empty."""
    if not folders:
        yield None
        return
    watcher = Watcher(assistant, folders, say)  # a bad folder is refused here, before the server starts
    thread = threading.Thread(target=_run_logged, args=(watcher,), name="watch", daemon=True)
    thread.start()
    try:
        yield watcher
    finally:
        watcher.stop()
        thread.join(timeout=60)


def _run_logged(watcher: Watcher) -> None:
    try:
        watcher.run()
    except Exception as exc:  # a thread's death would go unseen: say it
        watcher.say(f"stopped watching: {type(exc).__name__}: {exc}")
