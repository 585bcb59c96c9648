"""The chat app's API for scripts: /ask and /sources, for gradio_client (the page's own events are private).

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who denied involvement?", api_name="/ask")

Gradio derives each endpoint's parameters from the type hints, so this module keeps real
annotations (no `from __future__ import annotations`).
"""
import gradio as gr

from assistant.errors import USER_ERRORS

HISTORY_SHAPE = "The history must be a list of [question, answer] pairs, oldest first."


def add_endpoints(assistant) -> None:
    """Register /ask and /sources on the Blocks being built (call inside its `with` block)."""

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question about the indexed documents, with the same JSON as `assistant ask --json`.

        `history` holds the earlier [question, answer] turns, oldest first, so a follow-up is understood.
        The assistant's errors (empty question, nothing indexed) reach the client as an AppError with
        their one-line message; a declined question is not an error (`abstained` is true).
        """
        turns = history or []
        if not all(isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(s, str) for s in t)
                   for t in turns):
            raise gr.Error(HISTORY_SHAPE, print_exception=False)
        try:
            return assistant.ask(question, [(q, a) for q, a in turns]).to_dict()
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def sources() -> list[dict]:
        """What is indexed, sorted by source: doc_id, source, title, sha256, chunks, mtime, indexed_at."""
        try:
            return [record.to_dict() for record in assistant.sources()]
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    gr.api(ask, api_name="ask")
    gr.api(sources, api_name="sources")
