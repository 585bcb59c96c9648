"""Knowledge bases: named document sets in one home or on one Chroma server, a pair of collections each.

A name is checked and resolved here, and only here, into what its knowledge base owns: its Chroma
namespace (the collections `assistant_kb_NAME_chunks` and `assistant_kb_NAME_documents`) and its
folder under the home, `<home>/kb/NAME/`, for its BM25 index (`bm25/`) and uploaded copies
(`uploads/`). The default base, "default", is the one every home had before there were others: the
namespace `assistant`, `<home>/bm25/`, `<home>/uploads/`, so an existing home is used as it is.

A knowledge base exists while its collections do: every process on a home, and every replica on a
Chroma server, lists the same ones, with no registry to keep in step. The default base is made on
first use; any other only by `create()`, so a mistyped name is an error, never a new empty base.
The store's write lock covers every base in it: one writer at a time per store (Chroma's local store
is one sqlite file).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import KnowledgeBaseError, UnknownKnowledgeBase
from assistant.kbnames import check_name, is_name
from vectorstore.errors import MissingNamespace
from vectorstore.store import DEFAULT_NAMESPACE, Store

if TYPE_CHECKING:
    from assistant.settings import Settings

DEFAULT = "default"
_PREFIX = f"{DEFAULT_NAMESPACE}_kb_"


@dataclass(frozen=True)
class KnowledgeBase:
    """What a knowledge base name stands for."""

    name: str  # "default" for the default base
    namespace: str  # the prefix of its two Chroma collections
    root: Path  # its folder under the home: bm25/ and uploads/

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT

    @property
    def lexical_dir(self) -> Path:
        return self.root / "bm25"

    @property
    def label(self) -> str:
        """What messages call it."""
        return f"The knowledge base {self.name!r}"


def resolve(settings: Settings, name: str | None = None) -> KnowledgeBase:
    """The knowledge base `name` stands for in these settings' home and store (None: the default one).

    Only the name is checked: whether it exists is known when its store is opened (`open_store`)."""
    name = DEFAULT if name is None else check_name(name)
    if name == DEFAULT:
        return KnowledgeBase(DEFAULT, DEFAULT_NAMESPACE, Path(settings.home))
    return KnowledgeBase(name, _PREFIX + name, Path(settings.home) / "kb" / name)


def open_store(settings: Settings, base: KnowledgeBase, create: bool = False) -> Store:
    """The store of a knowledge base; UnknownKnowledgeBase when it does not exist (the default one always does)."""
    try:
        return Store.open(path=settings.store_dir, url=settings.chroma_url, namespace=base.namespace,
                          create=create or base.is_default, label=base.label, precision=settings.model.precision)
    except MissingNamespace:
        raise unknown(base.name) from None


def unknown(name: str) -> UnknownKnowledgeBase:
    """The one message for a name that is no knowledge base."""
    return UnknownKnowledgeBase(f"No knowledge base named {name!r}: `assistant kb list` shows them, "
                                f"`assistant kb create {name}` makes it")


def names(store: Store) -> list[str]:
    """The knowledge bases in this store (any of its bases will do): "default" first, then by name."""
    named = (namespace[len(_PREFIX):] for namespace in store.namespaces() if namespace.startswith(_PREFIX))
    return [DEFAULT] + sorted(name for name in named if is_name(name))


def create(settings: Settings, name: str) -> KnowledgeBase:
    """Make a new, empty knowledge base; KnowledgeBaseError if one of that name exists."""
    base = resolve(settings, name)
    if base.is_default:
        raise KnowledgeBaseError(f"{base.label} always exists: it is the one used without --kb")
    try:
        open_store(settings, base)
    except UnknownKnowledgeBase:
        open_store(settings, base, create=True)
        return base
    raise KnowledgeBaseError(f"{base.label} exists already: `assistant kb list` shows them")


def delete(settings: Settings, name: str) -> KnowledgeBase:
    """Delete a knowledge base: its documents and chunks, then its BM25 index and uploaded copies in this home.

    Never the default one; UnknownKnowledgeBase for one that does not exist. Files it was ingested
    from (other than the uploaded copies) are left alone."""
    base = resolve(settings, name)
    if base.is_default:
        raise KnowledgeBaseError(f"{base.label} cannot be deleted: remove its documents with "
                                 "`assistant remove SOURCE`")
    store = open_store(settings, base)
    with store.writer():
        store.drop()
    shutil.rmtree(base.root, ignore_errors=True)
    return base
