"""The Assistant: one knowledge base answered by one answerer, and the public Python API (front ends ask the
Service in assistant/service.py, which holds one Assistant per base and kind)."""
from __future__ import annotations

import difflib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from assistant import wiring
from assistant.answer import Answer, Citation
from assistant.answerers import Answerer, AnswerRequest, make_answerer
from assistant.errors import CitedDocumentChanged, CitedDocumentGone, EmptyIndex, EmptyQuestion, UnknownSource
from assistant.kb import KnowledgeBase, names, resolve
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.uploads import is_upload
from ingest.files import source_for, under
from vectorstore.embedder import Embedder
from vectorstore.lexical import LexicalIndex
from vectorstore.records import DocumentRecord, Hit
from vectorstore.store import Store

if TYPE_CHECKING:
    from ingest.progress import IngestProgress
    from ingest.report import IngestReport
    from ingest.sync import Ingestor

EMPTY_INDEX = "Nothing is indexed yet: run `assistant ingest PATH`"
EMPTY_QUESTION = "The question is empty: type a question about your documents."
_DOC_CACHE = 16  # documents (cleaned text, pages) kept in memory for building citations


class Assistant:
    """Ingests documents and answers questions about them with numbered citations."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, lexical: LexicalIndex,
                 answerer: Answerer, kb: KnowledgeBase | None = None, documents: DocumentCache | None = None):
        self.settings = settings
        self.kb = kb or resolve(settings)  # the knowledge base store and lexical belong to
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.retriever = HybridRetriever(store, lexical, settings.retrieval)
        self.answerer = answerer
        self._documents = documents or DocumentCache(store)

    @classmethod
    def open(cls, home: str | Path | None = None, config: str | Path | None = None,
             settings: Settings | None = None, embedder: Embedder | None = None, preload: bool = False,
             kb: str | None = None, **overrides) -> Assistant:
        """The assistant on knowledge base `kb`, its parts made by the composition root (assistant/wiring.py):
        settings from config/env, the store under home, MiniLM, BM25, the answerer of `[answer] kind`.

        `kb` names a knowledge base of the home (or Chroma server), made with `assistant kb create NAME`;
        None (or "default") is the default one. UnknownKnowledgeBase when there is none of that name.

        Nothing is loaded that a call may not need: the model on its first use, BM25 on the first
        search, the ingest machinery on the first ingest. `preload=True` (for a process that will
        answer a question) loads the model in a background thread while the store opens.
        Pass an already loaded `embedder` to share one model between several assistants.
        """
        return cls(*wiring.parts(settings or Settings.load(config, home=home, **overrides), kb, embedder, preload))

    def with_kb(self, kb: str | None) -> Assistant:
        """This assistant (settings, model, answerer) on another knowledge base of the same home or Chroma server;
        UnknownKnowledgeBase when there is none of that name."""
        base = resolve(self.settings, kb)
        if base == self.kb and not self.store.missing:
            return self
        store, embedder, lexical, base = wiring.open_index(self.settings, base, self.embedder)
        # The answerer is shared: its sentences are fp32 whatever the base's precision.
        return Assistant(self.settings, store, embedder, lexical, self.answerer, base)

    @property
    def answer_embedder(self) -> Embedder:
        """The model the answerers embed sentences with: fp32, whatever the index's precision."""
        return self.embedder.with_precision(wiring.ANSWER_PRECISION)

    @property
    def models_loaded(self) -> bool:
        """Are the index's model and the answerers' loaded (one and the same for an fp32 index)?"""
        return self.embedder.loaded and self.answer_embedder.loaded and self.answerer.loaded

    def load_models(self) -> None:
        """Load the index's model and the answerers' now (each once)."""
        for embedder in dict.fromkeys((self.embedder, self.answer_embedder)):
            embedder.model
        self.answerer.load()

    def knowledge_bases(self) -> list[str]:
        """The knowledge bases of this home (or Chroma server): "default" first, then by name."""
        return names(self.store)

    def with_answerer(self, kind: str, answerer: Answerer | None = None) -> Assistant:
        """The same assistant (store, model, document cache) replying with another answerer kind.

        `answerer`: one of that kind made already, to share (an LLM started once serves every knowledge base)."""
        settings = wiring.with_kind(self.settings, kind)
        return Assistant(settings, self.store, self.embedder, self.lexical,
                         answerer or make_answerer(kind, settings, self.answer_embedder), self.kb, self._documents)

    @cached_property
    def ingestor(self) -> Ingestor:
        """Made on first use: answering a question never loads the ingest machinery."""
        from ingest.chunking import Chunker
        from ingest.sync import Ingestor

        return Ingestor(self.store, self.embedder, Chunker(self.settings.chunk.size, self.settings.chunk.overlap,
                                                           self.embedder.count_tokens),
                        self.settings.ingest.limits())

    # ---- documents -----------------------------------------------------------------
    def ingest(self, paths: str | Path | Iterable[str | Path], prune: bool = False,
               progress: IngestProgress | None = None, gone: Iterable[str | Path] = (),
               allow_empty: bool = False) -> IngestReport:
        """Sync files/folders into the index (unchanged files cost nothing); `gone` and `allow_empty`
        as Ingestor.ingest_paths takes them (a watched folder's deleted paths, and its empty folders)."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        with self.store.writer():
            return self.ingestor.ingest_paths(paths, prune=prune, progress=progress, gone=gone,
                                              allow_empty=allow_empty)

    def ingest_texts(self, items: Iterable[tuple], progress: IngestProgress | None = None) -> IngestReport:
        """Sync (source, text[, title]) items that are not files."""
        with self.store.writer():
            return self.ingestor.ingest_texts(items, progress=progress)

    def sources(self) -> list[DocumentRecord]:
        """What is indexed, sorted by source."""
        return self.store.documents()

    def document(self, source: str) -> DocumentRecord:
        """One indexed document with its cleaned text (citation offsets point into it)."""
        record = self.store.document(self.resolve_sources([source])[0])
        assert record is not None
        return record

    def cited_document(self, citation: Citation) -> DocumentRecord:
        """The document a citation (a saved answer's too) points into, if it still reads the same there:
        CitedDocumentGone when the source is no longer indexed, CitedDocumentChanged when the document's text at
        the citation's start:end is no longer the cited text."""
        record = self.store.document(citation.source)
        if record is None:
            raise CitedDocumentGone(f"{citation.source} is no longer indexed, so this passage cannot be shown.")
        if record.text[citation.start:citation.end] != citation.text:
            raise CitedDocumentChanged(f"{citation.source} has changed since this answer: the cited passage is no "
                                       "longer in it as quoted.")
        return record

    def remove(self, source: str) -> str:
        """Remove one indexed source; returns the source removed. An uploaded copy (in the knowledge base's
        uploads folder, made by the chat UI or `POST /documents`) is deleted with it: the uploads folder holds
        what is indexed, nothing else. Any other file stays where it is."""
        resolved = self.resolve_sources([source])
        if len(resolved) > 1:
            raise UnknownSource(f"'{source}' matches {len(resolved)} sources; give the full source")
        with self.store.writer():
            for source in [resolved[0], *(s for s in self.store.committed() if s != resolved[0]
                                          and under(s, resolved[0]))]:  # a mail's attachments go with it
                self.store.delete_source(source)
            if is_upload(self.kb.root, resolved[0]):
                Path(resolved[0]).unlink(missing_ok=True)
        return resolved[0]

    def resolve_sources(self, names: Sequence[str]) -> list[str]:
        """Indexed sources matching each name: exact, a path to it, or a trailing part like 'a/b.txt'."""
        indexed = self.store.committed()  # the map a question reads anyway: no listing of its own
        if not indexed:
            raise self._nothing_indexed()
        out: list[str] = []
        for name in names:
            matches = _match_source(name, indexed)
            if not matches:
                close = difflib.get_close_matches(PurePosixPath(name).name,
                                                  [PurePosixPath(s).name for s in sorted(indexed)], n=3, cutoff=0.5)
                hint = f" Close matches: {', '.join(close)}." if close else " Run `assistant sources` to list them."
                raise UnknownSource(f"No indexed source matches '{name}'.{hint}")
            out += [m for m in matches if m not in out]
        return out

    # ---- questions -----------------------------------------------------------------
    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), top_k: int | None = None,
            sources: Sequence[str] | None = None) -> Answer:
        """Answer a question, with history = earlier (question, answer_text) turns, oldest first."""
        for item in self.stream(question, history, top_k=top_k, sources=sources):
            pass
        return item

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (), top_k: int | None = None,
               sources: Sequence[str] | None = None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as the answerer produces them, then the Answer."""
        question = self.check_question(question)
        self.load_models()  # a one-time load is start-up, not the cost of this question
        began = time.perf_counter()
        request, notes = self.prepare(question, history, top_k, sources)
        retrieved = time.perf_counter()
        result = None
        for item in self.answerer.answer(request):
            if isinstance(item, Answer):
                result = item
                break
            yield item
        if result is None:
            raise RuntimeError(f"the {self.settings.answer.kind} answerer ended without a result")
        done = time.perf_counter()
        timings = {"retrieve": round((retrieved - began) * 1000, 1), "answer": round((done - retrieved) * 1000, 1),
                   "total": round((done - began) * 1000, 1)}
        yield replace(result, question=_echo(question, self.settings.retrieval.max_query_chars),
                      citations=tuple(c.placed(self._document(c.source)) for c in result.citations),
                      query=request.query, hits=tuple(request.hits), timings_ms=timings, notes=notes + result.notes,
                      answered_by=result.answered_by or self.settings.answer.kind)

    def retrieve(self, question: str, top_k: int | None = None, sources: Sequence[str] | None = None) -> list[Hit]:
        """The passages a question's search finds (no follow-up rewriting: one query, not a conversation)."""
        request, _ = self.prepare(self.check_question(question), top_k=top_k, sources=sources)
        return list(request.hits)

    def check_question(self, question: str | None) -> str:
        """The question stripped; EmptyQuestion when nothing is asked, EmptyIndex when nothing is indexed."""
        question = (question or "").strip()
        if not question:
            raise EmptyQuestion(EMPTY_QUESTION)
        self.store.new_question()
        if not self.store.committed():
            raise self._nothing_indexed()
        return question

    def _nothing_indexed(self) -> EmptyIndex:
        if self.kb.is_default:
            return EmptyIndex(EMPTY_INDEX)
        return EmptyIndex(f"Nothing is indexed in the knowledge base {self.kb.name!r} yet: run "
                          f"`assistant ingest --kb {self.kb.name} PATH`")

    def prepare(self, question: str, history: Sequence[tuple[str, str]] = (), top_k: int | None = None,
                sources: Sequence[str] | None = None) -> tuple[AnswerRequest, tuple[str, ...]]:
        """What an answerer is given for this question (the search done), and notes for the user."""
        wanted = self.resolve_sources(sources) if sources else None
        keep = self.settings.retrieval.max_history_turns
        history = list(history)[len(history) - keep:] if keep else []
        query, notes = self._query(question, history)
        top_k = top_k or self.settings.retrieval.top_k

        def search(text: str) -> list[Hit]:  # the same search, for an answerer that looks again
            return self.retriever.retrieve(text, self.embedder.embed_cached([text])[0], top_k, wanted)

        request = AnswerRequest(question=question, query=query, hits=tuple(search(query)),
                                document_text=self._document_text, search=search, history=tuple(history),
                                unknown_terms=self.lexical.unknown)
        return request, notes

    def _query(self, question: str, history: Sequence[tuple[str, str]]) -> tuple[str, tuple[str, ...]]:
        limit = self.settings.retrieval.max_query_chars
        notes: tuple[str, ...] = ()
        if len(question) > limit:
            notes = (f"The question is {len(question):,} characters long; only the first {limit:,} "
                     "were used to search.",)
            question = question[:limit]
        return self.answerer.search_query(question, [(q, a) for q, a in history]), notes

    def _document_text(self, source: str) -> str:
        record = self._document(source)
        return record.text if record is not None else ""

    def _document(self, source: str) -> DocumentRecord | None:
        return self._documents.get(source, self.retriever.last_sources)


class DocumentCache:
    """Indexed documents with their text, the last few kept (an answerer reads the same ones again); one per
    knowledge base, shared by its assistants of every answerer kind (the UI answers from several threads)."""

    def __init__(self, store: Store):
        self.store = store
        self._records: OrderedDict[tuple[str, str], DocumentRecord | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str, also: Sequence[str] = ()) -> DocumentRecord | None:
        """The document of `source` (None when it is not indexed); `also`: others about to be read, fetched in
        the same store call when not cached yet."""
        committed = self.store.committed()
        key = (source, committed.get(source, ""))
        with self._lock:
            if key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
            wanted = [source] + [s for s in also if s != source and (s, committed.get(s, "")) not in self._records]
        records = self.store.documents_text(wanted[:_DOC_CACHE // 2])
        with self._lock:
            for name, record in records.items():
                if record.sha256 == committed.get(name, record.sha256):
                    self._records[(name, record.sha256)] = record
            self._records[key] = records.get(source)
            self._records.move_to_end(key)
            while len(self._records) > _DOC_CACHE:
                self._records.popitem(last=False)
            return self._records[key]


def _match_source(name: str, indexed: dict[str, str]) -> list[str]:
    if name in indexed:
        return [name]
    path = Path(name).expanduser()
    if path.exists() and source_for(path) in indexed:
        return [source_for(path)]
    tail = "/" + name.strip("/")
    return sorted(s for s in indexed if s.endswith(tail))


def _echo(question: str, limit: int) -> str:
    """The question as an answer repeats it: a long one is cut (the user has it; the reply need not carry it)."""
    return question if len(question) <= limit else question[:limit] + "…"
