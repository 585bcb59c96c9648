"""The assistants a long-running process (`serve`, `chat`) answers with, one per knowledge base and answerer kind.

Each is opened on first use and kept: every knowledge base shares the process's embedding model, and
every answerer kind is made once and shared by all of them (an LLM is started, or connected, once).
A knowledge base another process deleted is opened again on its next use: UnknownKnowledgeBase if it
is still gone, its new collections if it was made again.
"""
from __future__ import annotations

import threading

from assistant.core import Assistant
from assistant.history import History
from assistant.kb import check_name


class OpenBases:
    """The knowledge bases of the process's assistant (its home or Chroma server), each with any answerer."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant  # what the process was started with: the knowledge base and kind by default
        self._bases = {assistant.kb.name: assistant}  # knowledge base -> its assistant (the default kind)
        self._kinds = {assistant.settings.answer.kind: assistant}  # kind -> an assistant whose answerer is shared
        self._views: dict[tuple[str, str], Assistant] = {}
        self._lock = threading.Lock()
        self.history = History.of(assistant.settings)  # the saved conversations of the home

    def names(self) -> list[str]:
        """Every knowledge base: "default" first, then by name."""
        return self.assistant.knowledge_bases()

    def get(self, kb: str | None = None, kind: str | None = None) -> Assistant:
        """The assistant on knowledge base `kb` answering with `kind` (None: the process's own).

        InvalidKnowledgeBaseName or UnknownKnowledgeBase when there is no such knowledge base."""
        name = self.assistant.kb.name if kb is None else check_name(kb)
        kind = kind or self.assistant.settings.answer.kind
        with self._lock:
            view = self._views.get((name, kind))
            if view is not None and not view.store.missing:
                return view
            base = self._bases.get(name)
            if base is None or base.store.missing:
                base = self._bases[name] = self.assistant.with_kb(name)
            if kind not in self._kinds:
                self._kinds[kind] = self.assistant.with_answerer(kind)
            view = base if kind == base.settings.answer.kind else base.with_answerer(kind, self._kinds[kind].answerer)
            self._views[(name, kind)] = view
            return view

    def summaries(self) -> list[dict]:
        """Each knowledge base with how many documents it holds (one deleted meanwhile is left out)."""
        from assistant.errors import UnknownKnowledgeBase
        from vectorstore.errors import MissingNamespace

        out = []
        for name in self.names():
            try:
                out.append({"name": name, "documents": len(self.get(name).sources())})
            except (UnknownKnowledgeBase, MissingNamespace):
                continue
        return out
