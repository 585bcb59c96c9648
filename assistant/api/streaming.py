"""Running the Assistant off the event loop, and streaming its answer as server-sent events."""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi.concurrency import run_in_threadpool
from fastapi.sse import format_sse_event

from assistant.answerers import Revision
from assistant.text.sentences import sentence_spans

_LEADING_MARKS = re.compile(r"(?:\s*\[\d+\])+\s*")
END = object()  # what next() returns at the end of a stream (StopIteration cannot cross a thread)


async def start(stream: Iterator) -> AsyncIterator:
    """The stream run to its first item now (so an empty question or index is an HTTP status, not an event),
    then an async iterator over all its items, each produced in a worker thread."""
    first = await run_in_threadpool(next, stream, END)

    async def items() -> AsyncIterator:
        try:
            item = first
            while item is not END:
                yield item
                item = await run_in_threadpool(next, stream, END)
        finally:
            stream.close()  # a client that went away: the answerer stops (an LLM request is closed)

    return items()


def event(data: Any, name: str | None = None) -> bytes:
    """One server-sent event: `data` as JSON (a str as is), with an optional `event:` name."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return format_sse_event(data_str=text, event=name)


class AppendOnly:
    """Turns an answer's pieces and Revisions into text a client that can only append may show.

    An answerer that `revises` (the LLM) streams a draft and then replaces it as each sentence is
    verified: a withdrawn sentence must never reach such a client. Its text is sent only as Revisions
    settle it, up to the start of the sentence still being written; the rest comes with the final answer.
    Other answerers' pieces are final and sent as they come.
    """

    def __init__(self, revises: bool):
        self.revises = revises
        self.draft = ""
        self.sent = ""

    def add(self, item: str | Revision) -> str:
        """The text to append now for this piece ("" for none)."""
        if isinstance(item, Revision):
            self.draft = item.text
            if not self.revises:
                return self._extend(self.draft)
            spans = sentence_spans(self.draft)
            cut = spans[-1][0] if spans else 0
            marks = _LEADING_MARKS.match(self.draft, cut)  # "[1] " that ends the sentence before is settled too
            # Not the space after it: the final text may end there.
            return self._extend(self.draft[:marks.end() if marks else cut].rstrip())
        self.draft += item
        return "" if self.revises else self._extend(self.draft)

    def finish(self, text: str) -> str:
        """The rest of the final text, when it extends what was sent (it always does unless a sent
        sentence was later withdrawn, which only a non-revising answerer's Revision can cause)."""
        return self._extend(text)

    def _extend(self, text: str) -> str:
        if len(text) <= len(self.sent) or not text.startswith(self.sent):
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta
