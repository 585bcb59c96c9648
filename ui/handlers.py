"""What the UI's events do, as plain methods over the application service (assistant/service.py; the layout lives
in app.py).

Every event on the index gets the selected knowledge base (`kb`, None for the process's own): the
chat, the document viewer, the sources list, uploads and removals all follow the selection. Each also
gets Gradio's request: its logged-in user is who asks (assistant/access.py), and a base that user may
not read (or change) is a one-line message, never an empty list."""
from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

import gradio as gr

from assistant.access import Principal
from assistant.answer import Answer, Citation
from assistant.errors import USER_ERRORS, Forbidden, failure
from assistant.service import Service
from assistant.uploads import UploadResult
from ingest.progress import IngestProgress
from ui import citations, panels, welcome
from ui.chat import shown, stream_turn
from ui.conversations import Conversations, Thread, question_message
from ui.citations import short_source

log = logging.getLogger(__name__)


class _Progress(IngestProgress):
    """Ingest progress shown as Gradio's progress bar."""

    def __init__(self, bar: gr.Progress):
        self.bar, self.total, self.done = bar, 0, 0

    def files(self, total: int) -> None:
        self.total = total
        self.bar((0, total), desc="Reading files", unit="files")

    def reading(self, source: str, step: str) -> None:
        self.bar((self.done, self.total), desc=f"{step} of {short_source(source)}", unit="files")

    def file_started(self, source: str, chunks: int) -> None:
        self.bar((self.done, self.total), desc=f"Embedding {short_source(source)} ({chunks} passages)", unit="files")

    def file_done(self, result) -> None:
        self.done += 1
        self.bar((self.done, self.total), desc=f"{short_source(result.source)}: {result.status}", unit="files")


class Handlers:
    """Event handlers; each returns the new values of its outputs, in the order app.py wires them."""

    def __init__(self, target):
        self.service = Service.of(target)  # the process's one service, or a new one over an Assistant
        self.assistant = self.service.assistant
        self.bases = self.service.bases
        self.talks = Conversations(self.bases)

    def who(self, request: gr.Request | None) -> Principal:
        """Who is asking: the request's logged-in user (or, without a login, local use)."""
        return self.service.access.for_user(getattr(request, "username", None))

    # ---- chat ------------------------------------------------------------------------
    def accept(self, question):
        """Enter was pressed: an empty question stops here, so nothing is sent. Outputs (box, pending question)."""
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question first.", visible=False, print_exception=False)
        return "", question

    def respond(self, question, messages, history, answers, top_k=None, sources=None, kind=None, kb=None,
                thread=None, request: gr.Request = None):
        """Stream one turn, then save it. Outputs (chat, history, answers, why panel, viewer, thread, history note)."""
        question = (question or "").strip()
        if not question:  # an empty message is not sent
            yield (gr.skip(),) * 7
            return
        turn = len(answers or [])
        messages = list(messages or []) + [question_message(question), {"role": "assistant", "content": ""}]
        answer = None
        try:
            who = self.who(request)
            assistant = self.service.open(kb, kind, who=who)
        except USER_ERRORS as exc:  # the knowledge base was deleted since the page listed it (or is not for who)
            html = citations.error_html(failure(exc).message, "Reload the page to see the knowledge bases there are.")
            yield (messages[:-1] + [{"role": "assistant", "content": html}], gr.skip(), list(answers or []) + [None],
                   gr.skip(), gr.skip(), (thread or Thread()).then(None, kb or ""), gr.skip())
            return
        items = self.service.stream(question, history or [], int(top_k) if top_k else None, sources, kb=kb, kind=kind,
                                    who=who)
        for html, answer in stream_turn(items, question, turn):
            messages = messages[:-1] + [{"role": "assistant", "content": html}]  # a new list per update
            yield (messages,) + (gr.skip(),) * 6
        history = list(history or []) + ([(question, answer.text)] if answer else [])
        answers = list(answers or []) + [answer]
        viewer = self._viewer_for(answer, kb, who) if answer and answer.citations else gr.skip()
        thread, note = self.talks.save(thread, assistant, question, answer, request)
        yield gr.skip(), history, answers, panels.why_html(answer) if answer else gr.skip(), viewer, thread, note

    def clear(self, kb=None, request: gr.Request = None):
        """The chat was cleared: a new conversation. Outputs (history, answers, why, viewer, thread)."""
        return ([], [], panels.why_html(None), panels.viewer_placeholder(bool(self._records(kb, self.who(request)))),
                Thread())

    def new(self, kb=None, request: gr.Request = None):
        """A new conversation: the chat emptied. Outputs (chat,) + clear's."""
        return ([],) + self.clear(kb, request)

    def switch(self, kb=None, request: gr.Request = None):
        """Another knowledge base was chosen: a new conversation on it. Outputs: `_index_outputs` (the chat
        emptied, the source filter cleared), then clear's."""
        return self._index_outputs(kb, self.who(request), new=True) + self.clear(kb, request)

    def example(self, evt: gr.SelectData):
        """An example question was clicked: it becomes the question."""
        value = evt.value if isinstance(evt.value, dict) else {}
        return value.get("text", "")

    # ---- documents ---------------------------------------------------------------------
    def open(self, evt: gr.EventData, kb=None, answers=None, thread=None, request: gr.Request = None):
        """A link asked for a document (at a position). Outputs (viewer, side tabs, main tabs)."""
        query = parse_qs(getattr(evt, "link", "") or "")
        source = (query.get("open") or [""])[0]
        who = self.who(request)
        cited = _cited(query, answers, thread)
        if cited:
            html = self._cited_html(*cited, kb, who)
        elif source not in {r.source for r in self._records(kb, who)}:  # only what is indexed, never a path on disk
            html = f'<div class="doc empty"><p>{escape(short_source(source))} is no longer indexed.</p></div>'
        else:
            record = self.service.document(source, kb, who=who)
            html = panels.document_html(record, _span(query, "p"), _span(query, "s"))
        return html, gr.Tabs(selected="doc"), gr.Tabs(selected="chat")

    def upload(self, files, kb=None, progress=gr.Progress(), request: gr.Request = None):
        """Files were dropped: copy, ingest, report per file. Outputs: see `_index_outputs` plus (file, results)."""
        who = self.who(request)
        if not files:
            return (gr.skip(),) * 2 + self._index_outputs(kb, who)
        pairs = [(f, Path(f).name) for f in (files if isinstance(files, list) else [files])]
        try:
            results = self.service.ingest_files(pairs, kb, who=who, progress=_Progress(progress))
        except USER_ERRORS as exc:
            results = [UploadResult(name, "failed", error=failure(exc).message) for _, name in pairs]
        except Exception as exc:
            log.exception("ingesting uploads failed")
            reason = f"could not ingest ({type(exc).__name__}); see the server log"
            results = [UploadResult(name, "failed", error=reason) for _, name in pairs]
        return (None, panels.uploads_html(results)) + self._index_outputs(kb, who)

    def remove(self, source, kb=None, request: gr.Request = None):
        """Remove one indexed source (see Assistant.remove). Outputs: (results,) + index outputs."""
        who = self.who(request)
        if not source:
            return (gr.skip(),) + self._index_outputs(kb, who)
        try:
            removed = self.service.remove(source, kb, who=who)
        except USER_ERRORS as exc:
            failed = UploadResult(short_source(source), "failed", error=failure(exc).message)
            return (panels.uploads_html([failed]),) + self._index_outputs(kb, who)
        line = f'<ul class="upload-results"><li class="unchanged"><span class="badge">removed</span>' \
               f'<span class="name">{escape(short_source(removed))}</span></li></ul>'
        return (line,) + self._index_outputs(kb, who)

    def refresh(self, kb=None, request: gr.Request = None):
        """The page (re)opened: the knowledge bases its user may read now, and what the selected one holds.
        Outputs: `_index_outputs`, then the knowledge base picker."""
        who = self.who(request)
        names = self.knowledge_bases(who)
        if kb not in names:  # deleted since (or not for this user): back to the process's own, or the first
            kb = self.assistant.kb.name if self.assistant.kb.name in names else names[0]
        return self._index_outputs(kb, who) + (gr.Dropdown(choices=names, value=kb, visible=len(names) > 1),)

    def knowledge_bases(self, who: Principal) -> list[str]:
        """The names the picker offers `who` (it shows only when there are several)."""
        try:
            return self.bases.names(who)
        except Forbidden as exc:
            raise shown(exc) from exc
        except USER_ERRORS:
            log.warning("cannot list the knowledge bases", exc_info=True)
            return [self.assistant.kb.name]

    def _index_outputs(self, kb, who: Principal, new: bool = False):
        """(header, sources list, remove picker, source filter, chat placeholder/examples) for the selected index;
        `new`: a new conversation (the chat emptied, the source filter cleared)."""
        records = self._records(kb, who)
        choices = [(f"{r.title or short_source(r.source)} · {short_source(r.source)}", r.source) for r in records]
        chat = dict(placeholder=welcome.placeholder(records), examples=welcome.examples(records) or None)
        return (welcome.header_html(records), panels.sources_html(records),
                gr.Dropdown(choices=choices, value=None),
                gr.Dropdown(choices=choices, value=[], multiselect=True) if new else gr.Dropdown(choices=choices),
                gr.Chatbot(value=[], **chat) if new else gr.Chatbot(**chat))

    def _records(self, kb, who: Principal):
        """What `kb` holds; a base `who` may not read is a one-line message, not an empty list."""
        try:
            return self.service.sources(kb, who=who)
        except Forbidden as exc:
            raise shown(exc) from exc
        except USER_ERRORS:
            log.warning("cannot list the indexed sources", exc_info=True)
            return []

    def _cited_html(self, citation: Citation, asked_on: str | None, kb, who: Principal) -> str:
        """A citation's passage in its document (on the knowledge base it was asked on), or why it cannot be."""
        try:
            record = self.service.open(asked_on or kb, who=who).cited_document(citation)
        except USER_ERRORS as exc:
            return f'<div class="doc empty gone"><p>{escape(failure(exc).message)}</p></div>'
        return panels.document_html(record, (citation.start, citation.end), citation.sentence_span())

    def _viewer_for(self, answer: Answer, kb, who: Principal) -> str:
        first = answer.citations[0]
        try:
            record = self.service.document(first.source, kb, who=who)
        except USER_ERRORS:
            return panels.viewer_placeholder(True)
        return panels.document_html(record, (first.start, first.end), first.sentence_span())


def _cited(query: dict, answers, thread) -> tuple[Citation, str | None] | None:
    """(citation, knowledge base it was asked on) a link names as `c=TURN-N`, if the page has that answer."""
    span = _span(query, "c")
    if span is None or not answers:
        return None
    turn, n = span
    answer = answers[turn] if 0 <= turn < len(answers) else None
    if answer is None or not 1 <= n <= len(answer.citations):
        return None
    turns = thread.turns if thread else ()
    return answer.citations[n - 1], turns[turn][1] if turn < len(turns) else None


def _span(query: dict, key: str) -> tuple[int, int] | None:
    try:
        a, b = (query.get(key) or [""])[0].split("-")
        return int(a), int(b)
    except ValueError:
        return None
