"""What the UI's events do, as plain methods over the knowledge bases of one Assistant (the layout lives in app.py).

Every event on the index gets the selected knowledge base (`kb`, None for the process's own): the
chat, the document viewer, the sources list, uploads and removals all follow the selection."""
from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

import gradio as gr

from assistant.answer import Answer
from assistant.bases import OpenBases
from assistant.errors import USER_ERRORS
from assistant.uploads import UploadResult, ingest_uploads
from ingest.progress import IngestProgress
from ui import citations, panels, welcome
from ui.chat import stream_turn
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

    def __init__(self, assistant):
        self.assistant = assistant
        self.bases = OpenBases(assistant)

    # ---- chat ------------------------------------------------------------------------
    def accept(self, question):
        """Enter was pressed: an empty question stops here, so nothing is sent. Outputs (box, pending question)."""
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question first.", visible=False, print_exception=False)
        return "", question

    def respond(self, question, messages, history, answers, top_k=None, sources=None, kind=None, kb=None):
        """Stream one turn. Outputs (chat, history, answers, why panel, viewer)."""
        question = (question or "").strip()
        if not question:  # an empty message is not sent
            yield (gr.skip(),) * 5
            return
        turn = len(answers or [])
        messages = list(messages or []) + [{"role": "user", "content": escape(question)},
                                           {"role": "assistant", "content": ""}]
        answer = None
        try:
            bot = self.bases.get(kb, kind)
        except USER_ERRORS as exc:  # the knowledge base was deleted since the page listed it
            html = citations.error_html(str(exc), "Reload the page to see the knowledge bases there are.")
            yield messages[:-1] + [{"role": "assistant", "content": html}], gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        for html, answer in stream_turn(bot, question, history or [], turn, int(top_k) if top_k else None, sources):
            messages = messages[:-1] + [{"role": "assistant", "content": html}]  # a new list per update
            yield messages, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        history = list(history or []) + ([(question, answer.text)] if answer else [])
        answers = list(answers or []) + [answer]
        viewer = self._viewer_for(answer, kb) if answer and answer.citations else gr.skip()
        yield gr.skip(), history, answers, panels.why_html(answer) if answer else gr.skip(), viewer

    def clear(self, kb=None):
        """The chat was cleared: forget the conversation. Outputs (history, answers, why, viewer)."""
        return [], [], panels.why_html(None), panels.viewer_placeholder(bool(self._records(kb)))

    def switch(self, kb=None):
        """Another knowledge base was chosen: a new conversation on it. Outputs: `_index_outputs` (the chat
        emptied, the source filter cleared), then (history, answers, why, viewer)."""
        return self._index_outputs(kb, new=True) + self.clear(kb)

    def example(self, evt: gr.SelectData):
        """An example question was clicked: it becomes the question."""
        value = evt.value if isinstance(evt.value, dict) else {}
        return value.get("text", "")

    # ---- documents ---------------------------------------------------------------------
    def open(self, evt: gr.EventData, kb=None):
        """A link asked for a document (at a position). Outputs (viewer, side tabs, main tabs)."""
        query = parse_qs(getattr(evt, "link", "") or "")
        source = (query.get("open") or [""])[0]
        if source not in {r.source for r in self._records(kb)}:  # only what is indexed, never a path on disk
            html = f'<div class="doc empty"><p>{escape(short_source(source))} is no longer indexed.</p></div>'
        else:
            html = panels.document_html(self.bases.get(kb).document(source), _span(query, "p"), _span(query, "s"))
        return html, gr.Tabs(selected="doc"), gr.Tabs(selected="chat")

    def upload(self, files, kb=None, progress=gr.Progress()):
        """Files were dropped: copy, ingest, report per file. Outputs: see `_index_outputs` plus (file, results)."""
        if not files:
            return (gr.skip(),) * 2 + self._index_outputs(kb)
        pairs = [(f, Path(f).name) for f in (files if isinstance(files, list) else [files])]
        try:
            results = ingest_uploads(self.bases.get(kb), pairs, progress=_Progress(progress)).files
        except USER_ERRORS as exc:
            results = [UploadResult(name, "failed", error=str(exc)) for _, name in pairs]
        except Exception as exc:
            log.exception("ingesting uploads failed")
            reason = f"could not ingest ({type(exc).__name__}); see the server log"
            results = [UploadResult(name, "failed", error=reason) for _, name in pairs]
        return (None, panels.uploads_html(results)) + self._index_outputs(kb)

    def remove(self, source, kb=None):
        """Remove one indexed source (see Assistant.remove). Outputs: (results,) + index outputs."""
        if not source:
            return (gr.skip(),) + self._index_outputs(kb)
        try:
            bot = self.bases.get(kb)
            removed = bot.remove(source)
        except USER_ERRORS as exc:
            return (panels.uploads_html([UploadResult(short_source(source), "failed", error=str(exc))]),) + \
                self._index_outputs(kb)
        line = f'<ul class="upload-results"><li class="unchanged"><span class="badge">removed</span>' \
               f'<span class="name">{escape(short_source(removed))}</span></li></ul>'
        return (line,) + self._index_outputs(kb)

    def refresh(self, kb=None):
        """The page (re)opened: the knowledge bases there are now, and what the selected one holds.
        Outputs: `_index_outputs`, then the knowledge base picker."""
        names = self.knowledge_bases()
        if kb not in names:  # deleted since: back to the process's own
            kb = self.assistant.kb.name
        return self._index_outputs(kb) + (gr.Dropdown(choices=names, value=kb, visible=len(names) > 1),)

    def knowledge_bases(self) -> list[str]:
        """The names the picker offers (it shows only when there are several)."""
        try:
            return self.bases.names()
        except USER_ERRORS:
            log.warning("cannot list the knowledge bases", exc_info=True)
            return [self.assistant.kb.name]

    def _index_outputs(self, kb=None, new: bool = False):
        """(header, sources list, remove picker, source filter, chat placeholder/examples) for the selected index;
        `new`: a new conversation (the chat emptied, the source filter cleared)."""
        records = self._records(kb)
        choices = [(f"{r.title or short_source(r.source)} · {short_source(r.source)}", r.source) for r in records]
        chat = dict(placeholder=welcome.placeholder(records), examples=welcome.examples(records) or None)
        return (welcome.header_html(records), panels.sources_html(records),
                gr.Dropdown(choices=choices, value=None),
                gr.Dropdown(choices=choices, value=[], multiselect=True) if new else gr.Dropdown(choices=choices),
                gr.Chatbot(value=[], **chat) if new else gr.Chatbot(**chat))

    def _records(self, kb=None):
        try:
            return self.bases.get(kb).sources()
        except USER_ERRORS:
            log.warning("cannot list the indexed sources", exc_info=True)
            return []

    def _viewer_for(self, answer: Answer, kb=None) -> str:
        first = answer.citations[0]
        try:
            record = self.bases.get(kb).document(first.source)
        except USER_ERRORS:
            return panels.viewer_placeholder(True)
        return panels.document_html(record, (first.start, first.end), first.sentence_span())


def _span(query: dict, key: str) -> tuple[int, int] | None:
    try:
        a, b = (query.get(key) or [""])[0].split("-")
        return int(a), int(b)
    except ValueError:
        return None
