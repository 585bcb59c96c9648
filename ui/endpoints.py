"""The chat app's API for scripts: /ask and /sources, for gradio_client (the page's own events are private).

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who denied involvement?", api_name="/ask")

With `[ui] users`, log in with `Client(url, auth=("alice", "password"))`: the user may use the
knowledge bases its `[access.alice]` rule lets it read (docs/access.md), as on the page.

Gradio derives each endpoint's parameters from the type hints, so this module keeps real
annotations (no `from __future__ import annotations`).
"""
from typing import Optional

import gradio as gr

from assistant.errors import USER_ERRORS
from ui.chat import shown


def add_endpoints(handlers) -> None:
    """Register /ask and /sources on the Blocks being built (call inside its `with` block); `handlers` is the page's
    ui.handlers.Handlers, whose service and users they share."""
    service = handlers.service

    def ask(question: str, history: Optional[list[list[str]]] = None, kb: Optional[str] = None,
            request: gr.Request = None) -> dict:
        """Answer a question about the indexed documents, with the same JSON as `assistant ask --json`.

        `history` holds the earlier [question, answer] turns, oldest first, so a follow-up is understood;
        `kb` is the knowledge base (default: the one the app was started on).
        The assistant's errors (empty question, nothing indexed, a knowledge base the user may not read)
        reach the client as an AppError with their one-line message; a declined question is not an error
        (`abstained` is true).
        """
        try:
            return service.ask(question, history or [], kb=kb or None, who=handlers.who(request)).to_dict()
        except USER_ERRORS as exc:
            raise shown(exc) from exc

    def sources(kb: Optional[str] = None, request: gr.Request = None) -> list[dict]:
        """What is indexed in `kb` (default: the app's), sorted by source: doc_id, source, title, sha256, chunks,
        mtime, indexed_at."""
        try:
            return [record.to_dict() for record in service.sources(kb or None, who=handlers.who(request))]
        except USER_ERRORS as exc:
            raise shown(exc) from exc

    gr.api(ask, api_name="ask")
    gr.api(sources, api_name="sources")
