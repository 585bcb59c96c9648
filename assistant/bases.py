"""The assistants a long-running process (`serve`, `chat`) answers with, one per knowledge base and answerer kind.

Each is opened on first use and kept: every knowledge base shares the process's embedding model, and
every answerer kind is made once and shared by all of them (an LLM is started, or connected, once).
A knowledge base another process deleted is opened again on its next use: UnknownKnowledgeBase if it
is still gone, its new collections if it was made again.

Every front end reaches a knowledge base through here, with who is asking (assistant/access.py): a
principal that may not read it (or change it, for a change) gets Forbidden before anything is opened,
whether the base exists or not, and lists show only the bases it may read.
"""
from __future__ import annotations

import threading

from assistant import kb as bases
from assistant.access import Access, Principal
from assistant.core import Assistant
from assistant.history import History
from assistant.kbnames import check_name


class OpenBases:
    """The knowledge bases of the process's assistant (its home or Chroma server), each with any answerer, and the
    saved conversations of its home (`history`, one for the whole process)."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant  # what the process was started with: the knowledge base and kind by default
        self.access = Access(assistant.settings)
        self._bases = {assistant.kb.name: assistant}  # knowledge base -> its assistant (the default kind)
        self._kinds = {assistant.settings.answer.kind: assistant}  # kind -> an assistant whose answerer is shared
        self._views: dict[tuple[str, str], Assistant] = {}
        self._lock = threading.Lock()
        self.history = History.of(assistant.settings)  # opened on first use

    def names(self, who: Principal) -> list[str]:
        """The knowledge bases `who` may read: "default" first, then by name; Forbidden when there is none."""
        names = [name for name in self.assistant.knowledge_bases() if who.may(name)]
        if not names:
            raise who.nothing_readable()
        return names

    def first(self, who: Principal) -> str:
        """The knowledge base to open for `who`: the process's own when it may read it, else the first it may."""
        own = self.assistant.kb.name
        return own if who.may(own) else self.names(who)[0]

    def get(self, kb: str | None = None, kind: str | None = None, *, who: Principal, change: bool = False) -> Assistant:
        """The assistant on knowledge base `kb` answering with `kind` (None: the process's own), for `who`.

        Forbidden when `who` may not read it (with `change`: change it); InvalidKnowledgeBaseName or
        UnknownKnowledgeBase when there is no such knowledge base."""
        name = self.assistant.kb.name if kb is None else check_name(kb)
        who.check(name, change)
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

    def summaries(self, who: Principal) -> list[dict]:
        """Each knowledge base `who` may read with how many documents it holds (one deleted meanwhile is left out)."""
        from assistant.errors import UnknownKnowledgeBase
        from vectorstore.errors import MissingNamespace

        out = []
        for name in self.names(who):
            try:
                out.append({"name": name, "documents": len(self.get(name, who=who).sources())})
            except (UnknownKnowledgeBase, MissingNamespace):
                continue
        return out

    def create(self, name: str, who: Principal) -> dict:
        """Make knowledge base `name` (Forbidden unless `who` may change it); its summary."""
        who.check(check_name(name), change=True)
        return {"name": bases.create(self.assistant.settings, name).name, "documents": 0}

    def delete(self, name: str, who: Principal) -> str:
        """Delete knowledge base `name` (Forbidden unless `who` may change it); its name."""
        who.check(check_name(name), change=True)
        with self._lock:
            deleted = bases.delete(self.assistant.settings, name).name
            self._bases.pop(deleted, None)
            for key in [key for key in self._views if key[0] == deleted]:
                del self._views[key]
        return deleted
