"""The Chroma store: chunks with embeddings, plus one commit record per document.

A document becomes visible only when its record in the `documents` collection names
the sha256 its chunks carry. Chunks are written first and the record last, so a crash
mid-document leaves chunks no reader sees and the next sync sweeps them away.

A cleaned text longer than TEXT_PAGE characters is kept in page records beside its commit
record, written before it and named by the same sha256, so they too are seen only once
committed: one Chroma upsert of a 50 MB text held ~560 MB more, pages of TEXT_PAGE ~80 MB.

Callers use `Store` (facade.py); its parts are connection.py (client, collections, locks), generation.py
(the generation and the caches it keeps true), documents.py (commit records and text pages) and chunks.py
(chunk writes, reads and search). Each part keeps its own state; only the facade puts them together.
"""
from vectorstore.store.connection import DEFAULT_NAMESPACE, EMBEDDING_KEY, PAGE, open_client, peek_embedding
from vectorstore.store.documents import PAGE_OF
from vectorstore.store.facade import Store

__all__ = ["DEFAULT_NAMESPACE", "EMBEDDING_KEY", "PAGE", "PAGE_OF", "Store", "open_client", "peek_embedding"]
