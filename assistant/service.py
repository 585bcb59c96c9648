"""The application service every front end adapts, and `build`, the composition root that makes it from settings.

The CLI, the HTTP API (native and OpenAI routes), the chat UI and its gradio_client endpoints hold one
Service and call it with who is asking (assistant/access.py): it opens the knowledge base (OpenBases:
Forbidden before anything is opened), checks the input (text that is not Unicode, a history that is not
pairs, top_k outside its bounds) and answers, lists, ingests or removes. Its errors are the project's own;
each front end shows them through `assistant.errors.failure` (an HTTP status and one line).
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from assistant.access import EVERYTHING, Principal
from assistant.answer import Answer
from assistant.answerers import available_kinds
from assistant.bases import OpenBases
from assistant.core import Assistant
from assistant.errors import InvalidInput, ModelError, UnknownSource
from assistant.settings import TOP_K_MAX, Settings
from assistant.text_input import require_text
from assistant.uploads import UploadResult, check_uploads, ingest_uploads
from vectorstore.errors import StoreError
from vectorstore.records import DocumentRecord

if TYPE_CHECKING:
    from vectorstore.embedder import Embedder
    from ingest.progress import IngestProgress
    from ingest.report import IngestReport

HISTORY_SHAPE = "The history must be a list of [question, answer] pairs, oldest first."


def build(settings: Settings | None = None, *, home: str | Path | None = None, config: str | Path | None = None,
          kb: str | None = None, embedder: Embedder | None = None, preload: bool = False, **overrides) -> Service:
    """The one Service of a process: its assistant on knowledge base `kb` (its parts made by assistant/wiring.py,
    as Assistant.open makes them), and the other bases opened through it on first use."""
    return Service(Assistant.open(home=home, config=config, settings=settings, embedder=embedder, preload=preload,
                                  kb=kb, **overrides))


class Service:
    """Asking, streaming, documents, ingesting, uploads and knowledge bases, each for `who` on base `kb` (None:
    the process's own) with answerer `kind` (None: `[answer] kind`)."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant  # what the process was started with: its knowledge base and kind by default
        self.settings = assistant.settings
        self.bases = OpenBases(assistant)
        self.access = self.bases.access
        self.history = self.bases.history
        self.readiness = Readiness(assistant)
        self.ingest_roots = [Path(root).expanduser().resolve() for root in self.settings.server.ingest_roots]

    @classmethod
    def of(cls, target: Assistant | Service) -> Service:
        """`target` itself when it is a Service, else a new one over the Assistant (a front end made in Python)."""
        return target if isinstance(target, Service) else cls(target)

    def open(self, kb: str | None = None, kind: str | None = None, *, who: Principal = EVERYTHING,
             change: bool = False) -> Assistant:
        """The assistant on `kb` answering with `kind`, for `who` (see OpenBases.get)."""
        return self.bases.get(kb, kind, who=who, change=change)

    def kinds(self) -> list[str]:
        """The answerer kinds these settings can answer with (the LLM only when one is configured)."""
        return available_kinds(self.settings)

    # ---- questions -------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Sequence[str]] = (), top_k: int | None = None,
            sources: Sequence[str] | None = None, *, kb: str | None = None, kind: str | None = None,
            who: Principal = EVERYTHING) -> Answer:
        """The cited answer (see Assistant.ask), after the input is checked."""
        for item in self.stream(question, history, top_k, sources, kb=kb, kind=kind, who=who):
            pass
        return item

    def stream(self, question: str, history: Sequence[Sequence[str]] = (), top_k: int | None = None,
               sources: Sequence[str] | None = None, *, kb: str | None = None, kind: str | None = None,
               who: Principal = EVERYTHING) -> Iterator:
        """The answer's pieces, then the Answer (see Assistant.stream); nothing is checked until the first item
        is asked for, so an HTTP server can run that step off its event loop."""
        assistant = self.open(kb, kind, who=who)
        turns = check_input(question, history, top_k, sources)
        yield from assistant.stream(question, turns, top_k=top_k, sources=list(sources) if sources else None)

    # ---- documents -------------------------------------------------------------------
    def sources(self, kb: str | None = None, *, who: Principal = EVERYTHING) -> list[DocumentRecord]:
        """What `kb` holds, sorted by source."""
        return self.open(kb, who=who).sources()

    def document(self, source: str, kb: str | None = None, *, who: Principal = EVERYTHING) -> DocumentRecord:
        """The one indexed document `source` names (exact, or a trailing part that matches only one)."""
        assistant = self.open(kb, who=who)
        matches = assistant.resolve_sources([require_text(source, "source")])
        if len(matches) > 1:
            raise UnknownSource(f"'{source}' matches {len(matches)} sources; give the full source")
        return assistant.document(matches[0])

    def remove(self, source: str, kb: str | None = None, *, who: Principal = EVERYTHING) -> str:
        """Remove one indexed source from `kb` (see Assistant.remove); the source removed."""
        return self.open(kb, who=who, change=True).remove(require_text(source, "source"))

    def ingest(self, paths: Iterable[str | Path], prune: bool = False, kb: str | None = None, *,
               who: Principal = EVERYTHING, progress: IngestProgress | None = None) -> IngestReport:
        """Sync files and folders into `kb` (see Assistant.ingest)."""
        return self.open(kb, who=who, change=True).ingest(list(paths), prune=prune, progress=progress)

    def ingest_files(self, files: list[tuple[str | Path, str]], kb: str | None = None, *,
                     who: Principal = EVERYTHING, progress: IngestProgress | None = None) -> list[UploadResult]:
        """Copy (path, given name) files into `kb`'s uploads folder and ingest them; a result per file."""
        return ingest_uploads(self.open(kb, who=who, change=True), files, progress=progress).files

    def upload(self, files: list[tuple[BinaryIO, str]], kb: str | None = None, *,
               who: Principal = EVERYTHING) -> dict:
        """Store and ingest uploaded (contents, given name) pairs into `kb` as `ingest_files` does; the report.

        Each upload is first written to a private scratch folder under a number, never under its
        given name. Any refused file (type, size, empty) is raised before anything is copied or indexed."""
        assistant = self.open(kb, who=who, change=True)
        with tempfile.TemporaryDirectory(prefix="docs-assistant-upload-") as scratch:
            staged = []
            for i, (contents, name) in enumerate(files):
                temp = Path(scratch) / str(i)
                with temp.open("wb") as out:
                    shutil.copyfileobj(contents, out)
                staged.append((temp, name))
            check_uploads(self.settings, staged)
            return ingest_uploads(assistant, staged).to_dict()

    def outside_roots(self, path: str) -> Path | None:
        """The resolved path when it is outside every `[server] ingest_roots` (after symlinks and `..`), else None."""
        resolved = Path(path).expanduser().resolve()
        if any(resolved == root or resolved.is_relative_to(root) for root in self.ingest_roots):
            return None
        return resolved


def check_input(question: str, history: Sequence[Sequence[str]] = (), top_k: int | None = None,
                sources: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """The history as (question, answer) pairs, once the input is checked: InvalidText for text that is not
    Unicode (the question, a turn, a source filter), InvalidInput for a history that is not pairs of text or a
    top_k outside 1..TOP_K_MAX."""
    require_text(question or "")  # bytes a terminal could not decode arrive as lone surrogates, a JSON "\ud800" too
    turns = list(history or ())
    if not all(isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(s, str) for s in t) for t in turns):
        raise InvalidInput(HISTORY_SHAPE)
    for turn in turns:
        for text in turn:
            require_text(text, "history")
    for source in sources or ():
        require_text(source, "source filter")
    if top_k is not None and not 1 <= top_k <= TOP_K_MAX:
        raise InvalidInput(f"top_k must be between 1 and {TOP_K_MAX}, not {top_k}")
    return [(q, a) for q, a in turns]


class Readiness:
    """Whether the store answers and the model is loaded; the model loads in the background at start-up."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.model_error: str | None = None

    def load_model(self) -> None:
        try:
            self.assistant.load_models()
        except ModelError as exc:
            self.model_error = str(exc)
        except Exception as exc:  # a broken install: say what, /health stays 503  # noqa: BLE001
            self.model_error = f"the model failed to load ({type(exc).__name__}: {exc})"

    def store(self) -> str:
        try:
            self.assistant.store.check()  # a probe must reach the store, not its cached answer
        except StoreError as exc:
            return str(exc)
        return "ok"

    def model(self) -> str:
        if self.model_error:
            return self.model_error
        return "ok" if self.assistant.models_loaded else "loading"

    def report(self) -> dict:
        state = {"store": self.store(), "model": self.model()}
        state["status"] = "ok" if all(v == "ok" for v in state.values()) else "unavailable"
        return state
