"""Saved conversations in the chat UI (assistant/history.py): the list beside the chat (new, open, rename, delete,
search), Markdown and JSON exports, thumbs up or down with a comment, and a note when the file cannot be used.

The owner is who asks (assistant/access.py): the logged-in user with `[ui] users`, else "local". The browser keeps the id of the conversation
on screen (gr.BrowserState in app.py), so a reload, or a server restart, opens it again.
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

import gradio as gr

from assistant.answer import Answer
from assistant.errors import AssistantError, HistoryUnavailable, UnknownConversation
from assistant.history import Conversation, to_markdown
from ui import citations, panels

SHOWN = 50  # conversations listed at once, most recently active first; a search finds any other
NOT_SAVED = "This answer was not saved, so it cannot be rated."
RATED = {1: "Like", -1: "Dislike"}  # a turn's rating -> the chat's feedback option shown as pressed


@dataclass(frozen=True)
class Thread:
    """The conversation on the page: its id once saved (None: nothing saved yet), and for each turn shown the saved
    turn's id (None: not saved) with the knowledge base it was asked on."""

    id: str | None = None
    turns: tuple[tuple[int | None, str], ...] = ()

    def then(self, turn_id: int | None, kb: str, cid: str | None = None) -> Thread:
        return Thread(cid or self.id, self.turns + ((turn_id, kb),))


def question_message(question: str) -> dict:
    """A question as the chat shows it (the chat renders HTML, not Markdown)."""
    return {"role": "user", "content": escape(question)}


def unavailable(exc: HistoryUnavailable):
    """The note above the chat while conversations cannot be saved (one line, naming the file)."""
    return gr.HTML(f'<p class="history-note" role="status">Conversations are not being saved. {escape(str(exc))}</p>',
                   visible=True)


def available():
    return gr.HTML("", visible=False)


class Conversations:
    """Event handlers of the conversation list and the feedback box; each returns its outputs in app.py's order.

    The sidebar's outputs: (list, title box, Markdown export, JSON export, the browser's last open id, note)."""

    def __init__(self, bases):
        self.history = bases.history
        self.access = bases.access
        self._exports = tempfile.TemporaryDirectory(prefix="docs-assistant-exports-")

    def owner(self, request: gr.Request | None) -> str:
        """Whose conversations these are: who asks (assistant/access.py): the logged-in user, or "local"."""
        return self.access.for_user(getattr(request, "username", None)).name

    # ---- saving a turn (called by Handlers.respond) ------------------------------------------
    def save(self, thread: Thread | None, assistant, question: str, answer: Answer | None, request: gr.Request = None):
        """Save an answered turn at the end of the thread's conversation (a new one for the first turn, or when
        another tab deleted it). Returns (the thread with the turn, history note)."""
        thread, kb = thread or Thread(), assistant.kb.name
        if answer is None:  # a failed turn is shown, not saved
            return thread.then(None, kb), gr.skip()
        who, args = self.owner(request), (question, answer.to_dict(), assistant.settings.answer.kind, kb)
        try:
            cid = thread.id or self.history.start(who, question).id
            try:
                turn = self.history.add_turn(who, cid, *args)
            except UnknownConversation:
                cid = self.history.start(who, question).id
                turn = self.history.add_turn(who, cid, *args)
        except HistoryUnavailable as exc:
            return thread.then(None, kb), unavailable(exc)
        return thread.then(turn.id, kb, cid), available()

    # ---- the list ------------------------------------------------------------------------------
    def sidebar(self, thread: Thread | None, search: str = "", request: gr.Request = None):
        """The list (the thread's conversation selected), its title, its exports, its id for the browser."""
        who, cid = self.owner(request), thread.id if thread else None
        try:
            listed = self.history.conversations(who, search or None, SHOWN)
            current = self._read(who, cid)
        except HistoryUnavailable as exc:
            return (gr.Radio(choices=[], value=None), gr.skip(), *_exports(None), gr.skip(), unavailable(exc))
        # the note stays: reading may work while saving does not (a file another program keeps locked)
        return (_radio(listed, current, search), current.title if current else "", *self._files(current),
                current.id if current else None, gr.skip())

    def listing(self, search: str, thread: Thread | None, request: gr.Request = None):
        """The list for a search (as typed). Output: the list."""
        try:
            return _radio(self.history.conversations(self.owner(request), search or None, SHOWN), thread, search)
        except HistoryUnavailable:
            return gr.Radio(choices=[], value=None)

    def open(self, cid: str | None, search: str = "", request: gr.Request = None):
        """Show one of the owner's conversations (none, or one not theirs: an empty chat). Outputs (chat, history,
        answers, thread, why) and the sidebar's."""
        try:
            conversation = self._read(self.owner(request), cid)
        except HistoryUnavailable:
            conversation = None
        thread, shown = _shown(conversation)
        return shown + self.sidebar(thread, search, request)

    def rename(self, thread: Thread | None, title: str, search: str = "", request: gr.Request = None):
        """Retitle the conversation on screen. Outputs: the sidebar's."""
        if not (thread and thread.id):
            raise gr.Error("Ask a question first: a conversation is saved with its first answer.",
                           print_exception=False)
        try:
            self.history.rename(self.owner(request), thread.id, title or "")
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return self.sidebar(thread, search, request)

    def delete(self, confirmed: str, thread: Thread | None, request: gr.Request = None) -> None:
        """Delete the conversation on screen once the browser's confirm() said "yes" (the page then starts a new
        one); "no" stops here, leaving the page as it is."""
        if confirmed == "no":
            raise gr.Error("Not deleted.", visible=False, print_exception=False)
        if thread and thread.id:
            try:
                self.history.delete(self.owner(request), thread.id)
            except UnknownConversation:
                pass  # deleted already (another tab)
            except HistoryUnavailable as exc:
                raise gr.Error(str(exc), print_exception=False) from None

    # ---- feedback ------------------------------------------------------------------------------
    def rate(self, thread: Thread | None, evt: gr.LikeData, request: gr.Request = None):
        """Thumbs up or down on an answer. Outputs (comment box, feedback line, the rating a comment joins)."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        turns = thread.turns if thread else ()
        turn_id = turns[index // 2][0] if index // 2 < len(turns) else None
        if evt.liked not in (True, False):  # the pressed thumb was pressed again: the rating stays as it was
            return gr.skip(), gr.skip(), gr.skip()
        if turn_id is None:
            return gr.Column(visible=False), _line(NOT_SAVED), None
        rating = 1 if evt.liked else -1
        try:
            self.history.rate(self.owner(request), turn_id, rating)
        except AssistantError as exc:
            return gr.Column(visible=False), _line(str(exc)), None
        thumb = "👍" if rating > 0 else "👎"
        return gr.Column(visible=True), _line(f"Saved {thumb}. Say why, if you like:"), (turn_id, rating)

    def comment(self, pending, text: str, request: gr.Request = None):
        """Keep a comment with the rating just given. Outputs (comment box, feedback line, comment text)."""
        if not pending:
            return gr.Column(visible=False), _line("Rate an answer first (👍 or 👎 under it)."), gr.skip()
        try:
            self.history.rate(self.owner(request), pending[0], pending[1], text)
        except AssistantError as exc:
            return gr.skip(), _line(str(exc)), gr.skip()
        return gr.Column(visible=False), _line("Comment saved with your rating." if (text or "").strip()
                                               else "Saved without a comment."), ""

    # ---- helpers -------------------------------------------------------------------------------
    def _read(self, who: str, cid: str | None) -> Conversation | None:
        if not cid:
            return None
        try:
            return self.history.conversation(who, cid)
        except UnknownConversation:  # deleted, or someone else's: to this owner it does not exist
            return None

    def _files(self, conversation: Conversation | None):
        """The conversation written as Markdown and JSON for the two download buttons."""
        if conversation is None or not conversation.turns:
            return _exports(None)
        folder = Path(self._exports.name) / conversation.id
        folder.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w-]+", "-", conversation.title).strip("-")[:60] or "conversation"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(to_markdown(conversation), encoding="utf-8")
        js.write_text(json.dumps(conversation.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        return _exports((md, js))


def _shown(conversation: Conversation | None):
    """(thread, (chat, history, answers, thread, why)) for a saved conversation (None: an empty chat)."""
    turns = conversation.turns if conversation else ()
    thread = Thread(conversation.id if conversation else None, tuple((t.id, t.kb) for t in turns))
    messages, pairs, answers = [], [], []
    for i, turn in enumerate(turns):
        answer = Answer.from_dict(turn.answer)
        messages += [question_message(turn.question),
                     {"role": "assistant", "content": citations.answer_html(answer, i)}]
        pairs.append((turn.question, answer.text))
        answers.append(answer)
    chat = gr.Chatbot(value=messages, feedback_value=[RATED.get(t.rating) for t in turns])
    return thread, (chat, pairs, answers, thread, panels.why_html(answers[-1] if answers else None))


def _radio(conversations: list[Conversation], current, search: str = "") -> gr.Radio:
    now = time.time()
    choices = [(f"{c.title} · {panels.ago(c.updated, now)}", c.id) for c in conversations]
    cid = getattr(current, "id", None)
    empty = f"Nothing matches “{search}”." if search else "None yet: every answered question is saved."
    return gr.Radio(choices=choices, value=cid if any(c.id == cid for c in conversations) else None,
                    info=None if choices else empty)


def _exports(files: tuple[Path, Path] | None):
    if files is None:
        return gr.DownloadButton(value=None, interactive=False), gr.DownloadButton(value=None, interactive=False)
    return tuple(gr.DownloadButton(value=str(f), interactive=True) for f in files)


def _line(text: str) -> str:
    return f'<p class="feedback-line" role="status">{escape(text)}</p>'
