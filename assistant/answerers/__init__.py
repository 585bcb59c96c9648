"""The answerers, registered in one place: adding one is a module and a line in KINDS.

Settings, the CLI, the UI, the HTTP API and evals all read the kinds from here. Importing this
module is light: an answerer's module (and what it needs, an LLM client say) loads only when one
is made.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from assistant.answerers.base import Answerer, AnswerRequest, AnswerResult, AnswerStream, Revision, abstain

if TYPE_CHECKING:
    from assistant.settings import Settings
    from vectorstore.embedder import Embedder


@dataclass(frozen=True)
class Kind:
    """One answerer: its label for people, its module, and whether settings allow it."""

    label: str
    module: str  # has make(settings, embedder) -> Answerer
    available: Callable[[Settings], bool] = lambda settings: True
    needs: str = ""  # what `available` asks of the settings, for people


KINDS: dict[str, Kind] = {
    "extractive": Kind("Extractive (offline, no LLM)", "assistant.answerers.extractive"),
    "llm": Kind("LLM with verified citations", "assistant.answerers.llm",
                lambda s: bool(s.llm.base_url or s.llm.gguf), "`[llm] base_url` or `[llm] gguf` (docs/llm.md)"),
    "top-passage": Kind("Top passage (baseline)", "assistant.answerers.top_passage"),
}


def available_kinds(settings: Settings) -> list[str]:
    """The kinds these settings can answer with (the LLM only when one is configured)."""
    return [name for name, kind in KINDS.items() if kind.available(settings)]


def make_answerer(kind: str, settings: Settings, embedder: Embedder) -> Answerer:
    """The answerer named `kind`, built from settings and the embedding model.

    It holds nothing of an index: the AnswerRequest brings the passages and the index's vocabulary, so
    one answerer serves every knowledge base."""
    if kind not in KINDS:
        from assistant.errors import ConfigError

        raise ConfigError(f"Unknown answerer '{kind}': choose one of {', '.join(KINDS)}")
    return import_module(KINDS[kind].module).make(settings, embedder)


def answerers_table() -> str:
    """The Markdown table of the answerers (docs/evals.md holds a copy; a test keeps it current)."""
    rows = ["| `--answerer` | what answers | needs |", "|---|---|---|"]
    rows += [f"| `{name}` | {kind.label} | {kind.needs or 'nothing more'} |" for name, kind in KINDS.items()]
    return "\n".join(rows)


__all__ = ["KINDS", "AnswerRequest", "AnswerResult", "AnswerStream", "Answerer", "Kind", "Revision", "abstain", "answerers_table",
           "available_kinds", "make_answerer"]
