"""Sync a set of files (or texts) into the store: add new, replace changed, skip unchanged, prune."""
from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ingest import attachments
from ingest import worker as reader
from ingest.chunking import Chunker, doc_id_for
from ingest.documents import Document
from ingest.errors import IngestError, IngestInterrupted, UnreadableFile
from ingest.files import open_regular, os_reason, printable, scan, source_for, too_large, under
from ingest.limits import Limits
from ingest.loading import document_from_text, load_file
from ingest.progress import IngestProgress
from ingest.readers import read_bytes
from ingest.report import FileResult, IngestReport
from vectorstore.embedder import Embedder
from vectorstore.errors import StoreError
from vectorstore.records import DocumentRecord
from vectorstore.store import Store


# Chunks embedded together, across documents. The embedder sorts them by length so each model batch
# pads to similar lengths: on SciFact, sorting 1,024 at a time pads 3% of the tokens, 256 at a time
# 11%, 64 at a time (a plain llama-index ingest) 24% (`python bench/padding.py` counts them).
BATCH_CHUNKS = 1024
WRITE_SLICE = 2048  # chunks embedded and written together within one flush


PREFETCH = 32  # documents loaded and chunked ahead of the embedding, at most

_END = object()


def _prefetch(items: Iterable, work: Callable, depth: int = PREFETCH) -> Iterator[tuple]:
    """(item, work(item), None) or (item, None, exception) for each item, in order, computed in a
    background thread at most `depth` items ahead, so that loading and chunking overlap embedding."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                out.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                try:
                    entry = (item, work(item), None)
                except Exception as exc:
                    entry = (item, None, exc)
                if not put(entry):
                    return
        except Exception as exc:  # the items themselves failed (a generator given by the caller)
            put((None, None, exc))
        finally:
            put(_END)

    thread = threading.Thread(target=run, name="ingest-prepare", daemon=True)
    thread.start()
    try:
        while True:
            entry = out.get()
            if entry is _END:
                return
            yield entry
    finally:
        stop.set()  # the consumer stopped (done, an error, Ctrl-C): the producer stops too
        thread.join(timeout=5)


class _Batch:
    """Documents chunked and waiting to be embedded together."""

    def __init__(self):
        self.entries: list[tuple[Document, str, list]] = []
        self.size = 0

    def add(self, doc: Document, status: str, chunks: list) -> None:
        self.entries.append((doc, status, chunks))
        self.size += len(chunks)

    def take(self) -> list[tuple[Document, str, list]]:
        entries, self.entries, self.size = self.entries, [], 0
        return entries


def _give_back_memory() -> None:
    """Return the freed heap pages of every thread to the OS (glibc's malloc_trim; elsewhere nothing).

    Loading, cleaning, embedding and writing a big file free hundreds of MB spread over several
    threads' malloc arenas, which the commit does not reuse. tests/test_large_file.py's 50 MB file, peak
    RSS of two runs each: 936 and 980 MB untrimmed; 850 and 851 trimmed before the commit; 832 and 833
    trimmed after its chunking too (not kept: 18 MB for a second call site); MALLOC_ARENA_MAX=2: 834."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _report(results: list[FileResult], began: float, swept: int, skipped: Sequence[str] = ()) -> IngestReport:
    embedded = sum(r.chunks for r in results if r.status in ("added", "updated"))
    return IngestReport(results=tuple(results), skipped=tuple(skipped), chunks=embedded,
                        seconds=time.perf_counter() - began, swept=swept)


def capped_sha256(path: Path, limit: int = Limits.max_file_bytes) -> str:
    """sha256 of a file to ingest, read in blocks: a regular file only (never a FIFO or device), FileTooLarge past
    `limit` bytes (vectorstore.embedder.file_sha256 hashes a trusted file: a model's weights)."""
    digest = hashlib.sha256()
    read = 0
    with open_regular(path) as fh:  # a FIFO or device is refused, never read
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise too_large(path.name, size, limit)
        for block in iter(lambda: fh.read(1 << 20), b""):
            read += len(block)
            if read > limit:  # it grew while we read it
                raise too_large(path.name, read, limit)
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _stops_on_store_failure(results: list[FileResult]):
    """Turn the first store failure into IngestInterrupted, saying what was kept and how to resume."""
    try:
        yield
    except IngestError:
        raise
    except StoreError as exc:  # the store boundary (vectorstore.boundary) says the store itself failed
        kept = sum(r.status in ("added", "updated", "removed") for r in results)
        raise IngestInterrupted(f"The store failed during the ingest ({exc}). Documents committed before it: "
                                f"{kept}. Run the same ingest again, once the store is back, to finish the rest.") \
            from exc


@dataclass(frozen=True)
class SyncPlan:
    """Which sources to add, replace, leave alone and remove."""

    add: tuple[str, ...]
    update: tuple[str, ...]
    unchanged: tuple[str, ...]
    remove: tuple[str, ...]


def _under(source: str, paths: Sequence[str]) -> bool:
    """True if source is one of paths, lies in one of them, or is an attachment of one."""
    return any(under(source, p) for p in paths)


def plan_sync(found: dict[str, str], committed: dict[str, str], prune_under: Sequence[str] = (),
              unreadable: Sequence[str] = ()) -> SyncPlan:
    """Compare found source->sha256 with what the store holds; prune only under the given roots."""
    add = tuple(s for s in found if s not in committed)
    update = tuple(s for s in found if s in committed and committed[s] != found[s])
    unchanged = tuple(s for s in found if committed.get(s) == found[s])
    # A file or folder we could not read is still there: its indexed version stays until it is really gone.
    remove = tuple(s for s in committed if s not in found and _under(s, prune_under)
                   and not _under(s, unreadable))
    return SyncPlan(add, update, unchanged, remove)


class Ingestor:
    """Loads, chunks, embeds and commits documents, one whole document at a time."""

    def __init__(self, store: Store, embedder: Embedder, chunker: Chunker, limits: Limits = Limits()):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.limits = limits

    def ingest_paths(self, paths: Iterable[str | Path], prune: bool = False, progress: IngestProgress | None = None,
                     gone: Iterable[str | Path] = (), allow_empty: bool = False) -> IngestReport:
        """Sync files and folders (recursively) into the store.

        `gone`: files or folders known to be deleted or moved away; what is indexed from them is removed.
        `allow_empty`: a folder with no supported file is synced (to nothing) rather than NothingToIngest."""
        began = time.perf_counter()
        progress = progress or IngestProgress()
        roots = [Path(p) for p in paths]
        discovery = scan(roots, allow_empty)  # raises PathNotFound / NothingToIngest before touching the store
        reader.start(discovery.files, self.limits)  # the process that parses PDF, DOCX, HTML: ready by the first
        results: list[FileResult] = []
        swept = self.store.sweep()  # a store that is down from the start fails here, as any command would
        committed = self.store.committed()
        attached = attachments.by_mail(committed)
        with _stops_on_store_failure(results):
            progress.files(len(discovery.files) + len(discovery.unreadable))
            unreadable: list[str] = []
            for folder, error in discovery.unreadable.items():
                unreadable.append(source_for(folder))
                results.append(self._failed(unreadable[-1], error, progress))
            found: dict[str, str] = {}
            replaced: list[str] = []  # mails read anew: an attachment no longer in one is removed
            skipped = [source_for(path) for path in discovery.skipped]
            batch = _Batch()
            # Files are read, hashed, loaded and chunked in a background thread, a few ahead of the
            # embedding here (onnxruntime lets go of the GIL while it computes): each file read once.
            for path, prepared, error in _prefetch(
                    discovery.files, lambda path: self._prepare_file(path, committed, attached, progress)):
                source = source_for(path)
                if error is not None:
                    if isinstance(error, OSError):
                        error = UnreadableFile(f"{path.name}: cannot read file ({os_reason(error)})")
                    elif not isinstance(error, IngestError):
                        raise error
                    unreadable.append(source)  # still there, only unreadable or too large: not pruned
                    results.append(self._failed(source, str(error), progress))
                    continue
                entries, skipped_parts = prepared
                skipped += skipped_parts
                replaced += [source] if entries[0][2] is not None else []
                for part, sha, doc, chunks, problem in entries:
                    found[part] = sha
                    if doc is None and problem is None:
                        results.append(self._done(FileResult(part, "unchanged"), progress))
                    elif problem is not None:
                        unreadable.append(part)  # a mail that failed keeps the attachments it had
                        results.append(self._failed(part, problem, progress))
                    else:
                        status = "updated" if part in committed else "added"
                        results += self._queue(batch, doc, status, progress, chunks)
            results += self._flush(batch, progress)
            folders = [source_for(r) for r in roots if r.is_dir()] if prune else []
            plan = plan_sync(found, committed, folders + [source_for(p) for p in gone] + replaced, unreadable)
            for source in plan.remove:
                self.store.delete_source(source)
                results.append(self._done(FileResult(source, "removed"), progress))
        return _report(results, began, swept, skipped)

    def _prepare_file(self, path: Path, committed: dict[str, str], attached: dict[str, list[str]],
                      progress: IngestProgress) -> tuple[list[attachments.Entry], list[str]]:
        """The entries (source, sha256, document, chunks, error message) of the file and, for a mail, of its
        attachments, document None if unchanged; and the attachments skipped as not a supported type.

        Raises UnreadableFile / FileTooLarge for a file that is not a regular file (a FIFO or device is never
        opened blocking, never read), cannot be read, or is over the [ingest] max_file_mb limit: such a file
        fails alone.
        """
        source = source_for(path)
        try:  # before reading: a file changed while being read then looks changed next time too
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise UnreadableFile(f"{path.name}: cannot read file ({os_reason(exc)})") from None
        data = read_bytes(path, self.limits.max_file_bytes)  # open_regular: regular files only, within the cap
        sha = hashlib.sha256(data).hexdigest()
        if committed.get(source) == sha:  # and so are its attachments
            return [(part, committed[part], None, None, None) for part in [source, *attached.get(source, ())]], []
        try:
            doc = load_file(path, self.limits, data=data, mtime=mtime, sha256=sha,
                            progress=lambda step: progress.reading(source, step))
        except IngestError as exc:
            return [(source, sha, None, None, str(exc))], []
        del data
        parts, skipped = attachments.prepare(doc, committed, self.limits, self._chunk, progress.reading)
        return [(source, sha, replace(doc, attachments=()), *self._chunk(doc)), *parts], skipped

    def ingest_texts(self, items: Iterable[tuple[str, str] | tuple[str, str, str | None]],
                     progress: IngestProgress | None = None) -> IngestReport:
        """Sync (source, text[, title]) items that are not files (for tools and benchmarks)."""
        began = time.perf_counter()
        progress = progress or IngestProgress()
        results: list[FileResult] = []
        swept = self.store.sweep()  # a store that is down from the start fails here, as any command would
        committed = self.store.committed()
        with _stops_on_store_failure(results):
            batch = _Batch()
            for item, prepared, error in _prefetch(items, lambda item: self._prepare_text(item, committed)):
                if error is not None:
                    raise error
                source, doc, chunks, problem = prepared
                if problem is not None:
                    results.append(self._failed(source, problem, progress))
                elif doc is None:
                    results.append(self._done(FileResult(source, "unchanged"), progress))
                else:
                    results += self._queue(batch, doc, "updated" if source in committed else "added", progress, chunks)
            results += self._flush(batch, progress)
        return _report(results, began, swept)

    def _prepare_text(self, item, committed: dict[str, str]):
        """(source, document, chunks, error message): document None if unchanged."""
        source, text, title = (*item, None)[:3]
        try:
            doc = document_from_text(source, text, title)
        except IngestError as exc:
            return source, None, None, str(exc)
        if committed.get(source) == doc.sha256:
            return source, None, None, None
        chunks, problem = self._chunk(doc)
        return source, doc, chunks, problem

    def _chunk(self, doc: Document) -> tuple[list, str | None]:
        try:
            chunks = self.chunker.chunk(doc)
        except Exception as exc:  # one bad document must not stop the others
            return [], f"{Path(doc.source).name}: {exc}"
        if not chunks:
            return [], f"{Path(doc.source).name}: file has no text"
        return chunks, None

    def _queue(self, batch: _Batch, doc: Document, status: str, progress: IngestProgress,
               chunks: list) -> list[FileResult]:
        """Add a chunked document to the batch; embed the batch once it is big enough."""
        progress.file_started(doc.source, len(chunks))
        batch.add(doc, status, chunks)
        return self._flush(batch, progress) if batch.size >= BATCH_CHUNKS else []

    def _flush(self, batch: _Batch, progress: IngestProgress) -> list[FileResult]:
        """Embed, write and commit a batch of documents together.

        Many small documents embed and store far faster in one batch than one call each. Every
        document still becomes visible only through its commit record, written after all its
        chunks, so an interruption leaves no half document.
        """
        entries = batch.take()
        if not entries:
            return []
        counts = [len(doc_chunks) for _, _, doc_chunks in entries]
        chunks = [c for _, _, doc_chunks in entries for c in doc_chunks]
        shas = [doc.sha256 for doc, _, doc_chunks in entries for _ in doc_chunks]
        for _, _, doc_chunks in entries:
            doc_chunks.clear()  # `chunks` is their one holder now, so each slice is freed once it is written
        # Embedded and written a slice at a time: a 50 MB file's 60,000 chunks never hold all their
        # vectors in memory at once. Nothing is visible before the commit records below.
        for begin in range(0, len(chunks), WRITE_SLICE):
            part = chunks[begin:begin + WRITE_SLICE]
            chunks[begin:begin + len(part)] = [None] * len(part)
            try:
                vectors = self._embed_unique([c.text for c in part], progress)
            except Exception as exc:
                return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress)
                        for doc, _, _ in entries]
            try:
                self.store.write_chunks(part, vectors, shas[begin:begin + WRITE_SLICE])
            except StoreError:
                raise  # the store itself failed: no point going on with the next file
            except Exception as exc:
                return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress)
                        for doc, _, _ in entries]
        if len(chunks) > WRITE_SLICE:  # a big batch: its memory goes back before the commit's is taken
            _give_back_memory()
        records = [DocumentRecord(doc_id=doc_id_for(doc.source), source=doc.source, title=doc.title,
                                  sha256=doc.sha256, chunks=count, mtime=doc.mtime, indexed_at=time.time(),
                                  text=doc.text, page_starts=doc.pages, page_kind=doc.page_kind,
                                  ocr_pages=doc.ocr_pages) for (doc, _, _), count in zip(entries, counts)]
        try:
            self.store.commit_documents(records)
        except StoreError:
            raise  # the store itself failed: no point going on with the next file
        except Exception as exc:
            return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress) for doc, _, _ in entries]
        return [self._done(FileResult(doc.source, status, count), progress)
                for (doc, status, _), count in zip(entries, counts)]

    def _embed_unique(self, texts: list[str], progress: IngestProgress):
        """Embed each distinct text once: repeated boilerplate (headers, disclaimers) costs nothing extra."""
        unique = list(dict.fromkeys(texts))
        progress.embedded(len(texts) - len(unique))
        vectors = self.embedder.embed(unique, on_batch=progress.embedded)
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    @staticmethod
    def _done(result: FileResult, progress: IngestProgress) -> FileResult:
        progress.file_done(result)
        return result

    def _failed(self, source: str, error: str, progress: IngestProgress) -> FileResult:
        # printable(): a reason quoting a file name that is not UTF-8 must not break a JSON report
        return self._done(FileResult(source, "failed", error=printable(error)), progress)
