"""The span reader: reads a question against passages and points at the exact phrase that answers.

`Reader.read(question, passages)` gives, for each passage, its best spans (verbatim character ranges
of the passage, best first) and its no-answer score; `Reading.margin` (best span minus no-answer) is
how strongly the passage answers. The shipped model, its training and scores: docs/reader.md.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.reader.decode import Span, spans
from assistant.reader.model import READER_SHA256, SHIPPED, OnnxReader

SPANS_PER_PASSAGE = 3


@dataclass(frozen=True)
class Reading:
    """What the reader found in one passage: its best spans (best first) and its no-answer score."""

    spans: tuple[Span, ...]
    null: float

    @property
    def margin(self) -> float:
        """Best span score minus the no-answer score: above 0, the reader would rather answer than not."""
        return self.spans[0].score - self.null if self.spans else -math.inf


class Reader:
    """The ONNX reader, loaded on first use; the shipped one is checked by its sha256."""

    def __init__(self, path: Path | None = None, threads: int | None = None):
        self.path = Path(path) if path else SHIPPED
        self.expected = READER_SHA256 if path is None else None
        self.threads = threads
        self._model: OnnxReader | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> OnnxReader:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = OnnxReader(self.path, self.threads, self.expected)
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def read(self, question: str, passages: Sequence[str],
             keep: Callable[[str, int, int], bool] = lambda passage, start, end: True,
             limit: int = SPANS_PER_PASSAGE) -> list[Reading]:
        """One Reading per passage; only spans that keep(passage, start, end) accepts are offered."""
        model = self.model
        qids = model.windower.question_ids(question)
        windows = [model.windower.windows(qids, p) for p in passages]
        flat = [w for ws in windows for w in ws]
        if not flat:
            return []
        starts, ends = model.logits(flat)
        out, at = [], 0
        for passage, ws in zip(passages, windows):
            found, null = spans(ws, starts[at:at + len(ws)], ends[at:at + len(ws)],
                                lambda a, b, p=passage: keep(p, a, b), limit, text=passage)
            out.append(Reading(tuple(found), null))
            at += len(ws)
        return out


_SHIPPED: Reader | None = None
_SHIPPED_LOCK = threading.Lock()


def shipped_reader() -> Reader:
    """The one Reader of the shipped model in this process (loaded on first use)."""
    global _SHIPPED
    with _SHIPPED_LOCK:
        if _SHIPPED is None:
            _SHIPPED = Reader()
        return _SHIPPED


__all__ = ["Reader", "Reading", "Span", "shipped_reader"]
