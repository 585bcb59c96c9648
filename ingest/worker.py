"""Files other than plain text and Markdown (PDF, DOCX, HTML, CSV, XLSX, PPTX, images) are parsed in a worker
process, so that a parser that spins can be stopped.

A thread cannot be killed in Python: a file that keeps its parser busy (a 17 KB PDF whose 50 pages
show one compressed stream of 900,000 text operators takes pypdf half an hour) would hold the ingest,
and the server thread running it, for as long as the parse takes. So `read_file` runs in one
long-lived worker process, started at the first ingest that needs it and reused for every file. A
read that takes longer than `[ingest] read_timeout` seconds gets the worker killed: that file fails
alone with `ReadTimeout`, and the next file starts a fresh worker. `read_timeout = 0` parses in the
calling process, without a worker or a limit.

The worker is a fresh interpreter running `serve` below (`python -c "...serve(...)"`), given a file's
bytes and returning its RawText over a pair of pipes, one pickled message each way (before the reply, a
reader's progress steps, `("progress", "OCR page 3/12")`, each a message of its own: ingest/progress.py). It is neither a
fork of the ingesting process (that runs onnxruntime and Chroma threads, and a fork can copy a lock one
of them holds into the child) nor a multiprocessing child: those import the caller's main module
again, so a plain script that ingests would run itself once more in the worker. Here a script needs
no `if __name__ == "__main__":` guard. The worker imports the readers, not torch, onnxruntime or
chromadb. It dies with the ingesting process: it ignores Ctrl-C (the ingesting process stops it on
exit), and the kernel sends it SIGKILL when the thread that started it, a thread that lives as long as
the ingesting process, is gone, however the process ended (Linux; a watchdog thread elsewhere).

The worker's memory is bounded too (Linux): while it parses a file its address space may grow by
`[ingest] reader_memory_mb` past its size when it started (RLIMIT_AS). A file that needs more, a
format bomb no cap of ingest/bombs.py foresaw, gets MemoryError: it fails alone with one line
("x.docx: needs more than 1024.0 MB to read; ..."), and the next file gets a fresh worker.
"""
from __future__ import annotations

import atexit
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import ReaderOutOfMemory, ReadTimeout, UnreadableFile
from ingest.limits import Limits, megabytes
from ingest.progress import reporting
from ingest.rawtext import RawText
from ingest.readers import read_file

# Plain text and Markdown are read in the calling process: their readers are linear (decoding and one
# pattern) and bounded by max_file_mb. Measured with bench/read_worker.py (bench/README.md): a file's
# round trip to the worker costs under a millisecond (lost in the noise of 300-file ingests), but
# starting the worker takes 0.7-0.8 s once a process, about a tenth of an ingest of
# data/sample (5 text files; 1.19x slower when text went through the worker, median of 5 rounds on a
# loaded machine). A text-only ingest therefore starts no worker.
IN_PROCESS = frozenset({".txt", ".md", ".markdown"})  # everything else, .csv and .xlsx too, in the worker
_HEADER = struct.Struct("!Q")  # a message: its length, then its pickle
_SERVE = "import sys; from ingest.worker import serve; serve(*map(int, sys.argv[1:]))"  # the worker's program

_lock = threading.Lock()  # one read at a time: one worker
_worker: _Worker | None = None
# Starts every worker: a thread as long-lived as the process, since a worker's parent-death signal follows the
# thread that started it, not the process.
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reader-spawner")
_start_size = 0  # in the worker: its address space when it started, in bytes (0: unknown, no memory limit)


def read_file_limited(path: Path, data: bytes, limits: Limits = Limits(),
                      progress: Callable[[str], None] | None = None) -> RawText:
    """read_file(path, data, limits), for a file not in IN_PROCESS, in the worker process, stopped after
    limits.read_timeout seconds (see IN_PROCESS for the others). `progress` gets the reader's steps as it
    reports them ("OCR page 3/12", ingest/progress.py), from the worker too.

    ReadTimeout when it takes longer; ReaderOutOfMemory when it needs more than limits.reader_memory_bytes;
    UnreadableFile when the worker dies while reading (say, killed by the system) or cannot be started.
    Errors of the reader itself come back as they are.
    """
    path = Path(path)
    if not needs_worker(path, limits):
        with reporting(progress):
            return read_file(path, data, limits)
    with _lock:
        worker = _running()
        try:
            kind, value = worker.ask((path, data, limits), limits.read_timeout, progress)
        except TimeoutError:
            _stop()
            raise ReadTimeout(f"{path.name}: took longer than {limits.read_timeout:g} s to read ([ingest] "
                              "read_timeout); skipped") from None
        except (EOFError, OSError):  # it died while reading (say, killed for using too much memory)
            how = _stop()
            raise UnreadableFile(f"{path.name}: the reader process stopped while reading it ({how}); "
                                 "skipped") from None
        if isinstance(value, ReaderOutOfMemory):
            _stop()  # a parser that ran out of memory may have left its state broken: the next file gets a new one
        if kind == "error":
            raise value
        return value


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self):
        import ingest

        requests, their_requests = os.pipe()[::-1]
        their_replies, replies = os.pipe()[::-1]
        root = str(Path(ingest.__file__).resolve().parents[1])  # the worker imports the same code as we do
        paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(their_requests), str(their_replies), str(os.getpid())],
                pass_fds=(their_requests, their_replies), stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)})
        finally:
            os.close(their_requests)
            os.close(their_replies)
        self.requests, self.replies = requests, replies

    def ask(self, message, timeout: float, progress: Callable[[str], None] | None = None) -> tuple[str, object]:
        """Send one message and wait for the reply, passing the ("progress", step) messages before it to
        `progress`; TimeoutError past timeout seconds in all, EOFError if the worker is gone."""
        _send(self.requests, message)
        deadline = time.monotonic() + timeout
        # A selector, not select(): a process with many files open (a server) has descriptors past 1024.
        with selectors.DefaultSelector() as selector:
            selector.register(self.replies, selectors.EVENT_READ)
            while True:
                if not selector.select(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
                kind, value = _receive(self.replies)
                if kind != "progress":
                    return kind, value
                if progress is not None:
                    progress(value)

    def stop(self) -> str:
        """Kill the worker (it holds nothing to clean up) and say how it ended."""
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        for fd in (self.requests, self.replies):
            os.close(fd)
        return _how(code)


def _running() -> _Worker:
    """The worker, started (from the spawner thread) if there is none or it has died."""
    global _worker
    if _worker is not None and _worker.process.poll() is not None:
        _stop()
    if _worker is None:
        try:
            _worker = _spawner.submit(_Worker).result()
        except (OSError, RuntimeError) as exc:  # RuntimeError: the spawner is shut down (the process is exiting)
            raise UnreadableFile(f"could not start the reader process ({exc}); set [ingest] read_timeout = 0 "
                                 "to read files in the ingesting process") from None
    return _worker


def _stop() -> str:
    """Stop the worker, if any; how it ended."""
    global _worker
    worker, _worker = _worker, None
    return worker.stop() if worker is not None else "not running"


def _send(fd: int, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int):
    size = _HEADER.unpack(_read_exactly(fd, _HEADER.size))[0]
    return pickle.loads(_read_exactly(fd, size))


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end of the pipe is closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


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
    with _lock:
        try:
            _running()
        except UnreadableFile:  # the first read reports it
            pass


def shutdown() -> None:
    """Stop the worker now (it is also stopped when the process exits); the next read starts a new one."""
    with _lock:
        _stop()


atexit.register(shutdown)


def serve(requests: int, replies: int, ingesting_pid: int) -> None:
    """The worker: read each file it is sent, reply with its RawText or the error, until the pipe closes."""
    global _start_size
    # Ctrl-C reaches the whole terminal's process group: the ingesting process stops its worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(ingesting_pid)
    if sys.platform.startswith("linux"):
        _start_size = _address_space()  # RLIMIT_AS is Linux's: elsewhere no memory limit
    while True:
        try:
            request = _receive(requests)
        except EOFError:  # the ingesting process closed the pipe, or is gone
            return
        try:
            with reporting(lambda step: _send(replies, ("progress", step))):
                reply = ("ok", _read_capped(*request))
        except Exception as exc:  # noqa: BLE001 - the ingesting process decides what an error means
            reply = ("error", exc)
        try:
            _send(replies, reply)
        except (pickle.PicklingError, TypeError, AttributeError):  # an error that cannot be pickled
            _send(replies, ("error", UnreadableFile(f"{request[0].name}: {reply[1]}")))


def _die_with(ingesting_pid: int) -> None:
    """Exit when the ingesting process does, however it ends."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        # SIGKILL when the thread that started us (the ingesting process's spawner thread) is gone.
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != ingesting_pid:  # it died before the request was made
            os._exit(1)
    else:
        threading.Thread(target=_watch, args=(ingesting_pid,), name="reader-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"
