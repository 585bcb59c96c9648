"""The composition root's parts: what an Assistant is made of, made from settings, here and nowhere else.

`Assistant.open`, `with_kb` and `with_answerer` take their store, embedding model, lexical index and
answerer from here; `assistant.service.build` puts the one Service of a process over them.
"""
from __future__ import annotations

import logging
import threading
from typing import NamedTuple

from assistant.answerers import Answerer, make_answerer
from assistant.kb import KnowledgeBase, open_store, resolve
from assistant.settings import Settings
from vectorstore.embedder import Embedder
from vectorstore.lexical import LexicalIndex
from vectorstore.store import Store, peek_embedding

# The answerers' sentence embeddings are fp32 whatever the index's precision: the answerability model was
# fitted on fp32 similarities, and int8 ones cost SQuAD answers (bench/README.md#int8-embeddings-model-precision).
ANSWER_PRECISION = "fp32"
_SAID: set[str] = set()  # the indexes whose precision note this process has given
log = logging.getLogger(__name__)


class Index(NamedTuple):
    """One knowledge base's store, the model of the precision its vectors were made with, and its BM25 index."""

    store: Store
    embedder: Embedder
    lexical: LexicalIndex
    kb: KnowledgeBase


class Parts(NamedTuple):
    """Everything an Assistant is made of (its constructor's arguments, in order)."""

    settings: Settings
    store: Store
    embedder: Embedder
    lexical: LexicalIndex
    answerer: Answerer
    kb: KnowledgeBase


def parts(settings: Settings, kb: str | None = None, embedder: Embedder | None = None,
          preload: bool = False) -> Parts:
    """The parts of the assistant on knowledge base `kb` (see Assistant.open for `embedder` and `preload`)."""
    base = resolve(settings, kb)  # an invalid name is refused before anything loads
    # The store's own precision, when a local store says it cheaply, else the setting's: what to load.
    guess = (None if settings.chroma_url else peek_embedding(settings.store_dir, base.namespace)) \
        or settings.model.precision
    embedder = embedder or Embedder(settings.model_dir, batch_size=settings.embed_batch_size, precision=guess)
    if preload:  # overlaps importing chromadb and opening the store (2 cores)
        _preload(embedder.with_precision(guess), embedder.with_precision(ANSWER_PRECISION))
    index = open_index(settings, base, embedder)
    answerer = make_answerer(settings.answer.kind, settings, index.embedder.with_precision(ANSWER_PRECISION))
    if preload:
        _preload(index.embedder)
        _preload_answerer(answerer)
    return Parts(settings, index.store, index.embedder, index.lexical, answerer, base)


def open_index(settings: Settings, base: KnowledgeBase, embedder: Embedder) -> Index:
    """The knowledge base's store, and the embedder of the precision its vectors were made with: a store is
    searched and extended with that one, whatever the setting (which is said once when they differ)."""
    store = open_store(settings, base)
    # Said only to a user who chose a precision: an index made before int8 became the default is no news.
    if store.precision != settings.model.precision and "precision" in settings.model.model_fields_set:
        _say_precision_once(settings, base, store.precision)
    return Index(store, embedder.with_precision(store.precision), LexicalIndex(store, base.lexical_dir), base)


def with_kind(settings: Settings, kind: str) -> Settings:
    """The settings with `[answer] kind` = kind."""
    return settings.model_copy(update={"answer": settings.answer.model_copy(update={"kind": kind})})


def _preload(*embedders: Embedder) -> None:
    for embedder in dict.fromkeys(embedders):  # the same one once
        if not embedder.loaded:
            embedder.preload()


def _preload_answerer(answerer: Answerer) -> None:
    """Load the answerer's models in a background thread (not a daemon: see Embedder.preload)."""

    def load():
        try:
            answerer.load()
        except Exception:  # the first question loads it again, where the error can be reported
            pass

    if not answerer.loaded:
        threading.Thread(target=load, name="answerer-preload").start()


def _say_precision_once(settings: Settings, base: KnowledgeBase, precision: str) -> None:
    """Tell (once per index in a process) that the index's precision, not the setting, is used."""
    where = (settings.chroma_url or str(settings.home)) + ("" if base.is_default else f" (knowledge base {base.name})")
    if where in _SAID:
        return
    _SAID.add(where)
    switch = "a fresh home: assistant --home NEW_DIR ingest PATH" if base.is_default else \
        "a new knowledge base: assistant kb create NEW_NAME && assistant ingest --kb NEW_NAME PATH"
    log.warning("Note: the index at %s was built with %s embeddings, so it is searched and extended with %s; "
                "[model] precision = %s applies to new indexes. To switch, ingest your documents into %s",
                where, precision, precision, settings.model.precision, switch)
