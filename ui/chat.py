"""One chat turn: stream an answer as HTML, and turn any failure into a readable message."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import gradio as gr

from assistant.answer import Answer
from assistant.errors import EmptyIndex, failure
from assistant.answerers import Revision, available_kinds, kinds
from ui import citations

log = logging.getLogger(__name__)
EMPTY_INDEX_TIP = ("Nothing is indexed yet. Add documents in the sidebar (drop PDF, DOCX, HTML, Markdown or text "
                   "files) or run `assistant ingest PATH`, then ask again.")


def shown(exc: BaseException) -> gr.Error:
    """A user-facing error as Gradio shows it: its one line (assistant.errors.failure), no traceback."""
    return gr.Error(failure(exc).message, print_exception=False)


def answerer_choices(settings) -> list[tuple[str, str]]:
    """(label, kind) for every answerer the settings allow; new kinds appear without UI changes."""
    return [(kinds()[kind].label, kind) for kind in available_kinds(settings)]


def stream_turn(items: Iterator, question: str, turn: int) -> Iterator[tuple[str, Answer | None]]:
    """Yield (message html, None) while the answer's `items` (Service.stream's) stream in, then (final html, Answer).

    On failure the last item is (error html, None): the chat shows it and stays usable.
    """
    yield citations.pending_html(), None
    text = ""
    try:
        for piece in items:
            if isinstance(piece, Answer):
                yield citations.answer_html(piece, turn), piece
                return
            # A Revision replaces the text: an LLM's sentence that failed verification is withdrawn.
            text = piece.text if isinstance(piece, Revision) else text + piece
            yield citations.streaming_html(text, turn, 0), None
    except EmptyIndex:
        yield citations.notice_html(EMPTY_INDEX_TIP), None
        return
    except Exception as exc:  # the UI must survive anything; a bug's traceback goes to the server log only
        shown = failure(exc)
        if shown:
            yield citations.error_html(shown.message, "Check the settings or the store, then ask again."), None
            return
        log.exception("answering %r failed", question)
        yield citations.error_html(f"Something went wrong while answering ({type(exc).__name__}).",
                                   "The details are in the server log. The chat still works: try again."), None
        return
    yield citations.error_html("The answerer stopped without an answer.", "Try again."), None
