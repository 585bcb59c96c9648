"""The answerers: built-ins and plugins register through one hook, the entry point group GROUP.

A plugin is a package whose metadata has an entry point in group `docs_assistant.answerers`, named by the
kind it adds and pointing at a `Kind`: `echo = my_plugin:KIND` (docs/answerers.md shows a whole one). The
built-ins are the same entry points, written here (BUILTINS) so that a source checkout works uninstalled.
Each Kind names the module that makes it (`make(settings, embedder, options)`), when settings allow it
(`available`), whether its stream `revises` what it showed, and may declare its own options: a pydantic
model, filled from `[answer.options.KIND]` and checked when the answerer is made.

Settings, the CLI, the UI, the HTTP API and evals all read the kinds from `kinds()`. Importing this module
is light: an answerer's module (and what it needs, an LLM client say) loads only when one is made.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, Revision, abstain
from assistant.plugins import load_group

if TYPE_CHECKING:
    from assistant.settings import Settings
    from vectorstore.embedder import Embedder

GROUP = "docs_assistant.answerers"


@dataclass(frozen=True)
class Kind:
    """One answerer: its label for people, its module, whether settings allow it, and its own options."""

    label: str
    module: str  # has make(settings, embedder, options) -> Answerer
    available: Callable[[Settings], bool] = lambda settings: True
    needs: str = ""  # what `available` asks of the settings, for people
    options: type[BaseModel] | None = None  # filled from [answer.options.KIND]; None: it takes none
    # Every answerer streams (answerers/base.py). One that `revises` streams a draft that Revisions then
    # correct, so a client that can only append (the OpenAI stream) is sent its text once it is final.
    revises: bool = False


EXTRACTIVE = Kind("Extractive (offline, no LLM)", "assistant.answerers.extractive")
LLM = Kind("LLM with verified citations", "assistant.answerers.llm",
           lambda s: bool(s.llm.base_url or s.llm.gguf), "`[llm] base_url` or `[llm] gguf` (docs/llm.md)",
           revises=True)
TOP_PASSAGE = Kind("Top passage (baseline)", "assistant.answerers.top_passage")
BUILTINS = tuple(EntryPoint(name, f"assistant.answerers:{attr}", GROUP) for name, attr in
                 (("extractive", "EXTRACTIVE"), ("llm", "LLM"), ("top-passage", "TOP_PASSAGE")))


@cache
def kinds() -> dict[str, Kind]:
    """Every answerer kind: the built-ins, then each installed plugin's. A plugin that fails to load, or whose
    name is taken, is left out with a warning: it never stops the others (assistant/plugins.py)."""
    return load_group(GROUP, BUILTINS, "answerer plugin", kind=Kind)


def available_kinds(settings: Settings) -> list[str]:
    """The kinds these settings can answer with (the LLM only when one is configured)."""
    return [name for name, kind in kinds().items() if kind.available(settings)]


def make_answerer(kind: str, settings: Settings, embedder: Embedder) -> Answerer:
    """The answerer named `kind`, built from settings and the embedding model.

    It holds nothing of an index: the AnswerRequest brings the passages and the index's vocabulary, so
    one answerer serves every knowledge base."""
    from assistant.errors import ConfigError

    known = kinds()
    if kind not in known:
        raise ConfigError(f"Unknown answerer '{kind}': choose one of {', '.join(known)}")
    return import_module(known[kind].module).make(settings, embedder, options_of(kind, known[kind], settings))


def options_of(name: str, kind: Kind, settings: Settings) -> BaseModel | None:
    """The kind's own options, from `[answer.options.NAME]`; ConfigError naming the first bad one."""
    from assistant.errors import ConfigError

    given = settings.answer.options.get(name, {})
    if kind.options is None:
        if given:
            raise ConfigError(f"[answer.options.{name}]: the {name} answerer takes no options")
        return None
    try:
        return kind.options.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"[answer.options.{name}] {where}: {first['msg']}") from None


def describe(settings: Settings) -> list[dict]:
    """Each kind for people: label, whether these settings can use it, and its options with their values."""
    rows = []
    for name, kind in kinds().items():
        options = []
        if kind.options is not None:
            current = options_of(name, kind, settings)
            options = [{"name": key, "value": getattr(current, key), "help": field.description or ""}
                       for key, field in kind.options.model_fields.items()]
        rows.append({"kind": name, "label": kind.label, "available": kind.available(settings),
                     "needs": kind.needs, "options": options})
    return rows


def answerers_table() -> str:
    """The Markdown table of the answerers (docs/evals.md holds a copy; a test keeps it current)."""
    rows = ["| `--answerer` | what answers | needs |", "|---|---|---|"]
    rows += [f"| `{name}` | {kind.label} | {kind.needs or 'nothing more'} |" for name, kind in kinds().items()]
    return "\n".join(rows)


__all__ = ["GROUP", "AnswerRequest", "AnswerStream", "Answerer", "Kind", "Revision", "abstain", "answerers_table",
           "available_kinds", "describe", "kinds", "make_answerer", "options_of"]
