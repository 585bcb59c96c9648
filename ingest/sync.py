"""Sync a set of files (or texts) into the store: add new, replace changed, skip unchanged, prune."""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import Chunker, doc_id_for
from ingest.documents import Document
from ingest.errors import IngestError, IngestInterrupted
from ingest.files import open_regular, os_reason, printable, scan, source_for, too_large
from ingest.limits import Limits
from ingest.loading import document_from_text, load_file
from ingest.progress import IngestProgress
from ingest.report import FileResult, IngestReport
from vectorstore.embedder import Embedder
from vectorstore.errors import StoreError, lost_connection
from vectorstore.records import DocumentRecord
from vectorstore.store import Store


# Chunks embedded together, across documents. The embedder sorts them by length so each model batch
# pads to similar lengths: on SciFact, sorting 1,024 at a time pads 3% of the tokens, 256 at a time
# 11%, 64 at a time (a plain llama-index ingest) 24% (`python bench/padding.py` counts them).
BATCH_CHUNKS = 1024


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


def _report(results: list[FileResult], began: float, swept: int) -> IngestReport:
    embedded = sum(r.chunks for r in results if r.status in ("added", "updated"))
    return IngestReport(tuple(results), time.perf_counter() - began, embedded, swept)


def file_sha256(path: Path, limit: int = Limits.max_file_bytes) -> str:
    """sha256 of a regular file's bytes, read in blocks; FileTooLarge past `limit` bytes."""
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
    except Exception as exc:
        if not (isinstance(exc, StoreError) or lost_connection(exc)):
            raise
        reason = str(exc) if isinstance(exc, StoreError) else "lost the connection to the Chroma server"
        kept = sum(r.status in ("added", "updated", "removed") for r in results)
        raise IngestInterrupted(f"The store failed during the ingest ({reason}). Documents committed before it "
                                f"are kept: {kept}. Bring the store back and run the same ingest again to finish "
                                "the rest.") from exc


@dataclass(frozen=True)
class SyncPlan:
    """Which sources to add, replace, leave alone and remove."""

    add: tuple[str, ...]
    update: tuple[str, ...]
    unchanged: tuple[str, ...]
    remove: tuple[str, ...]


def _under(source: str, paths: Sequence[str]) -> bool:
    """True if source is one of paths or lies under one of them."""
    return any(source == p or source.startswith(p.rstrip("/") + "/") for p in paths)


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

    def ingest_paths(self, paths: Iterable[str | Path], prune: bool = False,
                     progress: IngestProgress | None = None) -> IngestReport:
        """Sync files and folders (recursively) into the store."""
        began = time.perf_counter()
        progress = progress or IngestProgress()
        roots = [Path(p) for p in paths]
        discovery = scan(roots)  # raises PathNotFound / NothingToIngest before touching the store
        results: list[FileResult] = []
        swept = self.store.sweep()  # a store that is down from the start fails here, as any command would
        committed = self.store.committed()
        with _stops_on_store_failure(results):
            progress.files(len(discovery.files) + len(discovery.unreadable))
            unreadable: list[str] = []
            for folder, error in discovery.unreadable.items():
                unreadable.append(source_for(folder))
                results.append(self._failed(unreadable[-1], error, progress))
            found: dict[str, str] = {}
            by_source: dict[str, Path] = {}
            for path in discovery.files:
                source = source_for(path)
                if printable(source) != source:  # the store keeps UTF-8 only: say so, do not crash on it
                    results.append(self._failed(printable(source), f"{printable(path.name)}: the file name (or a "
                                                "folder name) is not valid UTF-8; rename it to ingest it", progress))
                    continue
                try:
                    found[source] = file_sha256(path, self.limits.max_file_bytes)
                    by_source[source] = path
                except IngestError as exc:
                    unreadable.append(source)
                    results.append(self._failed(source, str(exc), progress))
                except OSError as exc:
                    unreadable.append(source)
                    results.append(self._failed(source, f"{path.name}: cannot read file ({os_reason(exc)})",
                                                progress))
            folders = [source_for(r) for r in roots if r.is_dir()] if prune else []
            plan = plan_sync(found, committed, folders, unreadable)
            batch = _Batch()
            for source in found:
                if source in plan.unchanged:
                    results.append(self._done(FileResult(source, "unchanged"), progress))
                    continue
                try:
                    doc = load_file(by_source[source], self.limits)
                except IngestError as exc:
                    results.append(self._failed(source, str(exc), progress))
                    continue
                results += self._queue(batch, doc, "added" if source in plan.add else "updated", progress)
            results += self._flush(batch, progress)
            for source in plan.remove:
                self.store.delete_source(source)
                results.append(self._done(FileResult(source, "removed"), progress))
        return _report(results, began, swept)

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
            for item in items:
                source, text, title = (*item, None)[:3]
                try:
                    doc = document_from_text(source, text, title)
                except IngestError as exc:
                    results.append(self._failed(source, str(exc), progress))
                    continue
                if committed.get(source) == doc.sha256:
                    results.append(self._done(FileResult(source, "unchanged"), progress))
                    continue
                results += self._queue(batch, doc, "updated" if source in committed else "added", progress)
            results += self._flush(batch, progress)
        return _report(results, began, swept)

    def _queue(self, batch: _Batch, doc: Document, status: str, progress: IngestProgress) -> list[FileResult]:
        """Chunk a document and add it to the batch; embed the batch once it is big enough."""
        try:
            chunks = self.chunker.chunk(doc)
        except Exception as exc:  # one bad document must not stop the others
            return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress)]
        if not chunks:
            return [self._failed(doc.source, f"{Path(doc.source).name}: file has no text", progress)]
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
        chunks = [c for _, _, doc_chunks in entries for c in doc_chunks]
        try:
            vectors = self._embed_unique([c.text for c in chunks], progress)
        except Exception as exc:
            return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress) for doc, _, _ in entries]
        shas = [doc.sha256 for doc, _, doc_chunks in entries for _ in doc_chunks]
        records = [DocumentRecord(doc_id=doc_id_for(doc.source), source=doc.source, title=doc.title,
                                  sha256=doc.sha256, chunks=len(doc_chunks), mtime=doc.mtime,
                                  indexed_at=time.time(), text=doc.text) for doc, _, doc_chunks in entries]
        try:
            self.store.write_chunks(chunks, vectors, shas)
            self.store.commit_documents(records)
        except Exception as exc:
            if isinstance(exc, StoreError) or lost_connection(exc):
                raise  # the store itself is gone: no point going on with the next file
            return [self._failed(doc.source, f"{Path(doc.source).name}: {exc}", progress) for doc, _, _ in entries]
        return [self._done(FileResult(doc.source, status, len(doc_chunks)), progress)
                for doc, status, doc_chunks in entries]

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
        return self._done(FileResult(source, "failed", error=error), progress)
