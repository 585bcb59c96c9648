"""PDF, DOCX and HTML files are parsed in a worker process, so that a parser that spins can be stopped.

A thread cannot be killed in Python: a file that keeps its parser busy (a 17 KB PDF whose 50 pages
show one compressed stream of 900,000 text operators takes pypdf half an hour) would hold the ingest,
and the server thread running it, for as long as the parse takes. So `read_file` runs in one
long-lived worker process (pebble's ProcessPool with one worker, started at the first ingest that
needs it and reused for every file). A read that takes longer than `[ingest] read_timeout` seconds
gets the worker killed: that file fails alone with `ReadTimeout`, and the pool starts a fresh worker
for the next one. `read_timeout = 0` parses in the calling process, without a worker or a limit.

The worker comes from multiprocessing's fork server, never from a fork of the ingesting process:
that runs onnxruntime and Chroma threads, and a fork can copy a lock one of them holds into the
child. The fork server is a fresh single-threaded interpreter that imports the readers (not torch,
onnxruntime or chromadb); each worker is a fork of it, so a replacement starts in milliseconds.
A worker dies with the ingesting process: it ignores Ctrl-C (the ingesting process stops it on
exit), and it asks the kernel for SIGKILL when the fork server exits, which it does as soon as the
ingesting process is gone, however that ended (Linux; a watchdog thread elsewhere).

The worker's memory is bounded too (Linux): while it parses a file its address space may grow by
`[ingest] reader_memory_mb` past its size when it started (RLIMIT_AS). A file that needs more, a
format bomb no cap of ingest/bombs.py foresaw, gets MemoryError: it fails alone with one line
("x.docx: needs more than 1024.0 MB to read; ..."), and the next file gets a fresh worker.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import ReaderOutOfMemory, ReadTimeout, UnreadableFile
from ingest.limits import Limits, megabytes
from ingest.readers import RawText, read_file

# Plain text and Markdown are read in the calling process: their readers are linear (decoding and one
# pattern) and bounded by max_file_mb. Measured with bench/read_worker.py (bench/README.md): a file's
# round trip to the worker costs under a millisecond (lost in the noise of 300-file ingests), but
# starting the worker takes 0.7-0.8 s once a process, about a tenth of an ingest of
# data/sample (5 text files; 1.19x slower when text went through the worker, median of 5 rounds on a
# loaded machine). A text-only ingest therefore starts no worker.
IN_PROCESS = frozenset({".txt", ".md", ".markdown"})
# What the fork server imports, once: each worker then imports only the parsers its files need.
_PRELOAD = ["ingest.readers"]  # not "__main__": the fork server need not run the caller's script
_GRACE = 30.0  # seconds past the time limit before the caller stops waiting on the pool itself

_lock = threading.Lock()
_pool = None
_pool_made = False  # once: the exit hook is registered
_start_size = 0  # in the worker: its address space when it started, in bytes (0: unknown, no memory limit)


def read_file_limited(path: Path, data: bytes, limits: Limits = Limits()) -> RawText:
    """read_file(path, data, limits), for a PDF, DOCX or HTML file in the worker process, stopped after
    limits.read_timeout seconds (see IN_PROCESS for the others).

    ReadTimeout when it takes longer; ReaderOutOfMemory when it needs more than limits.reader_memory_bytes;
    UnreadableFile when the worker dies while reading (say, killed by the system) or cannot be started.
    Errors of the reader itself come back as they are.
    """
    path = Path(path)
    if not needs_worker(path, limits):
        return read_file(path, data, limits)
    from concurrent.futures.process import BrokenProcessPool

    from pebble import ProcessExpired

    pool = _worker_pool()
    try:
        future = pool.schedule(_read_capped, args=(path, data, limits), timeout=limits.read_timeout)
        # The pool enforces the limit and kills the worker; this wait is bounded too, in case it never answers.
        return future.result(timeout=limits.read_timeout + _GRACE)
    except ReaderOutOfMemory:
        shutdown()  # a parser that ran out of memory may have left its state broken: the next file gets a new worker
        raise
    except FutureTimeout:
        future.cancel()  # stops the worker if the pool has not already
        raise ReadTimeout(f"{path.name}: took longer than {limits.read_timeout:g} s to read ([ingest] "
                          "read_timeout); skipped") from None
    except ProcessExpired as exc:  # e.g. killed for using too much memory; the pool starts another
        raise UnreadableFile(f"{path.name}: the reader process stopped while reading it "
                             f"({_how(exc.exitcode)}); skipped") from None
    except BrokenProcessPool as exc:  # no worker could be started, or the pool's own threads failed
        _discard(pool)
        raise UnreadableFile(f"{path.name}: could not run the reader process ({exc or type(exc).__name__}): a "
                             "script that ingests needs `if __name__ == '__main__':` around its code, or set "
                             "[ingest] read_timeout = 0 to read files in the ingesting process") from None


def _read_capped(path: Path, data: bytes, limits: Limits) -> RawText:
    """In the worker: read_file with the worker's address space capped at its start size plus
    limits.reader_memory_bytes while it runs."""
    budget = limits.reader_memory_bytes
    with _address_space_capped(_start_size + budget if budget and _start_size else None):
        try:
            return read_file(path, data, limits)
        except Exception as exc:  # MemoryError, or a reader's error that one caused
            if not _out_of_memory(exc):
                raise
            del exc  # raised below, outside the handler, once the traceback and what it holds are gone
    raise ReaderOutOfMemory(f"{path.name}: needs more than {megabytes(budget)} to read; raise [ingest] "
                            "reader_memory_mb to read it")


@contextmanager
def _address_space_capped(cap: int | None):
    """RLIMIT_AS lowered to cap bytes for the duration (None: left alone)."""
    if cap is None:
        yield
        return
    import resource  # Unix only; cap is None where the worker's size is unknown

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _out_of_memory(exc: BaseException | None) -> bool:
    """Whether exc, or an error it was raised from, is a MemoryError or libxml2's ERR_NO_MEMORY (lxml raises
    XMLSyntaxError when an allocation fails, and a reader may turn that into "not a valid DOCX file")."""
    for _ in range(10):  # the chain is short; a cycle is not followed for ever
        if exc is None:
            return False
        etree = sys.modules.get("lxml.etree")
        if isinstance(exc, MemoryError) or (etree is not None and isinstance(exc, etree.Error)
                                            and getattr(exc, "code", None) == etree.ErrorTypes.ERR_NO_MEMORY):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _address_space() -> int:
    """This process's address space in bytes (Linux's VmSize); 0 where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 0


def needs_worker(path: Path, limits: Limits = Limits()) -> bool:
    """Whether reading this file goes through the worker process (and its time limit)."""
    return bool(limits.read_timeout) and Path(path).suffix.lower() not in IN_PROCESS


def start(paths: Iterable[Path], limits: Limits = Limits()) -> None:
    """Start the worker in the background if any of these files needs it, so that its start-up overlaps
    the caller's own work (opening the store, loading the model) instead of delaying the first file."""
    if any(needs_worker(path, limits) for path in paths):
        threading.Thread(target=_start, name="reader-start", daemon=True).start()


def _start() -> None:
    try:
        _worker_pool().schedule(_ready)
    except Exception:  # the first read reports what is wrong  # noqa: BLE001
        pass


def _ready() -> None:
    """A task that does nothing: run once, it starts the worker."""


def shutdown() -> None:
    """Stop the worker now (it is also stopped when the process exits); the next read starts a new one."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        _discard(pool)


def _worker_pool():
    global _pool, _pool_made
    with _lock:
        if _pool is None or not _pool.active:
            if _pool is not None:
                _discard(_pool)
            from pebble import ProcessPool

            _pool = ProcessPool(max_workers=1, initializer=_worker_started, initargs=(os.getpid(),),
                                context=_context())
            if not _pool_made:
                # Registered after pebble's own exit hook, so it runs first: the pool's threads stop before
                # the worker, and none starts a replacement while the interpreter removes its semaphores.
                atexit.register(shutdown)
            _pool_made = True
        return _pool


def _context():
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)  # no effect once the fork server runs; it then has them
    return context


def _worker_started(ingesting_pid: int) -> None:
    """In the worker, before its first file: die with the ingesting process, whatever way it ends; note the
    worker's size, from which its memory limit counts."""
    global _start_size
    # Stopping a worker is killing it: it holds nothing to clean up, and a parser stuck in C code
    # would not run a Python SIGTERM handler until it returns.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The fork server hands each child its end of the pipe that tells it the ingesting process is alive;
    # the fork server exits when that pipe closes. Held here, it would keep the fork server (and so
    # this worker, below) alive after the ingesting process is killed while this worker is busy.
    server = getattr(sys.modules.get("multiprocessing.forkserver"), "_forkserver", None)
    if isinstance(getattr(server, "_forkserver_alive_fd", None), int):
        os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        # SIGKILL when our parent, the fork server, exits; it exits when the ingesting process is gone.
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if not _alive(ingesting_pid):  # it died before the request was made
            os._exit(1)
        _start_size = _address_space()  # RLIMIT_AS is Linux's: elsewhere no memory limit
    else:
        threading.Thread(target=_watch, args=(os.getppid(),), name="reader-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _discard(pool) -> None:
    try:
        pool.stop()
        pool.join(timeout=10)
    except Exception:  # a broken pool may fail to stop cleanly; its worker dies with us anyway  # noqa: BLE001
        pass


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"
