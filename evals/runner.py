"""Run cases through one or more assistants, using only the public `Assistant` API (ask, document)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from evals.cases import Case
from evals.scoring import score_case


class CaseProgress:
    """Callbacks of a run; the CLI shows a bar with ETA, the default is silent."""

    def start(self, total: int) -> None:
        """The run will ask `total` cases."""

    def advance(self, case_id: str) -> None:
        """A case is done (by every system)."""


@dataclass
class System:
    """One configuration under test: an Assistant (anything with `ask`) and how it was set up."""

    name: str
    assistant: Any
    description: str = ""
    settings: dict = field(default_factory=dict)
    top_k: int | None = None
    _texts: dict = field(default_factory=dict, repr=False)

    def ask(self, case: Case) -> tuple[Any, list[tuple[str, str]]]:
        """Ask the case's earlier questions in order (each answer feeds the history), then the case."""
        history: list[tuple[str, str]] = []
        for question in case.history:
            earlier = self.assistant.ask(question, history=list(history), top_k=self.top_k)
            history.append((question, earlier.text))
        return self.assistant.ask(case.question, history=history, top_k=self.top_k), history

    @cached_property
    def verifier(self):
        """The LLM answerer's support check, on the assistant's own model (None for one without)."""
        embedder, settings = getattr(self.assistant, "answer_embedder", None), getattr(self.assistant, "settings", None)
        if embedder is None or settings is None:
            return None
        from assistant.answerers.llm.verify import Verifier

        return Verifier(embedder.embed_cached, settings.llm.min_support)

    def document_text(self, source: str) -> str | None:
        """The cleaned text a citation's offsets point into (None if the assistant cannot show it)."""
        if source not in self._texts:
            try:
                self._texts[source] = self.assistant.document(source).text
            except Exception:  # an assistant without documents (a stub) or a source removed meanwhile
                self._texts[source] = None
        return self._texts[source]


@dataclass
class Run:
    """Per-system case records of one run; `interrupted` when Ctrl-C stopped it early."""

    records: dict[str, list[dict]]
    planned: int
    seconds: float
    interrupted: bool = False


def run_cases(cases: Sequence[Case], systems: Sequence[System], progress: CaseProgress | None = None) -> Run:
    """Ask every case of every system, case by case, so a Ctrl-C leaves comparable partial results."""
    progress = progress or CaseProgress()
    records: dict[str, list[dict]] = {s.name: [] for s in systems}
    began = time.perf_counter()
    progress.start(len(cases))
    interrupted = False
    for case in cases:
        done: dict[str, dict] = {}
        try:
            for system in systems:
                case_began = time.perf_counter()
                answer, history = system.ask(case)
                record = score_case(case, answer, system.document_text, system.verifier)
                if "valid" in record and getattr(answer, "answered_by", None):
                    # The extractive answer standing in for an LLM answer that did not verify.
                    record["stood_in"] = answer.answered_by != system.settings.get("answer", {}).get("kind")
                if history:
                    record["history_answers"] = [text for _, text in history]
                record["seconds"] = round(time.perf_counter() - case_began, 3)
                done[system.name] = record
        except KeyboardInterrupt:
            interrupted = True  # the case in flight is dropped: only whole cases count
            break
        for name, record in done.items():
            records[name].append(record)
        progress.advance(case.id)
    return Run(records, len(cases), time.perf_counter() - began, interrupted)
